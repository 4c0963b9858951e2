// The NetworkChaos and HTTPChaos controllers of mambogo-cluster (what Chaos Mesh's
// controller-manager and chaos-daemon do for these kinds), acting through the ServiceProxy.
//
// For each object of "networkchaos.chaos-mesh.org" and "httpchaos.chaos-mesh.org", on first
// sight: parse the spec (spec.duration, the action fields, spec.mode/value) — a malformed spec
// gets status conditions False with the reason and message, and nothing is applied; select the
// pods (spec.selector, and for NetworkChaos spec.target) and pick among them by mode; give the
// rule to the proxy; write status as Chaos Mesh does:
//   status.conditions[] {type Selected|AllInjected|AllRecovered|Paused, status "True"/"False",
//                        reason, message}
//   status.experiment {desiredPhase Run|Stop, containerRecords[] {id "ns/pod", phase
//                      Injected|Recovered, selectorKey "." or ".Target", injectedCount,
//                      recoveredCount}}
// When no pod matches yet, Selected is False ("no pod is selected") and selection is retried
// every resync period. Recovery (the rule leaves the proxy) happens when the object is deleted
// or when spec.duration has passed since it was injected — then desiredPhase becomes Stop and
// the records Recovered. Later spec changes are not re-applied (delete and re-create).
// After a restart, an object whose status says Injected is re-applied to the recorded pods
// with what is left of its duration (counted from creationTimestamp); a stopped one stays
// stopped.
//
// Threading: one worker thread; watch callbacks only queue. Every public member may be called
// from any thread. Lifetime: the Store and the ServiceProxy outlive the controller; stop it
// before the proxy.
#pragma once

#include "netproxy/service_proxy.h"
#include "store/store.h"

#include <chrono>
#include <memory>

namespace mambogo::sim::netproxy {

struct ChaosControllerOptions {
  std::chrono::milliseconds resync{10'000};  // retry of selections that found no pod
};

class ChaosController {
 public:
  ChaosController(Store& store, ServiceProxy& proxy, ChaosControllerOptions options = {});
  ~ChaosController();
  ChaosController(const ChaosController&) = delete;
  ChaosController& operator=(const ChaosController&) = delete;

  // Installs the proxy's on_source_assumed hook, lists the existing objects, watches both
  // kinds and starts the worker.
  void start();
  void stop();

  // The store resourceVersion up to which changes of both kinds have been handled (tests wait
  // for it instead of sleeping).
  std::uint64_t handled_version() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mambogo::sim::netproxy
