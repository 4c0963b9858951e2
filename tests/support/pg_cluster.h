// A real PostgreSQL 15 primary and (optionally) a streaming replica for integration tests,
// in a private temp dir on free loopback ports: initdb, pg_ctl start, pg_basebackup -R.
// When the test runs as root the servers run as the `postgres` user (runuser), as
// TOOLCHAIN.md section 6 measured; otherwise as the current user.
//
// Every wait is bounded (start_timeout). Failures throw std::runtime_error whose text names
// the failed step and carries the tail of the command output and the server log.
//
// Ownership: the object owns the servers and the directory; the destructor stops both
// servers (fast shutdown, then SIGKILL if that fails) and deletes the directory.
// Thread-safety: none; one test thread drives it.
#pragma once

#include <chrono>
#include <string>

namespace mambogo::testing {

struct PgClusterOptions {
  bool with_replica = true;
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  std::chrono::seconds start_timeout{30};  // bound of every start/stop/basebackup step
};

class PgCluster {
 public:
  using Options = PgClusterOptions;

  // True when bin_dir holds initdb, pg_ctl and pg_basebackup (tests QSKIP otherwise).
  static bool available(const std::string& bin_dir = PgClusterOptions{}.bin_dir);

  PgCluster() : PgCluster(PgClusterOptions{}) {}
  explicit PgCluster(Options options);
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // libpq connection strings (host=127.0.0.1 port=N user=postgres dbname=postgres
  // connect_timeout=2).
  std::string primary_conninfo() const { return conninfo(primary_port_); }
  std::string replica_conninfo() const { return conninfo(replica_port_); }
  int primary_port() const { return primary_port_; }
  int replica_port() const { return replica_port_; }
  const std::string& base_dir() const { return base_; }

  // Fast shutdown / start of the replica (precondition: with_replica). start_replica()
  // returns once the server accepts connections.
  void stop_replica();
  void start_replica();
  bool replica_running() const { return replica_running_; }

 private:
  std::string conninfo(int port) const;
  // Runs argv (as postgres when root) with output to base_/<log>; throws on failure/timeout.
  void run(const std::string& step, std::initializer_list<std::string> argv);
  std::string tail(const std::string& file) const;
  void cleanup() noexcept;

  const Options options_;
  std::string base_;
  int primary_port_ = 0;
  int replica_port_ = 0;
  bool primary_running_ = false;
  bool replica_running_ = false;
};

}  // namespace mambogo::testing
