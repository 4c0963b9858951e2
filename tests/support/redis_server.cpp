#include "redis_server.h"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace mambogo::test {
namespace {

using namespace std::chrono_literals;

// The kernel picks a free port; the small window until redis binds it is covered by the
// retry in the constructor.
int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string("bind 127.0.0.1:0: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

class Socket {
 public:
  Socket(int port, std::chrono::milliseconds timeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect 127.0.0.1:" + std::to_string(port) + ": " +
                               std::strerror(errno));
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  void send_all(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
      sent += static_cast<size_t>(n);
    }
  }

  std::string line() {
    while (true) {
      auto end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        std::string l = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return l;
      }
      fill();
    }
  }

  std::string bytes(size_t n) {
    while (buffer_.size() < n + 2) fill();
    std::string b = buffer_.substr(0, n);
    buffer_.erase(0, n + 2);
    return b;
  }

 private:
  void fill() {
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n == 0) throw std::runtime_error("redis closed the connection");
    if (n < 0) throw std::runtime_error(std::string("recv: ") + std::strerror(errno));
    buffer_.append(chunk, static_cast<size_t>(n));
  }

  int fd_ = -1;
  std::string buffer_;
};

std::string read_reply(Socket& s) {
  const std::string l = s.line();
  if (l.empty()) throw std::runtime_error("empty RESP line");
  const std::string rest = l.substr(1);
  switch (l[0]) {
    case '+':
    case ':': return rest;
    case '-': throw std::runtime_error("redis error: " + rest);
    case '$': {
      const long long n = std::stoll(rest);
      return n < 0 ? "(nil)" : s.bytes(static_cast<size_t>(n));
    }
    case '*': {
      const long long n = std::stoll(rest);
      std::string joined;
      for (long long i = 0; i < n; ++i) joined += (i ? "\n" : "") + read_reply(s);
      return n < 0 ? "(nil)" : joined;
    }
  }
  throw std::runtime_error("unexpected RESP line: " + l);
}

}  // namespace

RedisServer::RedisServer(std::vector<std::string> extra_args) : extra_args_(std::move(extra_args)) {
  std::string templ = (std::filesystem::temp_directory_path() / "mambogo-redis.XXXXXX").string();
  if (!::mkdtemp(templ.data())) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  dir_ = templ;
  // Another process may take the port between our probe and redis's bind: try a few.
  for (int attempt = 0;; ++attempt) {
    port_ = free_loopback_port();
    try {
      start();
      return;
    } catch (const std::exception&) {
      stop(1s);
      if (attempt == 2) {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
        throw;
      }
    }
  }
}

RedisServer::~RedisServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void RedisServer::start(std::chrono::milliseconds wait) {
  if (running()) throw std::runtime_error("redis-server already running");
  std::vector<std::string> args = {"redis-server",  "--port",       std::to_string(port_),
                                   "--bind",        "127.0.0.1",    "--save",
                                   "",              "--appendonly", "no",
                                   "--daemonize",   "no",           "--dir",
                                   dir_,            "--pidfile",    dir_ + "/redis.pid",
                                   "--logfile",     dir_ + "/redis.log"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // Never inherit the test's stdout/stderr: ctest waits for those pipes to close, so a server
  // orphaned by a crashed test would hold the whole run until its timeout.
  const std::string console = dir_ + "/redis.console";
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, console.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, "redis-server", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error(std::string("cannot start redis-server: ") + std::strerror(rc));
  pid_ = pid;

  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::string last_error;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited during start-up on port " +
                               std::to_string(port_) + ":\n" + log_tail());
    }
    try {
      if (query({"PING"}, 200ms) == "PONG") return;
    } catch (const std::exception& e) {
      last_error = e.what();
    }
    std::this_thread::sleep_for(10ms);
  }
  throw std::runtime_error("redis-server on port " + std::to_string(port_) + " did not answer PING within " +
                           std::to_string(wait.count()) + " ms (" + last_error + "):\n" + log_tail());
}

void RedisServer::stop(std::chrono::milliseconds wait) {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(5ms);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string RedisServer::query(const std::vector<std::string>& args,
                               std::chrono::milliseconds timeout) const {
  Socket s(port_, timeout);
  std::string request = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) request += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  s.send_all(request);
  return read_reply(s);
}

long long RedisServer::info_field(const std::string& section, const std::string& field) const {
  std::istringstream in(query({"INFO", section}));
  std::string line;
  const std::string prefix = field + ":";
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return std::stoll(line.substr(prefix.size()));
  return -1;
}

long long RedisServer::command_calls(const std::string& command) const {
  // cmdstat_get:calls=3,usec=...,
  std::istringstream in(query({"INFO", "commandstats"}));
  std::string line;
  const std::string prefix = "cmdstat_" + command + ":calls=";
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return std::stoll(line.substr(prefix.size()));
  return 0;
}

std::string RedisServer::log_tail() const {
  std::ifstream in(dir_ + "/redis.log");
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::string tail;
  for (size_t i = lines.size() > 10 ? lines.size() - 10 : 0; i < lines.size(); ++i) tail += lines[i] + "\n";
  return tail.empty() ? "(empty log)" : tail;
}

}  // namespace mambogo::test
