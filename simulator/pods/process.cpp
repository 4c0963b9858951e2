#include "pods/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace mambogo::sim {

namespace {

// Everything the child needs, prepared before fork: after fork only async-signal-safe calls.
struct ChildPlan {
  std::vector<std::string> storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string cwd;
  std::string log;
  std::vector<std::string> cgroup_procs;
};

[[noreturn]] void child_fail(int fd, int err) {
  (void)!::write(fd, &err, sizeof err);
  ::_exit(127);
}

void join_cgroups(const std::vector<std::string>& files) {
  for (const auto& f : files) {
    const int fd = ::open(f.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) continue;
    (void)!::write(fd, "0", 1);  // "0" = the writing process
    ::close(fd);
  }
}

void child_common_setup(pid_t parent, const std::vector<std::string>& cgroups) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(1);  // the parent died before prctl
  // The parent may block signals in its threads; a container starts with a clean mask.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) ::signal(sig, SIG_DFL);
  join_cgroups(cgroups);
}

void close_other_fds() {
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
    for (int fd = 3; fd < 4096; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

std::string env_value(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& e : env)
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
      return e.substr(name.size() + 1);
  return {};
}

}  // namespace

std::optional<std::string> find_executable(const std::string& name, const std::string& path_list) {
  if (name.find('/') != std::string::npos) return name;
  std::stringstream dirs(path_list.empty() ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" : path_list);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) return candidate;
  }
  return std::nullopt;
}

pid_t spawn_process(const SpawnSpec& spec) {
  if (spec.argv.empty()) throw SpawnError("no command to run");
  auto program = find_executable(spec.argv[0], env_value(spec.env, "PATH"));
  if (!program) throw SpawnError("exec: \"" + spec.argv[0] + "\": executable file not found in $PATH");

  ChildPlan plan;
  plan.storage = spec.argv;
  for (auto& a : plan.storage) plan.argv.push_back(a.data());
  plan.argv.push_back(nullptr);
  std::vector<std::string> env = spec.env;
  for (auto& e : env) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  plan.cwd = spec.cwd.string();
  plan.log = spec.log.empty() ? std::string("/dev/null") : spec.log.string();
  for (const auto& c : spec.cgroup_procs) plan.cgroup_procs.push_back(c.string());

  const int log_fd = ::open(plan.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw SpawnError("cannot open log file " + plan.log + ": " + std::strerror(errno));
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
    ::close(log_fd);
    ::close(null_fd);
    throw SpawnError(std::string("pipe: ") + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    child_common_setup(parent, plan.cgroup_procs);
    if (::dup2(null_fd, STDIN_FILENO) < 0 || ::dup2(log_fd, STDOUT_FILENO) < 0 || ::dup2(log_fd, STDERR_FILENO) < 0)
      child_fail(error_pipe[1], errno);
    close_other_fds();
    if (!plan.cwd.empty() && ::chdir(plan.cwd.c_str()) != 0) child_fail(error_pipe[1], errno);
    ::execve(program->c_str(), plan.argv.data(), plan.envp.data());
    child_fail(error_pipe[1], errno);
  }
  const int fork_errno = errno;
  ::close(error_pipe[1]);
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) {
    ::close(error_pipe[0]);
    throw SpawnError(std::string("fork: ") + std::strerror(fork_errno));
  }
  ::setpgid(pid, pid);  // also from the parent: no window where a signal to the group misses it
  int child_errno = 0;
  ssize_t n;
  do n = ::read(error_pipe[0], &child_errno, sizeof child_errno);
  while (n < 0 && errno == EINTR);
  ::close(error_pipe[0]);
  if (n == sizeof child_errno) {
    int status;
    ::waitpid(pid, &status, 0);
    throw SpawnError("exec \"" + *program + "\" (cwd " + plan.cwd + "): " + std::strerror(child_errno));
  }
  return pid;
}

std::optional<int> run_to_completion(const SpawnSpec& spec, std::chrono::milliseconds timeout) {
  const pid_t pid = spawn_process(spec);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto status = try_reap(pid)) return exit_code_of(*status);
    if (std::chrono::steady_clock::now() >= deadline) {
      signal_group(pid, SIGKILL);
      int status;
      ::waitpid(pid, &status, 0);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

pid_t spawn_cpu_burner(int load_percent, const std::vector<std::filesystem::path>& cgroup_procs) {
  std::vector<std::string> cgroups;
  for (const auto& c : cgroup_procs) cgroups.push_back(c.string());
  const long busy_ns = std::clamp(load_percent, 1, 100) * 1'000'000L;  // of a 100 ms slice
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw SpawnError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    child_common_setup(parent, cgroups);
    for (int fd = 0; fd < 3; ++fd) ::close(fd);
    ::close_range(3, ~0U, 0);
    while (true) {
      timespec start, now;
      ::clock_gettime(CLOCK_MONOTONIC, &start);
      volatile unsigned long sink = 0;
      do {
        for (int i = 0; i < 10000; ++i) sink = sink + static_cast<unsigned long>(i);
        ::clock_gettime(CLOCK_MONOTONIC, &now);
      } while ((now.tv_sec - start.tv_sec) * 1'000'000'000L + (now.tv_nsec - start.tv_nsec) < busy_ns);
      if (busy_ns < 100'000'000L) {
        timespec rest{0, 100'000'000L - busy_ns};
        ::nanosleep(&rest, nullptr);
      }
    }
  }
  ::setpgid(pid, pid);
  return pid;
}

std::optional<int> try_reap(pid_t pid) {
  int status = 0;
  pid_t r;
  do r = ::waitpid(pid, &status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == pid) return status;
  if (r < 0 && errno == ECHILD) return 0;  // already reaped elsewhere: treat as a clean exit
  return std::nullopt;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 0;
}

void signal_group(pid_t pgid, int sig) {
  if (pgid > 1) ::kill(-pgid, sig);
}

std::optional<ProcSample> read_proc(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // The command name may contain spaces and ')': fields start after the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 2));
  std::string state;
  long ppid, pgrp, session, tty, tpgid;
  unsigned long flags, minflt, cminflt, majflt, cmajflt, utime, stime;
  long cutime, cstime, priority, nice, threads, itreal;
  unsigned long long starttime;
  unsigned long vsize;
  long rss;
  fields >> state >> ppid >> pgrp >> session >> tty >> tpgid >> flags >> minflt >> cminflt >> majflt >> cmajflt >>
      utime >> stime >> cutime >> cstime >> priority >> nice >> threads >> itreal >> starttime >> vsize >> rss;
  if (!fields) return std::nullopt;
  static const long ticks = ::sysconf(_SC_CLK_TCK);
  static const long page = ::sysconf(_SC_PAGESIZE);
  ProcSample s;
  s.pid = pid;
  s.pgrp = static_cast<pid_t>(pgrp);
  s.cpu_ns = (utime + stime) * (1'000'000'000ULL / static_cast<unsigned long long>(ticks));
  s.rss_bytes = static_cast<std::uint64_t>(std::max(0L, rss)) * static_cast<std::uint64_t>(page);
  if (state == "Z") s.rss_bytes = 0;
  return s;
}

std::vector<ProcSample> scan_proc() {
  std::vector<ProcSample> out;
  DIR* dir = ::opendir("/proc");
  if (!dir) return out;
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    if (auto s = read_proc(static_cast<pid_t>(pid))) out.push_back(*s);
  }
  ::closedir(dir);
  return out;
}

}  // namespace mambogo::sim
