// Deployment controller (pkg/controller/deployment): owns ReplicaSets named
// <deployment>-<pod-template-hash>; rolls a template change out with RollingUpdate (maxSurge /
// maxUnavailable) or Recreate; scales proportionally when spec.replicas changes mid-rollout;
// keeps revisionHistoryLimit old ReplicaSets; maintains the revision, desired-replicas and
// max-replicas annotations and status (observedGeneration, replicas, updatedReplicas,
// readyReplicas, availableReplicas, unavailableReplicas, conditions Available and Progressing
// with ProgressDeadlineExceeded) so that `kubectl rollout status` works; records
// ScalingReplicaSet events as Kubernetes does. The arithmetic lives in deployment_util.h.
//
// Thread-safety: start()/stop() from the owner's thread; work on the controller's own thread.
// Lifetime: the Store must outlive the controller; the destructor stops it.
#pragma once

#include "controllers/controller_loop.h"
#include "controllers/deployment_util.h"
#include "store/store.h"

#include <chrono>
#include <optional>
#include <vector>

namespace mambogo::sim {

class DeploymentController {
 public:
  struct Options {
    std::chrono::milliseconds resync{30'000};
  };

  explicit DeploymentController(Store& store) : DeploymentController(store, Options{}) {}
  DeploymentController(Store& store, Options options);
  ~DeploymentController();
  DeploymentController(const DeploymentController&) = delete;
  DeploymentController& operator=(const DeploymentController&) = delete;

  void start();
  void stop();

 private:
  struct State;  // one sync's view of a Deployment and its ReplicaSets

  void sync(const ctl::Key& key);
  void on_replica_set(const WatchEvent& event);
  void on_pod(const WatchEvent& event);
  std::vector<ctl::Key> list_keys() const;

  std::vector<Json> claim_replica_sets(const Json& d, const Json& selector_json);
  void sync_revision(State& s);
  bool create_new_rs(State& s);
  bool apply(State& s, const std::vector<deploy::ScaleAction>& actions, bool sync_annotations);
  bool is_scaling_event(const State& s) const;
  void sync_scale(State& s);
  void rollout_rolling(State& s);
  void rollout_recreate(State& s);
  bool old_pods_running(const State& s) const;
  void cleanup(State& s);
  void sync_status(State& s, bool with_progress);

  Store& store_;
  const Options options_;
  ctl::ControllerLoop loop_;
  std::vector<std::uint64_t> watches_;  // owner's thread only
};

}  // namespace mambogo::sim
