// mambogo-cluster: a Kubernetes-shaped control plane that runs packaging/kubernetes/ on this
// machine.
//
//   mambogo-cluster up [--profile full|embedded] [-f DIR] [--state-dir DIR] [--foreground]
//   mambogo-cluster down [--state-dir DIR]
//   mambogo-cluster status [--state-dir DIR]
//
// `up` starts the control plane in the background (a daemon whose log is <state>/cluster.log),
// prints progress per pod until every pod is Ready, then how to use it, and returns; it fails
// with the pod that is not Ready and why. `down` stops it gracefully; no pod process survives.
#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "cluster/control_plane.h"
#include "pods/image_map.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using mambogo::sim::ClusterOptions;
using mambogo::sim::ControlPlane;

fs::path self_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

// Data files: next to an installed binary (../share/mambogo/...), else the source tree this
// binary was built from.
fs::path data_path(const std::string& relative_installed, const std::string& relative_source) {
  if (const char* dir = std::getenv("MAMBOGO_DATA_DIR")) return fs::path(dir) / relative_installed;
  const fs::path installed = self_dir() / ".." / "share" / "mambogo" / relative_installed;
  if (fs::exists(installed)) return fs::weakly_canonical(installed);
  return fs::path(MAMBOGO_SOURCE_DIR) / relative_source;
}

fs::path default_bin_dir() {
  if (fs::exists(self_dir() / "mambogo-gateway")) return self_dir();
  return MAMBOGO_BUILD_BIN_DIR;  // the build tree's bin/ with links to every service binary
}

// $XDG_CACHE_HOME/mambogo (~/.cache/mambogo): what may be reused by every cluster of this user.
fs::path default_cache_dir() {
  if (const char* dir = std::getenv("XDG_CACHE_HOME"); dir && *dir) return fs::path(dir) / "mambogo";
  const char* home = std::getenv("HOME");
  return home ? fs::path(home) / ".cache" / "mambogo" : fs::path();
}

fs::path default_state_dir() {
  if (const char* dir = std::getenv("MAMBOGO_STATE_DIR")) return fs::path(dir) / "cluster";
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : "/tmp") / ".local" / "share" / "mambogo" / "cluster";
}

bool full_profile_available() {
  std::error_code ec;
  const bool redis = fs::exists("/usr/bin/redis-server", ec);
  bool postgres = false;
  if (fs::exists("/usr/lib/postgresql", ec))
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec))
      postgres = postgres || fs::exists(entry.path() / "bin" / "postgres", ec);
  return redis && postgres;
}

std::optional<pid_t> running_pid(const fs::path& state) {
  std::ifstream in(state / "cluster.pid");
  pid_t pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  if (::kill(pid, 0) != 0) return std::nullopt;
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
  std::string argv0;
  std::getline(cmdline, argv0, '\0');
  if (argv0.find("mambogo-cluster") == std::string::npos) return std::nullopt;  // a reused pid
  return pid;
}

void print_usage_hint(const fs::path& state, const std::string& gateway) {
  std::cout << "\nmambogo-cluster is up.\n"
            << "  KUBECONFIG=" << (state / "kubeconfig").string() << " kubectl get pods\n";
  if (!gateway.empty()) std::cout << "  gateway: " << gateway << "\n";
  std::cout << "  tokens:  " << (state / "auth" / "user.jwt").string() << " (user), "
            << (state / "auth" / "admin.jwt").string() << " (admin)\n"
            << "  stop:    mambogo-cluster down --state-dir " << state.string() << "\n";
}

// Blocks SIGINT and SIGTERM in this thread (and so in every thread started after) and returns
// when one arrives.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Runs the control plane in this process until SIGINT/SIGTERM. `report` gets progress lines,
// then "READY <gateway>" or "FAILED <why>". Returns the exit code.
int run_control_plane(const ClusterOptions& options, std::chrono::milliseconds timeout,
                      const std::function<void(const std::string&)>& report) {
  const sigset_t stop_signals = block_stop_signals();
  ControlPlane plane(options);
  try {
    plane.start();
    report("API server on https://127.0.0.1:" + std::to_string(plane.api_port()) + " (profile " +
           options.profile + ", state " + options.state_dir.string() + ")");
    plane.deploy(report);
    const std::string why = plane.wait_ready(timeout, report);
    if (!why.empty()) {
      report("FAILED not ready after " + std::to_string(timeout.count() / 1000) + " s: " + why);
      return 1;
    }
    report("READY " + plane.gateway_url());
  } catch (const std::exception& e) {
    report(std::string("FAILED ") + e.what());
    return 1;
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::cout << "mambogo-cluster: stopping (signal " << signal << ")" << std::endl;
  plane.stop();
  return 0;
}

// As root, the full profile's PostgreSQL runs as the postgres user, which must reach its data
// under the state directory: every parent needs o+x. /root (0700) is the usual culprit.
std::optional<fs::path> untraversable_parent(const fs::path& dir) {
  if (::geteuid() != 0) return std::nullopt;
  for (fs::path p = fs::absolute(dir); p.has_relative_path(); p = p.parent_path()) {
    std::error_code ec;
    const auto perms = fs::status(p, ec).permissions();
    if (!ec && (perms & fs::perms::others_exec) == fs::perms::none) return p;
  }
  return std::nullopt;
}

int up(ClusterOptions options, bool foreground, std::chrono::milliseconds timeout) {
  fs::create_directories(options.state_dir);
  if (options.profile == "full") {
    if (auto blocked = untraversable_parent(options.state_dir)) {
      std::cerr << "mambogo-cluster: the full profile's PostgreSQL runs as the postgres user, which cannot reach "
                << options.state_dir.string() << " (" << blocked->string() << " is not traversable by others).\n"
                << "  Use a state directory outside it (e.g. --state-dir /var/lib/mambogo/cluster), "
                   "chmod o+x " << blocked->string() << ", or --profile embedded.\n";
      return 2;
    }
  }
  if (auto pid = running_pid(options.state_dir)) {
    std::cout << "mambogo-cluster is already running (pid " << *pid << ")\n";
    print_usage_hint(options.state_dir, "http://127.0.0.1:8080");
    return 0;
  }
  if (foreground) {
    // Attached means attached: when whoever started us dies (a console or a test that crashed),
    // we get SIGTERM and stop every pod, instead of running on as an orphan.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    std::ofstream(options.state_dir / "cluster.pid") << ::getpid() << "\n";
    const int code = run_control_plane(options, timeout, [&](const std::string& line) {
      std::cout << line << std::endl;
      if (line.rfind("READY ", 0) == 0) print_usage_hint(options.state_dir, line.substr(6));
    });
    fs::remove(options.state_dir / "cluster.pid");
    return code;
  }

  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {  // the daemon
    ::close(pipe_fds[0]);
    ::setsid();
    const int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, STDIN_FILENO);
    const int log = ::open((options.state_dir / "cluster.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    std::ofstream(options.state_dir / "cluster.pid") << ::getpid() << "\n";
    int notify = pipe_fds[1];
    const int code = run_control_plane(options, timeout, [&](const std::string& line) {
      std::cout << line << std::endl;
      if (notify < 0) return;
      const std::string text = line + "\n";
      if (::write(notify, text.data(), text.size()) < 0 || line.rfind("READY ", 0) == 0 || line.rfind("FAILED ", 0) == 0) {
        ::close(notify);
        notify = -1;
      }
    });
    fs::remove(options.state_dir / "cluster.pid");
    std::_Exit(code);
  }
  ::close(pipe_fds[1]);
  FILE* in = ::fdopen(pipe_fds[0], "r");
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, in)) {
    std::string line(buffer);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    if (line.rfind("READY ", 0) == 0) {
      print_usage_hint(options.state_dir, line.substr(6));
      return 0;
    }
    if (line.rfind("FAILED ", 0) == 0) {
      std::cerr << "mambogo-cluster: " << line.substr(7) << "\n(log: " << (options.state_dir / "cluster.log").string()
                << "; stopping)\n";
      ::kill(child, SIGTERM);
      ::waitpid(child, nullptr, 0);
      return 1;
    }
    std::cout << line << std::endl;
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  std::cerr << "mambogo-cluster: the control plane exited before it was ready; see "
            << (options.state_dir / "cluster.log").string() << "\n";
  return 1;
}

int down(const fs::path& state) {
  auto pid = running_pid(state);
  if (!pid) {
    std::cout << "mambogo-cluster is not running (state " << state.string() << ")\n";
    return 0;
  }
  std::cout << "stopping mambogo-cluster (pid " << *pid << ")..." << std::flush;
  ::kill(*pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  while (::kill(*pid, 0) == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100ms);
  if (::kill(*pid, 0) == 0) {
    ::kill(*pid, SIGKILL);  // its pods die with it (they are bound to it by PR_SET_PDEATHSIG)
    std::cout << " killed after 90 s\n";
    return 1;
  }
  std::cout << " stopped\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mambogo-cluster: a Kubernetes-shaped control plane that runs Mambogo's manifests on this machine"};
  app.require_subcommand(1);
  fs::path state = default_state_dir();

  ClusterOptions options;
  options.manifests = data_path("kubernetes", "packaging/kubernetes");
  options.bin_dir = default_bin_dir();
  options.images = data_path("images/images.yaml", "simulator/images/images.yaml");
  options.cache_dir = default_cache_dir();
  options.profile = full_profile_available() ? "full" : "embedded";
  bool foreground = false;
  double timeout_s = 120, hpa_sync_s = 15;
  int api_port = 6443;

  auto* up_cmd = app.add_subcommand("up", "start the cluster and wait until every pod is Ready");
  up_cmd->add_option("-f,--manifests", options.manifests, "manifest directory (kustomization with profile overlays)")
      ->capture_default_str()
      ->check(CLI::ExistingPath);
  up_cmd->add_option("--profile", options.profile, "full (Redis + PostgreSQL with a replica) or embedded (SQLite)")
      ->check(CLI::IsMember({"full", "embedded"}))
      ->capture_default_str();
  up_cmd->add_option("--state-dir", state, "where the store, logs, volumes and kubeconfig live")
      ->capture_default_str();
  up_cmd->add_flag("--foreground", foreground, "stay attached (Ctrl-C stops)");
  up_cmd->add_option("--api-port", api_port, "API server port (0: any free one)")->check(CLI::Range(0, 65535));
  up_cmd->add_option("--timeout", timeout_s, "seconds to wait for every pod to be Ready")->check(CLI::PositiveNumber);
  up_cmd->add_option("--hpa-sync-period", hpa_sync_s, "HPA controller period in seconds (Kubernetes: 15)")
      ->check(CLI::PositiveNumber);
  up_cmd->add_option("--bin-dir", options.bin_dir, "directory of the mambogo-* service binaries")->capture_default_str();
  up_cmd->add_option("--images", options.images, "image map (image name → local program)")
      ->check(CLI::ExistingFile)
      ->capture_default_str();
  up_cmd->add_option("--ip-prefix", options.ip_prefix,
                     "first two octets of every address (pods .1.N, services .2.N, gateway .0.1); "
                     "two clusters on one machine need two prefixes")
      ->envname("MAMBOGO_IP_PREFIX")
      ->check([](const std::string& p) {
        int a = 0, b = 0;
        char dot = 0, extra = 0;
        return std::sscanf(p.c_str(), "%d%c%d%c", &a, &dot, &b, &extra) == 3 && a == 127 && dot == '.' && b >= 0 &&
                       b <= 255
                   ? std::string()
                   : std::string("must be 127.N (loopback only)");
      });
  up_cmd->add_option("--cache-dir", options.cache_dir,
                     "what clusters may reuse (PostgreSQL's initdb template); empty: no cache")
      ->capture_default_str();
  bool no_cgroups = false;
  up_cmd->add_flag("--no-cgroups", no_cgroups, "do not enforce CPU limits through cgroups");

  auto* down_cmd = app.add_subcommand("down", "stop the cluster and every pod");
  down_cmd->add_option("--state-dir", state, "state directory of the cluster to stop");
  auto* status_cmd = app.add_subcommand("status", "say whether the cluster runs");
  status_cmd->add_option("--state-dir", state, "state directory");

  CLI11_PARSE(app, argc, argv);
  try {
    if (up_cmd->parsed()) {
      options.state_dir = fs::absolute(state);
      options.api_port = static_cast<std::uint16_t>(api_port);
      options.hpa_sync_period = std::chrono::milliseconds(static_cast<long>(hpa_sync_s * 1000));
      options.cgroups = !no_cgroups;
      return up(options, foreground, std::chrono::milliseconds(static_cast<long>(timeout_s * 1000)));
    }
    if (down_cmd->parsed()) return down(fs::absolute(state));
    if (status_cmd->parsed()) {
      auto pid = running_pid(fs::absolute(state));
      std::cout << (pid ? "running (pid " + std::to_string(*pid) + "), KUBECONFIG=" +
                              (fs::absolute(state) / "kubeconfig").string()
                        : std::string("not running"))
                << "\n";
      return pid ? 0 : 3;
    }
  } catch (const std::exception& e) {
    std::cerr << "mambogo-cluster: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
