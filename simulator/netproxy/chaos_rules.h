// What a NetworkChaos or HTTPChaos (chaos-mesh.org/v1alpha1) asks for, as plain values the
// service proxy applies per connection, and the pure parts of reading them: Go durations,
// tc rates, Chaos Mesh's path globs, pod selection by selector and mode, and which direction
// of a proxied connection a network rule affects.
//
// Everything here is a pure function or a value type: thread-safe, no I/O, no store access.
// Errors in a spec throw std::invalid_argument with a message naming the field
// ("spec.delay.latency: time: invalid duration \"10 parsecs\"").
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace mambogo::sim::netproxy {

using Json = nlohmann::json;

// Go's time.ParseDuration ("300ms", "1.5h", "2h45m", "10us", "0"), as Chaos Mesh reads
// spec.duration and the latencies. Negative durations are refused. Nanosecond precision.
std::chrono::nanoseconds parse_duration(const std::string& text);

// A tc rate ("1mbps", "100kbit", "10Mbit", "2KiBps", "8000"): bits per second without a unit
// or with bit/kbit/mbit/gbit/tbit (SI) and kibit/mibit/gibit/tibit (binary); bytes per second
// with bps/kbps/mbps/gbps/tbps and kibps/... — units are case-insensitive, as in tc. Returns
// bytes per second; throws for zero, negative or unknown units.
double parse_rate_bytes_per_second(const std::string& text);

// Chaos Mesh's HTTPChaos path match (its proxy uses wildmatch): '*' matches any run of
// characters including '/', '?' exactly one character, everything else itself.
bool glob_match(const std::string& pattern, const std::string& text);

// How many of `total` candidates a mode picks. mode: one | all | fixed | fixed-percent |
// random-max-percent; value: spec.value (a string in Chaos Mesh, numbers accepted). For
// random-max-percent the percentage is drawn from `rng`. Throws for an unknown mode or a bad
// value ("spec.value: fixed-percent needs 0..100, got \"150\"").
std::size_t pick_count(const std::string& mode, const Json& value, std::size_t total, std::mt19937_64& rng);

// Chaos Mesh's PodSelectorSpec applied to a list of pods: namespaces (default: the chaos
// object's namespace, unless `pods` names pods), labelSelectors, expressionSelectors,
// annotationSelectors, pods {ns: [names]}, podPhaseSelectors. Pods being deleted are never
// selected. Returns the matching pods' ids "ns/name", sorted.
std::vector<std::string> select_pods(const Json& selector, const std::string& chaos_namespace,
                                     const std::vector<Json>& pods);

// select_pods, then `mode`/`value` pick at random among them. Returns the picked ids sorted.
std::vector<std::string> pick_pods(const Json& selector, const std::string& mode, const Json& value,
                                   const std::string& chaos_namespace, const std::vector<Json>& pods,
                                   std::mt19937_64& rng);

enum class Direction { to, from, both };

struct NetworkRule {
  enum class Action { delay, loss, partition, bandwidth };
  struct Delay {
    std::chrono::nanoseconds latency{0};
    std::chrono::nanoseconds jitter{0};
    double correlation = 0;  // 0..1: weight of the previous jitter sample (netem's model)
  };
  struct Loss {
    double probability = 0;  // 0..1
    double correlation = 0;  // 0..1
  };
  struct Bandwidth {
    double bytes_per_second = 0;
    std::uint64_t limit = 0;   // bytes that may wait for tokens (0: no limit given)
    std::uint64_t buffer = 0;  // bucket size in bytes (burst)
  };

  std::string key;  // "networkchaos/ns/name", unique among rules
  Action action = Action::delay;
  Direction direction = Direction::to;
  std::set<std::string> pods;                    // selected pods, "ns/name"
  std::optional<std::set<std::string>> targets;  // spec.target's pods, when spec.target is set
  Delay delay;
  Loss loss;
  Bandwidth bandwidth;
};

// The action parameters of a NetworkChaos spec (not the pods, which the controller picks).
// Throws std::invalid_argument naming the field for a missing or malformed one.
NetworkRule parse_network_rule(const Json& spec);

// Which directions of one proxied connection (client `source` → endpoint pod `target`) a rule
// affects. Bytes the client sends travel "to upstream", the endpoint's answers "to client".
// A rule with direction `to` acts on what the selected pods send (towards the target pods, if
// spec.target is set); `from` on what they receive; `both` on both. An unknown source
// (nullopt: the client address is no pod's IP) counts as one of the target pods for traffic to
// a selected pod — the rule then acts on all traffic to the selected pods — and
// source_assumed tells so.
struct Affected {
  bool to_upstream = false;
  bool to_client = false;
  bool source_assumed = false;
  bool any() const { return to_upstream || to_client; }
};
Affected affected(const NetworkRule& rule, const std::optional<std::string>& source,
                  const std::string& target);

struct HttpRule {
  std::string key;  // "httpchaos/ns/name"
  bool on_response = false;  // spec.target: Request (false) or Response (true)
  std::set<std::string> pods;
  int port = 0;          // the pods' port; 0: any
  std::string path;      // glob; empty: any
  std::string method;    // empty: any
  bool abort = false;
  std::chrono::nanoseconds delay{0};
  std::optional<int> replace_code;

  // Does the rule act on this request to `pod`:`port`?
  bool matches(const std::string& pod, int pod_port, std::string_view request_method,
               std::string_view request_path) const;
};

// The match and action fields of an HTTPChaos spec. Throws std::invalid_argument naming the
// field ("spec.target must be Request or Response", "spec.replace.code: 42 is no HTTP status").
HttpRule parse_http_rule(const Json& spec);

}  // namespace mambogo::sim::netproxy
