// StatefulSet controller (pkg/controller/statefulset): pods <name>-0 .. <name>-(N-1) with stable
// identities — labels statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index and
// controller-revision-hash, hostname = pod name, subdomain = spec.serviceName, and for each
// volumeClaimTemplate a volume referencing the claim <template>-<pod> (the kubelet provides its
// storage). OrderedReady creates one pod at a time, each only after the previous is Running and
// Ready, and scales down from the highest ordinal, one at a time; Parallel does both at once.
// A template change rolls out with RollingUpdate from the highest ordinal down to
// spec.updateStrategy.rollingUpdate.partition, one pod at a time (OnDelete: only recreated pods
// change). Status: replicas, readyReplicas, availableReplicas, currentReplicas,
// updatedReplicas, currentRevision, updateRevision, observedGeneration.
//
// Revisions are named <set>-<hash of the template> and not stored as ControllerRevision objects:
// a pod missing below the partition is recreated from the current template.
//
// Thread-safety: start()/stop() from the owner's thread; work on the controller's own thread.
// Lifetime: the Store must outlive the controller; the destructor stops it.
#pragma once

#include "controllers/controller_loop.h"
#include "store/store.h"

#include <chrono>
#include <vector>

namespace mambogo::sim {

class StatefulSetController {
 public:
  struct Options {
    std::chrono::milliseconds resync{30'000};
  };

  explicit StatefulSetController(Store& store) : StatefulSetController(store, Options{}) {}
  StatefulSetController(Store& store, Options options);
  ~StatefulSetController();
  StatefulSetController(const StatefulSetController&) = delete;
  StatefulSetController& operator=(const StatefulSetController&) = delete;

  void start();
  void stop();

 private:
  void sync(const ctl::Key& key);
  std::vector<ctl::Key> list_keys() const;
  void create_pod(const Json& set, int ordinal, const std::string& revision);
  void write_status(const Json& set, const std::string& update_revision);

  Store& store_;
  const Options options_;
  ctl::ControllerLoop loop_;
  std::vector<std::uint64_t> watches_;  // owner's thread only
};

}  // namespace mambogo::sim
