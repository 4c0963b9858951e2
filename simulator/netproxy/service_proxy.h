// The service proxy of mambogo-cluster: what kube-proxy is to a node. For every TCP port of
// every Service in the Store it listens on spec.clusterIP:port (127.0.2.N), for type
// LoadBalancer also on <load_balancer_address>:port (and sets status.loadBalancer.ingress[0].ip),
// for NodePort and LoadBalancer on <load_balancer_address>:nodePort, and splices each accepted
// connection to the next ready endpoint of the port (round robin over the Endpoints object's
// subsets[].addresses, the endpoint port matched to the Service port by name). With no ready
// endpoint the connection is reset at once (kube-proxy's REJECT). Endpoint changes apply to new
// connections; a removed Service's listeners close, its open connections run on.
//
// A port that cannot be bound is reported as a Warning event on the Service (and a
// LoadBalancer keeps an empty status) and retried on the next resync.
//
// Chaos: NetworkChaos and HTTPChaos rules (chaos_rules.h) set through set_network_rule /
// set_http_rule act on connections whose endpoint is a selected pod; the rule set is consulted
// when a connection picks its endpoint and again whenever it changes, so a rule reaches open
// (pooled) connections too and stops acting on them when removed. The model, per connection:
//   delay      every chunk forwarded in an affected direction is held latency ± jitter before
//              it is written (netem's correlated jitter); order is kept, one chunk in flight.
//   loss       at connect the connection is reset with the loss probability; afterwards each
//              chunk is "lost" with that probability and, as TCP would retransmit it, delivered
//              after a retransmission timeout (200 ms, doubling for consecutive losses, at most
//              3.2 s). 100 % loss resets the connection (nothing would ever arrive).
//   partition  new connections are reset; open ones are cut when the rule arrives.
//   bandwidth  a token bucket per connection and direction (rate, burst = buffer bytes); the
//              proxy reads at most min(64 KiB, limit) bytes ahead.
// The source pod of a connection is the pod whose status.podIP is the client's address; when
// no pod has it, the rule acts on all traffic to the selected pods and the source_assumed
// callback says so once per rule.
// HTTPChaos: connections to a (pod, port) an HTTP rule names are parsed as HTTP/1.1 (keep-alive,
// pipelining, chunked bodies passed through byte for byte). An L4 connection open when such a
// rule arrives is closed as soon as it is quiet (both directions waiting to read), so pooled
// clients reconnect and get parsed.
//
// Threading: all sockets live on `io_threads` Asio threads; listeners and the Store sync on
// the first. Watch callbacks only post a sync. Every public member may be called from any
// thread. Lifetime: the Store must outlive the proxy; stop() (or the destructor) closes every
// listener and connection and joins the threads.
#pragma once

#include "netproxy/chaos_rules.h"
#include "store/store.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace mambogo::sim::netproxy {

struct ServiceProxyOptions {
  int io_threads = 1;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds resync{30'000};  // full relist, retry of failed binds
  std::string load_balancer_address = "127.0.0.1";  // LoadBalancer ports and NodePorts
};

struct ServicePortStats {
  std::uint64_t connections = 0;        // accepted
  std::uint64_t active = 0;             // open now
  std::uint64_t bytes_to_upstream = 0;  // client → endpoint
  std::uint64_t bytes_to_client = 0;    // endpoint → client
  std::uint64_t errors = 0;             // no ready endpoint, connect failure or timeout, I/O error
  std::uint64_t chaos_dropped = 0;      // connections reset or cut by a chaos rule
  std::uint64_t http_chaos = 0;         // requests an HTTPChaos rule acted on
};

class ServiceProxy {
 public:
  // Called (on an I/O thread) the first time a rule acted on a connection whose source pod was
  // unknown: rule key and the client address. Runs under the proxy's rule lock: must be quick,
  // must not call the proxy and must not write the Store. After on_source_assumed(other)
  // returns, the previous hook never runs again.
  using SourceAssumedFn = std::function<void(const std::string& rule_key, const std::string& address)>;

  explicit ServiceProxy(Store& store, ServiceProxyOptions options = {});
  ~ServiceProxy();
  ServiceProxy(const ServiceProxy&) = delete;
  ServiceProxy& operator=(const ServiceProxy&) = delete;

  // Starts the threads and the watches and performs the first sync; listeners for the Services
  // in the store are open when it returns. Throws std::invalid_argument for bad options.
  void start();
  void stop();

  // The store resourceVersion the last completed sync saw: a test that created objects at
  // version v waits until synced_version() >= v.
  std::uint64_t synced_version() const;

  // Per Service port, keyed "namespace/name:port".
  std::map<std::string, ServicePortStats> stats() const;

  // Replaces the rule with the same key, or adds it. Connections re-evaluate at once.
  void set_network_rule(NetworkRule rule);
  void set_http_rule(HttpRule rule);
  void remove_rule(const std::string& key);
  void on_source_assumed(SourceAssumedFn fn);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mambogo::sim::netproxy
