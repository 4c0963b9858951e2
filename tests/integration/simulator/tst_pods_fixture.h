// Shared by the kubelet integration tests: a memory store, a kubelet with short periods and
// an image map of test programs, and helpers to create pods and wait for their status.
#pragma once

#include "pods/kubelet.h"
#include "store/store.h"

#include <QTemporaryDir>
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <dirent.h>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

namespace podtest {

using mambogo::sim::Json;
using namespace std::chrono_literals;

inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Polls until `done` holds or `timeout` passes; returns whether it held.
inline bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Processes whose process group is pgid.
inline std::set<pid_t> group_members(pid_t pgid) {
  std::set<pid_t> out;
  DIR* dir = ::opendir("/proc");
  while (dirent* e = dir ? ::readdir(dir) : nullptr) {
    const pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string state;
    long ppid, pgrp;
    fields >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != "Z") out.insert(pid);
  }
  if (dir) ::closedir(dir);
  return out;
}

// CPU time (utime + stime) of the processes in process group pgid, in seconds.
inline double group_cpu_seconds(pid_t pgid) {
  double total = 0;
  for (pid_t pid : group_members(pgid)) {
    const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string skip;
    for (int i = 0; i < 11; ++i) fields >> skip;  // state .. cmajflt
    double utime = 0, stime = 0;
    fields >> utime >> stime;
    total += (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  return total;
}

struct Cluster {
  QTemporaryDir dir;
  mambogo::sim::Store store;
  mambogo::sim::KubeletOptions options;
  std::unique_ptr<mambogo::sim::Kubelet> kubelet;

  explicit Cluster(bool use_cgroups = true) {
    options.state_dir = dir.path().toStdString();
    options.worker_tick = 50ms;
    options.sync_period = 1s;
    options.node_status_period = 1s;
    options.usage_period = 250ms;
    options.usage_window = 1500ms;
    options.backoff_initial = 300ms;
    options.backoff_max = 1200ms;
    options.stop_grace_max = 5s;
    options.use_cgroups = use_cgroups;
    options.cgroup_parent = "mambogo-test-" + std::to_string(::getpid());
    options.images = mambogo::sim::ImageMap::parse(R"yaml(
images:
  test/http:
    command: [/usr/bin/python3, -u, -m, http.server, --bind, "$(POD_IP)", "${CONTAINER_PORT}"]
  test/sh:
    command: [/bin/sh, -c]
    args: ["sleep 1000"]
  test/burn:
    command: [/bin/sh, -c, "while :; do :; done"]
)yaml", {});
  }
  void start() {
    kubelet = std::make_unique<mambogo::sim::Kubelet>(store, options);
    kubelet->start();
  }
  ~Cluster() {
    if (kubelet) kubelet->stop();
  }

  Json create_pod(const std::string& name, const Json& containers, const Json& spec_extra = Json::object(),
                  const Json& labels = Json::object()) {
    Json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", labels}}},
                {"spec", {{"containers", containers}, {"terminationGracePeriodSeconds", 5}}}};
    for (auto it = spec_extra.begin(); it != spec_extra.end(); ++it) pod["spec"][it.key()] = it.value();
    return store.create("pods", pod);
  }
  Json pod(const std::string& name) const {
    return store.get({"pods", "default", name}).value_or(Json());
  }
  Json container_status(const std::string& name, std::size_t i = 0) const {
    const Json p = pod(name);
    if (p.is_null() || !p.contains("status") || !p["status"].contains("containerStatuses")) return Json::object();
    return p["status"]["containerStatuses"].size() > i ? p["status"]["containerStatuses"][i] : Json::object();
  }
  bool ready(const std::string& name) const {
    const Json p = pod(name);
    if (p.is_null()) return false;
    for (const auto& c : p.value("status", Json::object()).value("conditions", Json::array()))
      if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
    return false;
  }
  std::string phase(const std::string& name) const {
    const Json p = pod(name);
    return p.is_null() ? "" : p.value("status", Json::object()).value("phase", "");
  }
  pid_t pid_of(const std::string& name) const {
    const std::string id = container_status(name).value("containerID", "");
    return id.rfind("mambogo://", 0) == 0 ? std::atoi(id.c_str() + 10) : 0;
  }
  std::string dump(const std::string& name) const { return pod(name).dump(); }
};

inline Json sh_container(const std::string& script, const Json& extra = Json::object()) {
  Json c = {{"name", "main"}, {"image", "test/sh"}, {"args", Json::array({script})}};
  for (auto it = extra.begin(); it != extra.end(); ++it) c[it.key()] = it.value();
  return c;
}

}  // namespace podtest
