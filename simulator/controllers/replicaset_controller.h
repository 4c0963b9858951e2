// ReplicaSet controller (pkg/controller/replicaset): keeps spec.replicas active pods that match
// the selector and are controlled by the ReplicaSet. Creates pods from the template (name
// <rs>-<5 random chars>, bound to the node, owner reference to the RS), adopts matching orphans,
// releases owned pods whose labels no longer match, deletes the surplus gracefully choosing the
// least useful pods first (unscheduled, pending, not ready, ready for less time, more restarts,
// younger), and writes status (replicas, fullyLabeledReplicas, readyReplicas,
// availableReplicas with minReadySeconds, observedGeneration). Events SuccessfulCreate and
// SuccessfulDelete as Kubernetes records them.
//
// Thread-safety: start()/stop() from the owner's thread; the work runs on the controller's own
// thread. Lifetime: the Store must outlive the controller; the destructor stops it.
#pragma once

#include "controllers/controller_loop.h"
#include "store/store.h"

#include <chrono>
#include <cstdint>
#include <vector>

namespace mambogo::sim {

// Orders pods so that the ones to delete first come first (controller.ActivePods ranking).
void sort_pods_for_deletion(std::vector<Json>& pods);

class ReplicaSetController {
 public:
  struct Options {
    std::chrono::milliseconds resync{30'000};
  };

  explicit ReplicaSetController(Store& store) : ReplicaSetController(store, Options{}) {}
  ReplicaSetController(Store& store, Options options);
  ~ReplicaSetController();
  ReplicaSetController(const ReplicaSetController&) = delete;
  ReplicaSetController& operator=(const ReplicaSetController&) = delete;

  void start();
  void stop();

 private:
  void sync(const ctl::Key& key);
  void on_pod(const WatchEvent& event);
  std::vector<ctl::Key> list_keys() const;
  int create_pods(const Json& rs, int count);  // returns how many it created
  void write_status(const Json& rs, const std::vector<Json>& active, int created, std::int32_t min_ready_seconds);

  Store& store_;
  const Options options_;
  ctl::ControllerLoop loop_;
  std::vector<std::uint64_t> watches_;  // owner's thread only
};

}  // namespace mambogo::sim
