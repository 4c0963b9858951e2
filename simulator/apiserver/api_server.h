// The API server of mambogo-cluster: Kubernetes' REST API over the Store, served over HTTP/1.1
// or HTTPS with an optional bearer token, faithfully enough that kubectl and the official
// client libraries work unchanged. What it serves:
//   discovery (/version, /api, /apis, every group/version, /openapi/v2 and a minimal
//   /openapi/v3 so that kubectl's field validation works), core/v1 namespaces, nodes, pods
//   (log and proxy subresources), services (cluster IP allocation), endpoints, events,
//   configmaps, secrets; apps/v1 deployments, replicasets, statefulsets (status and scale
//   subresources); autoscaling/v2 horizontalpodautoscalers; metrics.k8s.io/v1beta1 (from the
//   NodeBackend); chaos-mesh.org/v1alpha1 podchaos, networkchaos, httpchaos, stresschaos.
//   Verbs get, list, watch, create, update, patch (merge, strategic merge, JSON patch),
//   delete, deletecollection; Table output; Kubernetes Status objects for every error.
//
// Thread-safety: construct, start(), port() and stop() from one controlling thread; apply()
// from any thread. Requests are served on one I/O thread of the server's own.
// Lifetime: the Store and the NodeBackend must outlive the server; stop() (or the destructor)
// closes every connection, ends every watch and joins the I/O thread.
#pragma once

#include "store/store.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mambogo::sim {

class NodeBackend;

struct TlsFiles {
  std::filesystem::path cert;  // PEM certificate (chain) of the server
  std::filesystem::path key;   // PEM private key
};

struct ApiServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;            // 0: any free port (see ApiServer::port())
  std::optional<TlsFiles> tls;       // absent: plain HTTP
  std::string bearer_token;          // empty: no authentication
  std::string service_network = "127.0.2.";  // Service cluster IPs <service_network>1 .. 254
};

// A request the API refuses, carrying the Kubernetes Status object it answers with
// (kind Status, status Failure, message, reason, details, code).
class ApiError : public std::runtime_error {
 public:
  explicit ApiError(Json status);
  int code() const { return status_.value("code", 500); }
  const std::string& reason() const { return reason_; }
  const Json& status() const { return status_; }

 private:
  Json status_;
  std::string reason_;
};

class ApiServer {
 public:
  // node may be null: then pods/log answers 404 and metrics.k8s.io 503.
  ApiServer(Store& store, NodeBackend* node, ApiServerOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and starts serving. Creates the namespaces default, kube-system, kube-public and
  // kube-node-lease when missing. Throws std::runtime_error when the address cannot be bound
  // or the TLS files cannot be loaded.
  void start();
  // The bound port (after start()).
  std::uint16_t port() const;
  // Stops serving; idempotent.
  void stop();

  // Server-side "kubectl apply" of one object (apiVersion, kind, metadata.name; namespace
  // "default" when a namespaced object names none): creates it, or updates the stored one
  // (spec and metadata from `object`, status kept), with the same defaulting and validation
  // as the REST API. Returns the stored object. Throws ApiError (or StoreError) on refusal,
  // with nothing changed. Works without start().
  Json apply(const Json& object);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Multi-document YAML (or JSON) → one JSON object per document, in order: empty documents are
// skipped and `kind: List` documents are expanded into their items. Scalars keep their YAML
// types (plain integers and floats become numbers, true/false booleans, null/~ null, quoted
// scalars strings). Throws std::invalid_argument naming source_name, the document index
// (0-based) and the line when a document is not valid YAML or not an object.
std::vector<Json> parse_manifests(const std::string& yaml_text, const std::string& source_name);

}  // namespace mambogo::sim
