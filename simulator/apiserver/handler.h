// The API's request handling as a function of the request (internal to apiserver/): routing,
// authentication, discovery, the verbs over the Store, subresources, Tables and Status
// errors. transport.cpp calls handle() on its I/O thread; ApiServer::apply() calls apply().
//
// Thread-safety: handle() and apply() may run on any threads at once (the Store serializes
// writes; Service IP allocation is guarded by its own mutex). Store and NodeBackend must
// outlive the Handler and every Stream it returned.
#pragma once

#include "apiserver/http_types.h"
#include "apiserver/resources.h"

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

namespace mambogo::sim {
class NodeBackend;
}

namespace mambogo::sim::api {

struct Target;
struct DeleteOptions;

class Handler {
 public:
  using Clock = std::chrono::system_clock;
  // server_address: "127.0.0.1:PORT" for /api's serverAddressByClientCIDRs.
  // service_network: cluster IPs are <service_network>1 .. 254 ("127.0.2.").
  Handler(Store& store, NodeBackend* node, std::string bearer_token, std::function<std::string()> server_address,
          std::string service_network = "127.0.2.");

  // Never throws: every failure becomes a Status response.
  Response handle(const Request& request);

  // See ApiServer::apply(). Throws ApiError.
  Json apply(const Json& object);

  // Creates the namespaces every cluster has when missing.
  void ensure_namespaces();

 private:
  bool authorized(const std::string& authorization) const;
  Response route(const Request& request);
  Response serve_resource(const Request& request, const Target& target);
  Response get(const Request& request, const Target& t);
  Response list(const Request& request, const Target& t);
  Response watch(const Request& request, const Target& t);
  Response create(const Request& request, const Target& t);
  Response replace(const Request& request, const Target& t);
  Response patch(const Request& request, const Target& t);
  Response remove(const Request& request, const Target& t);
  Response remove_collection(const Request& request, const Target& t);
  Response scale(const Request& request, const Target& t);
  Response log(const Request& request, const Target& t);
  Response proxy(const Request& request, const Target& t);
  Response metrics(const Request& request, const Target& t);

  Json existing(const ResourceInfo& r, const std::string& ns, const std::string& name) const;
  // The create pipeline: checks, defaults, validation, allocation, store. dry_run: nothing stored.
  Json create_object(const ResourceInfo& r, const std::string& ns, Json object, bool dry_run, bool strict);
  // The update pipeline from a computed new object; keeps what clients may not change.
  // `subresource` "status": only status changes; "": status kept.
  Json update_object(const ResourceInfo& r, const Json& current, Json updated, const std::string& subresource,
                     bool dry_run, bool strict);
  // Runs `compute` (current → updated) and update_object, again on a fresh read when the store
  // reports a conflict the client did not ask for (no resourceVersion of its own).
  Json update_with_retry(const ResourceInfo& r, const std::string& ns, const std::string& name,
                         const std::function<Json(const Json& current, bool& conditional)>& compute,
                         const std::string& subresource, bool dry_run, bool strict);
  Json delete_object(const ResourceInfo& r, const Json& current, const DeleteOptions& options);
  void allocate_service_addresses(Json& service, const Json* current);

  Store& store_;
  NodeBackend* node_;
  const std::string token_;
  const std::string service_network_;
  const std::function<std::string()> server_address_;
  std::mutex allocation_mutex_;  // Service clusterIP/nodePort allocation and the create after it
};

}  // namespace mambogo::sim::api
