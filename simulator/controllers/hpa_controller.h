// HorizontalPodAutoscaler controller (autoscaling/v2): every sync period, for every HPA, reads
// the scale of its target (spec.replicas and selector of a Deployment, StatefulSet or
// ReplicaSet), the target's pods and their measured usage from the NodeBackend, decides with
// hpa_algorithm.h exactly as Kubernetes does, updates the target's spec.replicas, and writes the
// HPA's status (currentReplicas, desiredReplicas, lastScaleTime, currentMetrics, conditions)
// and events (SuccessfulRescale, FailedGetResourceMetric, FailedGetScale, ...). Recommendation
// and scale-event history is kept in memory per HPA (as kube-controller-manager does).
//
// Thread-safety: start()/stop() from the owner's thread; work on the controller's own thread.
// Lifetime: the Store and the NodeBackend must outlive the controller; the destructor stops it.
#pragma once

#include "controllers/controller_loop.h"
#include "controllers/hpa_algorithm.h"
#include "pods/node_backend.h"
#include "store/store.h"

#include <chrono>
#include <map>
#include <vector>

namespace mambogo::sim {

class HpaController {
 public:
  struct Options {
    std::chrono::milliseconds sync_period{15'000};  // --horizontal-pod-autoscaler-sync-period
    hpa::Options algorithm;                         // tolerance, CPU initialization, stabilization
  };

  HpaController(Store& store, const NodeBackend& node) : HpaController(store, node, Options{}) {}
  HpaController(Store& store, const NodeBackend& node, Options options);
  ~HpaController();
  HpaController(const HpaController&) = delete;
  HpaController& operator=(const HpaController&) = delete;

  void start();
  void stop();

 private:
  void sync(const ctl::Key& key);
  std::vector<ctl::Key> list_keys() const;
  hpa::PodInfo pod_info(const Json& pod) const;
  void write_status(const Json& hpa_object, const std::vector<hpa::Condition>& conditions,
                    const std::function<void(Json& status)>& fill);

  Store& store_;
  const NodeBackend& node_;
  const Options options_;
  ctl::ControllerLoop loop_;
  std::vector<std::uint64_t> watches_;  // owner's thread only
  struct Tracked {
    std::string uid;  // a re-created HPA of the same name starts afresh
    hpa::History history;
  };
  std::map<ctl::Key, Tracked> histories_;  // the loop's thread only
};

}  // namespace mambogo::sim
