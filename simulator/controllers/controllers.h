// All controllers of mambogo-cluster behind one start()/stop(): ReplicaSet, Deployment,
// StatefulSet, Endpoints, garbage collector and HorizontalPodAutoscaler, each on its own thread
// over the same Store. Options carry every period, so tests and demos can run them fast
// (defaults are Kubernetes').
//
// Thread-safety: start()/stop() from one thread. Lifetime: the Store and the NodeBackend must
// outlive the Controllers; the destructor stops them.
#pragma once

#include "controllers/deployment_controller.h"
#include "controllers/endpoints_controller.h"
#include "controllers/garbage_collector.h"
#include "controllers/hpa_controller.h"
#include "controllers/replicaset_controller.h"
#include "controllers/statefulset_controller.h"

namespace mambogo::sim {

class Controllers {
 public:
  struct Options {
    ReplicaSetController::Options replica_sets;
    DeploymentController::Options deployments;
    StatefulSetController::Options stateful_sets;
    EndpointsController::Options endpoints;
    GarbageCollector::Options garbage_collector;
    HpaController::Options hpa;
  };

  Controllers(Store& store, const NodeBackend& node) : Controllers(store, node, Options{}) {}
  Controllers(Store& store, const NodeBackend& node, Options options);
  ~Controllers();
  Controllers(const Controllers&) = delete;
  Controllers& operator=(const Controllers&) = delete;

  void start();
  void stop();  // in reverse order of start

 private:
  ReplicaSetController replica_sets_;
  DeploymentController deployments_;
  StatefulSetController stateful_sets_;
  EndpointsController endpoints_;
  GarbageCollector garbage_collector_;
  HpaController hpa_;
};

}  // namespace mambogo::sim
