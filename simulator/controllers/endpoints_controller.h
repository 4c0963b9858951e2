// Endpoints controller (pkg/controller/endpoint): for every Service with a selector, an Endpoints
// object of the same name listing the selected pods that have an IP — ready ones under
// subsets[].addresses, the others under notReadyAddresses (all under addresses with
// publishNotReadyAddresses) — with ip, nodeName, hostname (when the pod's subdomain is the
// Service) and targetRef, and the Service's ports resolved per pod (targetPort as a number, a
// container port name, or the port itself) with name and protocol. Pods being deleted or
// finished are left out. The Endpoints of a removed Service are deleted; Services without a
// selector are left to their owners.
//
// Thread-safety: start()/stop() from the owner's thread; work on the controller's own thread.
// Lifetime: the Store must outlive the controller; the destructor stops it.
#pragma once

#include "controllers/controller_loop.h"
#include "store/store.h"

#include <chrono>
#include <vector>

namespace mambogo::sim {

// The Endpoints subsets for a Service and the pods of its namespace (pure; for tests and the
// API server's previews).
Json endpoints_subsets(const Json& service, const std::vector<Json>& pods);

class EndpointsController {
 public:
  struct Options {
    std::chrono::milliseconds resync{30'000};
  };

  explicit EndpointsController(Store& store) : EndpointsController(store, Options{}) {}
  EndpointsController(Store& store, Options options);
  ~EndpointsController();
  EndpointsController(const EndpointsController&) = delete;
  EndpointsController& operator=(const EndpointsController&) = delete;

  void start();
  void stop();

 private:
  void sync(const ctl::Key& key);
  std::vector<ctl::Key> list_keys() const;

  Store& store_;
  const Options options_;
  ctl::ControllerLoop loop_;
  std::vector<std::uint64_t> watches_;  // owner's thread only
};

}  // namespace mambogo::sim
