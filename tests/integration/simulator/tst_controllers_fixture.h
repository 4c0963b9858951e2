// Shared by the controller integration tests: a real Store, and the test playing kubelet — it
// starts pods (phase Running, startTime, a pod IP), marks them Ready when told to, and removes
// pods whose deletion the controllers requested (deletionTimestamp), as the real kubelet does.
#pragma once

#include "controllers/object_util.h"
#include "store/store.h"

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <thread>

namespace controllers_test {

using mambogo::sim::Json;
using mambogo::sim::Store;

class FakeKubelet {
 public:
  explicit FakeKubelet(Store& store) : store_(store) {}

  // At most this many pods become Ready per tick (a slow kubelet shows rollouts step by step).
  int ready_per_tick = 1000;
  bool auto_ready = true;
  std::set<std::string> held_unready;  // pod names kept not ready

  void tick() {
    int readied = 0;
    for (const Json& pod : store_.list("pods").items) {
      const auto ref = mambogo::sim::ref_of("pods", pod);
      try {
        if (mambogo::sim::ctl::is_deleting(pod)) {
          store_.remove(ref, mambogo::sim::ctl::uid_of(pod));
          continue;
        }
        if (!pod.value("status", Json::object()).contains("startTime")) {
          start(ref);
          continue;
        }
        if (!mambogo::sim::ctl::is_pod_ready(pod) && auto_ready && readied < ready_per_tick &&
            !held_unready.contains(mambogo::sim::name_of(pod))) {
          set_ready(ref, true);
          ++readied;
        }
      } catch (const mambogo::sim::StoreError&) {
        // raced with a controller; the next tick sees the new state
      }
    }
  }

  void set_ready(const mambogo::sim::ObjectRef& ref, bool ready) {
    const std::string now = mambogo::sim::now_rfc3339();
    store_.mutate(ref, [&](Json& p) {
      p["status"]["conditions"] = Json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}, {"lastTransitionTime", now}}});
      for (Json& c : p["status"]["containerStatuses"]) c["ready"] = ready;
    });
  }

 private:
  void start(const mambogo::sim::ObjectRef& ref) {
    const std::string ip = "127.0.1." + std::to_string(next_ip_++ % 250 + 2);
    const std::string now = mambogo::sim::now_rfc3339();
    store_.mutate(ref, [&](Json& p) {
      p["status"]["phase"] = "Running";
      p["status"]["startTime"] = now;
      p["status"]["podIP"] = ip;
      p["status"]["conditions"] = Json::array({{{"type", "Ready"}, {"status", "False"}, {"lastTransitionTime", now}}});
      Json statuses = Json::array();
      for (const Json& c : p["spec"].value("containers", Json::array()))
        statuses.push_back({{"name", c.value("name", "")}, {"ready", false}, {"restartCount", 0}});
      p["status"]["containerStatuses"] = statuses;
    });
  }

  Store& store_;
  int next_ip_ = 0;
};

// Polls `done` (after `each`) until it holds or the timeout passes. Generous timeouts: never
// fail on timing, only on a state that does not arrive.
inline bool eventually(const std::function<bool()>& done, const std::function<void()>& each = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (each) each();
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

inline Json container(const std::string& image) {
  return Json{{"name", "app"},
              {"image", image},
              {"ports", {{{"name", "http"}, {"containerPort", 8080}, {"protocol", "TCP"}}}},
              {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "64Mi"}}}}}};
}

inline Json deployment(const std::string& name, int replicas, const std::string& image, Json strategy = Json()) {
  Json labels{{"app", name}};
  Json tmpl{{"metadata", {{"labels", labels}}}, {"spec", {{"containers", Json::array({container(image)})}}}};
  Json spec{{"replicas", replicas}, {"selector", {{"matchLabels", labels}}}, {"template", tmpl}};
  if (!strategy.is_null()) spec["strategy"] = strategy;
  Json meta{{"name", name}, {"namespace", "default"}};
  return Json{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", meta}, {"spec", spec}};
}

}  // namespace controllers_test
