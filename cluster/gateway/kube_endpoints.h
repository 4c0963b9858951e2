// Service discovery from the Kubernetes Endpoints API (core/v1), list then watch, as client-go's
// informers do, so it works against kube-apiserver (from a pod over https with the service
// account, or through `kubectl proxy`) and the local control plane (mambogo-cluster) alike:
//
//   list   GET /api/v1/namespaces/NS/endpoints/NAME
//          200: the Endpoints object (its metadata.resourceVersion is remembered); 404: none yet
//   watch  GET /api/v1/namespaces/NS/endpoints?fieldSelector=metadata.name%3DNAME
//              &watch=1&resourceVersion=RV&allowWatchBookmarks=true
//          a stream of line-delimited JSON events {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR,
//          "object": ...} (chunked or not). Events for other names are ignored (a server that
//          ignores fieldSelector still works). ERROR (410 Gone: the version is too old) and
//          any failure lead to a fresh list after a backoff (1 s doubling to 30 s, reset by a
//          successful list); a watch stream the server ends normally is resumed from the last
//          resourceVersion.
// The addresses are subsets[].addresses[].ip (notReadyAddresses are left out) with the port
// named `port_name` (or the subset's first port when port_name is empty).
//
// Requests carry `Authorization: Bearer <token>` when a token is configured; a token file is
// read again for every connection (Kubernetes rotates a pod's bound service-account token).
// Transport: plain http://, or https:// with the server's certificate verified against ca_file
// (or the system's CAs when none is given) and its name or IP checked, as client-go does; a
// server that fails verification is never spoken to (the list fails, logged with OpenSSL's
// reason, and retried with the backoff). In a pod, the gateway's configuration defaults to
// client-go's in-cluster setup (see gateway_config.cpp).
//
// Ownership/threads: start() runs one thread that owns the connection; on_change runs on it
// (it must not block for long). stop() (and the destructor) interrupts a blocked read and
// joins the thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/load_balancer.h"

namespace mambogo::runtime {
class Logger;
}

namespace mambogo::gateway {

struct KubeWatchOptions {
  std::string api_host = "127.0.0.1";
  std::uint16_t api_port = 8001;
  bool tls = false;         // https
  std::string ca_file;      // https: the CA bundle to verify the server with; empty: the system's
  std::string bearer_token;
  std::string token_file;   // when set, the token is read from it at every connection
  std::string namespace_name = "default";
  std::string endpoints_name;  // the Service's name, e.g. product-service
  std::string port_name;       // empty: the first port of each subset
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{30'000};
  std::chrono::milliseconds io_timeout{5000};  // connect and list; a watch read waits longer
};

// An address "http://host[:port]" (80) or "https://host[:port]" (443); an IPv6 host in
// brackets. nullopt when malformed (no scheme, another scheme, a path, a bad port). The API
// server's URL, and (http only) the static endpoint lists.
struct ApiServerUrl {
  bool tls = false;
  std::string host;  // without brackets
  std::uint16_t port = 0;
};
std::optional<ApiServerUrl> parse_api_server_url(const std::string& url);

// The ready addresses of an Endpoints object (see above), in the object's order.
std::vector<EndpointAddress> endpoint_addresses(const nlohmann::json& endpoints,
                                                const std::string& port_name);

class KubeEndpointsWatcher {
 public:
  using OnChange = std::function<void(std::vector<EndpointAddress>)>;

  KubeEndpointsWatcher(KubeWatchOptions options, OnChange on_change, runtime::Logger& logger);
  ~KubeEndpointsWatcher();
  KubeEndpointsWatcher(const KubeEndpointsWatcher&) = delete;
  KubeEndpointsWatcher& operator=(const KubeEndpointsWatcher&) = delete;

  void start();
  void stop();

  // For /health: whether the last list succeeded and how many updates arrived.
  bool synced() const { return synced_.load(); }
  std::uint64_t updates() const { return updates_.load(); }

  // The socket in use, so stop() can interrupt a blocked read. Implementation detail.
  struct Connection {
    std::mutex mutex;
    int fd = -1;           // guarded by mutex
    bool stopped = false;  // guarded by mutex: no new connection once set
  };

 private:
  void run();
  bool list(std::string& resource_version);
  // Returns true when the stream ended normally (resume), false on an error (relist).
  bool watch(std::string& resource_version);
  void publish(const nlohmann::json& endpoints);
  bool wait_for(std::chrono::milliseconds d);  // false when stopping

  const KubeWatchOptions options_;
  const OnChange on_change_;
  runtime::Logger& logger_;
  struct Tls;                  // the OpenSSL client context for https
  std::unique_ptr<Tls> tls_;   // set by start() when options_.tls
  std::string tls_error_;      // why the context could not be made (then every list fails)

  std::atomic<bool> stopping_{false};
  std::atomic<bool> synced_{false};
  std::atomic<std::uint64_t> updates_{0};
  Connection connection_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace mambogo::gateway
