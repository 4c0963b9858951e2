#include "pg_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace mambogo::testing {
namespace {

namespace fs = std::filesystem;

// A port the kernel just handed out on 127.0.0.1. Another process could take it before the
// server binds it; the window is milliseconds and the start then fails loudly, not silently.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("pg_cluster: socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("pg_cluster: cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool running_as_root() { return ::geteuid() == 0; }

}  // namespace

bool PgCluster::available(const std::string& bin_dir) {
  for (const char* tool : {"initdb", "pg_ctl", "pg_basebackup"})
    if (::access((bin_dir + "/" + tool).c_str(), X_OK) != 0) return false;
  return !running_as_root() || ::getpwnam("postgres") != nullptr;
}

PgCluster::PgCluster(Options options) : options_(std::move(options)) {
  char tmpl[] = "/tmp/mambogo-pg-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("pg_cluster: mkdtemp failed");
  base_ = tmpl;
  try {
    // The server user must traverse and write the base dir; data dirs are made 700 by initdb.
    ::chmod(base_.c_str(), 0755);
    if (running_as_root()) {
      const passwd* pg = ::getpwnam("postgres");
      if (!pg) throw std::runtime_error("pg_cluster: running as root but there is no postgres user");
      if (::chown(base_.c_str(), pg->pw_uid, pg->pw_gid) != 0)
        throw std::runtime_error("pg_cluster: chown of " + base_ + " failed");
    }
    const std::string bin = options_.bin_dir;
    const std::string timeout = std::to_string(options_.start_timeout.count());
    run("initdb", {bin + "/initdb", "-D", base_ + "/primary", "-U", "postgres", "-A", "trust", "-E",
                   "UTF8", "--locale=C.UTF-8", "--no-sync"});
    primary_port_ = free_port();
    {
      std::ofstream conf(base_ + "/primary/postgresql.conf", std::ios::app);
      conf << "port = " << primary_port_ << "\n"
           << "listen_addresses = '127.0.0.1'\n"
           << "unix_socket_directories = '" << base_ << "'\n"
           << "fsync = off\nfull_page_writes = off\n"
           << "wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\n"
           << "max_connections = 100\nshared_buffers = 32MB\n";
      if (!conf) throw std::runtime_error("pg_cluster: cannot write postgresql.conf");
    }
    run("start primary", {bin + "/pg_ctl", "-D", base_ + "/primary", "-l", base_ + "/primary.log",
                          "-w", "-t", timeout, "start"});
    primary_running_ = true;
    if (options_.with_replica) {
      run("pg_basebackup", {bin + "/pg_basebackup", "-h", "127.0.0.1", "-p", std::to_string(primary_port_),
                            "-U", "postgres", "-D", base_ + "/replica", "-R", "-X", "stream", "-c", "fast"});
      replica_port_ = free_port();
      {
        std::ofstream conf(base_ + "/replica/postgresql.auto.conf", std::ios::app);
        conf << "port = " << replica_port_ << "\n";
        if (!conf) throw std::runtime_error("pg_cluster: cannot write the replica's postgresql.auto.conf");
      }
      start_replica();
    }
  } catch (...) {
    cleanup();
    throw;
  }
}

PgCluster::~PgCluster() { cleanup(); }

std::string PgCluster::conninfo(int port) const {
  return "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=postgres connect_timeout=2";
}

void PgCluster::stop_replica() {
  if (!replica_running_) return;
  run("stop replica", {options_.bin_dir + "/pg_ctl", "-D", base_ + "/replica", "-m", "fast", "-w", "-t",
                       std::to_string(options_.start_timeout.count()), "stop"});
  replica_running_ = false;
}

void PgCluster::start_replica() {
  if (replica_running_) return;
  run("start replica", {options_.bin_dir + "/pg_ctl", "-D", base_ + "/replica", "-l", base_ + "/replica.log",
                        "-w", "-t", std::to_string(options_.start_timeout.count()), "start"});
  replica_running_ = true;
}

std::string PgCluster::tail(const std::string& file) const {
  std::ifstream in(file);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  constexpr std::size_t kTail = 2000;
  if (text.size() > kTail) text = "..." + text.substr(text.size() - kTail);
  return "\n--- " + file + " ---\n" + text;
}

void PgCluster::run(const std::string& step, std::initializer_list<std::string> args) {
  std::vector<std::string> argv;
  if (running_as_root()) argv = {"/usr/sbin/runuser", "-u", "postgres", "--"};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string out_file = base_ + "/commands.log";

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("pg_cluster: fork failed at step " + step);
  if (pid == 0) {
    const int fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    // The server user cannot read the test's working directory; start from its own.
    if (::chdir(base_.c_str()) != 0) ::_exit(126);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  // pg_ctl -w carries its own timeout; this outer bound catches anything else that hangs.
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout + std::chrono::seconds(10);
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) throw std::runtime_error("pg_cluster: waitpid failed at step " + step);
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      throw std::runtime_error("pg_cluster: step '" + step + "' timed out" + tail(out_file) +
                               tail(base_ + "/primary.log") + tail(base_ + "/replica.log"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("pg_cluster: step '" + step + "' failed (status " + std::to_string(status) + ")" +
                             tail(out_file) + tail(base_ + "/primary.log") + tail(base_ + "/replica.log"));
}

void PgCluster::cleanup() noexcept {
  auto stop = [&](const std::string& name, bool& running) {
    if (!running) return;
    try {
      run("stop " + name, {options_.bin_dir + "/pg_ctl", "-D", base_ + "/" + name, "-m", "fast", "-w", "-t", "10",
                           "stop"});
    } catch (...) {
      // Last resort: the postmaster's pid is the first line of postmaster.pid.
      std::ifstream pidfile(base_ + "/" + name + "/postmaster.pid");
      long pid = 0;
      if (pidfile >> pid && pid > 1) ::kill(static_cast<pid_t>(pid), SIGKILL);
    }
    running = false;
  };
  if (!base_.empty()) {
    stop("replica", replica_running_);
    stop("primary", primary_running_);
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
}

}  // namespace mambogo::testing
