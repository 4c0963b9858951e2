// Garbage collector (pkg/controller/garbagecollector, background propagation only): an object
// whose ownerReferences all point to owners that no longer exist (no object of that kind and
// name with that uid) is deleted — pods gracefully (object_util's delete_pod), everything else
// at once, which cascades further on the next pass. A dangling reference next to a live owner
// is removed from the list. Owners of kinds it cannot look up are assumed alive.
//
// Runs a full pass after any deletion of a possible owner (debounced by the queue) and every
// resync period.
//
// Thread-safety: start()/stop() from the owner's thread; work on the collector's own thread.
// Lifetime: the Store must outlive the collector; the destructor stops it.
#pragma once

#include "controllers/controller_loop.h"
#include "store/store.h"

#include <chrono>
#include <string>
#include <vector>

namespace mambogo::sim {

class GarbageCollector {
 public:
  struct Options {
    std::chrono::milliseconds resync{30'000};
    // Resources whose objects may have owners (dependents) and may be owners.
    std::vector<std::string> dependents{"pods", "replicasets.apps", "deployments.apps", "statefulsets.apps",
                                        "endpoints", "services", "configmaps", "secrets",
                                        "horizontalpodautoscalers.autoscaling", "controllerrevisions.apps",
                                        "persistentvolumeclaims"};
  };

  explicit GarbageCollector(Store& store) : GarbageCollector(store, Options{}) {}
  GarbageCollector(Store& store, Options options);
  ~GarbageCollector();
  GarbageCollector(const GarbageCollector&) = delete;
  GarbageCollector& operator=(const GarbageCollector&) = delete;

  void start();
  void stop();

 private:
  void collect();

  Store& store_;
  const Options options_;
  ctl::ControllerLoop loop_;
  std::vector<std::uint64_t> watches_;  // owner's thread only
};

}  // namespace mambogo::sim
