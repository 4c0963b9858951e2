#include "pods/cgroups.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace mambogo::sim {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kPeriodUs = 100'000;

void write_file(const fs::path& file, const std::string& text) {
  std::ofstream out(file);
  out << text;
  out.flush();
  if (!out) throw std::runtime_error("cannot write \"" + text + "\" to " + file.string());
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<pid_t> read_pids(const fs::path& procs) {
  std::vector<pid_t> out;
  std::ifstream in(procs);
  pid_t pid;
  while (in >> pid) out.push_back(pid);
  return out;
}

// Kills every process in dir and below, then removes the directories bottom-up.
void kill_and_remove(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_directory(ec)) kill_and_remove(entry.path());
  for (int attempt = 0; attempt < 50; ++attempt) {
    const auto pids = read_pids(dir / "cgroup.procs");
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

std::unique_ptr<CpuCgroups> CpuCgroups::open(const fs::path& root, const std::string& name, std::string& why_not) {
  std::unique_ptr<CpuCgroups> cg(new CpuCgroups());
  std::error_code ec;
  try {
    if (fs::exists(root / "cpu" / "cpu.cfs_quota_us", ec)) {
      const fs::path cpu = fs::canonical(root / "cpu") / name;
      fs::create_directories(cpu);
      cg->bases_.push_back(cpu);
      if (fs::exists(root / "cpuacct" / "cpuacct.usage", ec)) {
        const fs::path acct = fs::canonical(root / "cpuacct") / name;
        if (acct != cpu) {
          fs::create_directories(acct);
          cg->bases_.push_back(acct);
        }
      }
      if (!fs::exists(cg->bases_.back() / "cpuacct.usage", ec)) {
        why_not = "cgroup v1 without a cpuacct hierarchy";
        return nullptr;
      }
      return cg;
    }
    if (fs::exists(root / "cgroup.controllers", ec)) {
      if (read_file(root / "cgroup.controllers").find("cpu") == std::string::npos) {
        why_not = "cgroup v2 without the cpu controller";
        return nullptr;
      }
      const fs::path base = root / name;
      fs::create_directories(base);
      write_file(root / "cgroup.subtree_control", "+cpu");
      write_file(base / "cgroup.subtree_control", "+cpu");
      cg->bases_.push_back(base);
      cg->v2_ = true;
      return cg;
    }
    why_not = "no cgroup cpu hierarchy under " + root.string();
  } catch (const std::exception& e) {
    why_not = e.what();
  }
  return nullptr;
}

ContainerCgroup CpuCgroups::create(const std::string& pod_uid, const std::string& container,
                                   std::int64_t limit_millis) const {
  ContainerCgroup out;
  for (const auto& base : bases_) {
    const fs::path pod = base / pod_uid;
    const fs::path dir = pod / container;
    fs::create_directories(dir);
    if (v2_) {
      write_file(pod / "cgroup.subtree_control", "+cpu");
      if (limit_millis > 0) {
        write_file(dir / "cpu.max", std::to_string(limit_millis * kPeriodUs / 1000) + " " + std::to_string(kPeriodUs));
        out.quota_set = true;
      }
      out.usage_file = dir / "cpu.stat";
      out.usage_from_cpu_stat = true;
    } else {
      if (fs::exists(dir / "cpu.cfs_quota_us")) {
        write_file(dir / "cpu.cfs_period_us", std::to_string(kPeriodUs));
        write_file(dir / "cpu.cfs_quota_us", limit_millis > 0 ? std::to_string(limit_millis * kPeriodUs / 1000) : "-1");
        out.quota_set = limit_millis > 0;
      }
      if (fs::exists(dir / "cpuacct.usage")) out.usage_file = dir / "cpuacct.usage";
    }
    out.procs_files.push_back(dir / "cgroup.procs");
  }
  return out;
}

void CpuCgroups::remove_pod(const std::string& pod_uid) const {
  try {
    for (const auto& base : bases_) kill_and_remove(base / pod_uid);
  } catch (...) {
    // Best effort: a cgroup left behind is removed by the next remove_stale().
  }
}

void CpuCgroups::remove_stale(const std::set<std::string>& ours) const {
  try {
    for (const auto& base : bases_) {
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(base, ec)) {
        if (!entry.is_directory(ec)) continue;
        if (ours.contains(entry.path().filename().string())) {
          kill_and_remove(entry.path());
        } else {
          for (const auto& child : fs::directory_iterator(entry.path(), ec))
            if (child.is_directory(ec)) ::rmdir(child.path().c_str());
          ::rmdir(entry.path().c_str());
        }
      }
    }
  } catch (...) {
  }
}

void CpuCgroups::remove_parent_if_empty() const {
  for (const auto& base : bases_) ::rmdir(base.c_str());
}

std::optional<std::uint64_t> CpuCgroups::usage_ns(const ContainerCgroup& cgroup) {
  if (cgroup.usage_file.empty()) return std::nullopt;
  std::ifstream in(cgroup.usage_file);
  if (!cgroup.usage_from_cpu_stat) {
    std::uint64_t ns;
    if (in >> ns) return ns;
    return std::nullopt;
  }
  std::string key;
  std::uint64_t value;
  while (in >> key >> value)
    if (key == "usage_usec") return value * 1000;
  return std::nullopt;
}

std::vector<pid_t> CpuCgroups::pids(const ContainerCgroup& cgroup) {
  return cgroup.procs_files.empty() ? std::vector<pid_t>{} : read_pids(cgroup.procs_files.back());
}

}  // namespace mambogo::sim
