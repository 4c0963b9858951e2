// The OS side of the pod runtime: starting a container's process (fork/exec in its own
// process group, tied to mambogo-cluster's life with PR_SET_PDEATHSIG), signalling and reaping
// it, CPU burners for StressChaos, and reading /proc for usage.
//
// Every function may be called from any thread. A process started here dies with the THREAD
// that started it (PDEATHSIG follows the forking thread), so a caller starts processes from a
// thread that outlives them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mambogo::sim {

class SpawnError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SpawnSpec {
  std::vector<std::string> argv;                    // argv[0] without '/' is looked up in env's PATH
  std::vector<std::string> env;                     // "NAME=value"
  std::filesystem::path cwd;
  std::filesystem::path log;                        // stdout+stderr appended here; empty: /dev/null
  std::vector<std::filesystem::path> cgroup_procs;  // cgroup.procs files the process joins
};

// Starts the process as the leader of a new process group (pgid == pid), stdin /dev/null, all
// other descriptors closed, SIGKILL when the starting thread dies. Throws SpawnError when it
// could not be started ("exec \"x\": executable file not found in $PATH", ...).
pid_t spawn_process(const SpawnSpec& spec);

// Runs spec to completion within timeout; returns its exit code (128+signal when killed), or
// nullopt when the timeout passed (the process group is then killed). Throws SpawnError.
std::optional<int> run_to_completion(const SpawnSpec& spec, std::chrono::milliseconds timeout);

// A process that burns `load_percent` of one CPU (busy/sleep in 100 ms slices) until killed,
// in its own process group, in the given cgroups. Throws SpawnError.
pid_t spawn_cpu_burner(int load_percent, const std::vector<std::filesystem::path>& cgroup_procs);

// waitpid(pid, WNOHANG): the raw wait status once the child has exited, else nullopt.
std::optional<int> try_reap(pid_t pid);
// The container exit code Kubernetes reports: the exit status, or 128 + signal.
int exit_code_of(int wait_status);
// Sends sig to the process group (ignores a group that no longer exists).
void signal_group(pid_t pgid, int sig);

// One line of /proc/<pid>/stat.
struct ProcSample {
  pid_t pid = 0;
  pid_t pgrp = 0;
  std::uint64_t cpu_ns = 0;     // utime + stime
  std::uint64_t rss_bytes = 0;
};
std::vector<ProcSample> scan_proc();
std::optional<ProcSample> read_proc(pid_t pid);

// argv[0] as execve needs it: unchanged when it has a '/', else the first executable match in
// the ':'-separated path list. nullopt when none.
std::optional<std::string> find_executable(const std::string& name, const std::string& path_list);

}  // namespace mambogo::sim
