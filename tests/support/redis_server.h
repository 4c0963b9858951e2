// A real redis-server for integration tests: its own temporary directory, a free loopback
// port, no persistence (--save "" --appendonly no), a pidfile and a logfile. The server runs
// in the foreground as our child, so stop() reaps it and no zombie or stray server survives
// the test. stop() and start() again reuse the same port, which is how outage tests make
// Redis disappear and come back under a client that keeps its address.
//
// The small query() client speaks RESP over its own socket on purpose: the oracle a test
// asks ("how many GET calls did the server see?") shares no code with the client under test.
//
// Errors: every failure (no redis-server binary, no port, no PONG within the bounded wait)
// throws std::runtime_error with the reason and the tail of the server's log.
// Thread-safety: none; drive one RedisServer from the test thread.
#pragma once

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace mambogo::test {

class RedisServer {
 public:
  // Starts at once. extra_args are appended to the command line ("--maxmemory", "1mb").
  explicit RedisServer(std::vector<std::string> extra_args = {});
  ~RedisServer();  // SIGKILL if still running, reap, remove the temporary directory
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts on the same port; returns once PING answers PONG (at most `wait`).
  // Precondition: not running.
  void start(std::chrono::milliseconds wait = std::chrono::seconds(5));
  // SIGTERM, then waits for the exit (at most `wait`, then SIGKILL). Idempotent.
  void stop(std::chrono::milliseconds wait = std::chrono::seconds(5));
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

  // One command on a fresh connection, reply rendered as text: a status or bulk string as
  // is, an integer in decimal, nil as "(nil)", an array as its elements joined by '\n'.
  // An error reply or no answer throws std::runtime_error.
  std::string query(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(2)) const;
  // A field of INFO <section> ("stats", "total_connections_received"); -1 when absent.
  long long info_field(const std::string& section, const std::string& field) const;
  // `calls` of one command in INFO commandstats ("get"); 0 when never called.
  long long command_calls(const std::string& command) const;

 private:
  std::string log_tail() const;

  std::vector<std::string> extra_args_;  // constant after construction
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace mambogo::test
