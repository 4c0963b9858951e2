// The Artillery cross-check: the seed's Artillery plan run by Artillery itself and by
// mambogo-load against the same mambogo-crosscheck-server, with the plan's phases scaled the
// same way for both (mambogo-load's --rate-scale/--time-scale; for Artillery an --overrides
// phase list computed from the same scaled plan, so the file itself is never changed).
// Artillery gets two plugins through --overrides: its own metrics-by-endpoint (counts, codes and
// latencies per URL template) and tests/bench/artillery_crosscheck/artillery-plugins'
// mambogo-seed-functions, which gives it the seed's $randomUUID()/$randomInt() (Artillery 2
// lacks them; verbatim, it sends items: [{}] and no product URL). With `seed_shim` off, the
// plan runs in Artillery exactly as written.
//
// The bench (artillery-crosscheck) prints the comparison; tests/integration/load/
// tst_artillery_crosscheck asserts what must agree whatever the timing.
//
// Thread-safety: none; one run at a time. Processes are bounded by timeouts and killed on
// every exit path.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mambogo::crosscheck {

struct Latency {  // ms
  double p50 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;
  std::int64_t count = 0;
};

struct Endpoint {
  std::int64_t requests = 0;  // answered with a status
  std::int64_t errors = 0;    // no answer (transport errors, invalid URLs)
  std::map<std::string, std::int64_t> classes;  // "2xx" -> count
  Latency latency;                              // as the tool reports it (see below)
};

// One tool's view of a run, keyed by URL template ("/api/orders/{{ orderId }}"); Artillery's
// metrics-by-endpoint names endpoints that way, mambogo-load names requests "METHOD template".
struct ToolResult {
  std::string tool;
  std::map<std::string, Endpoint> endpoints;
  std::map<std::string, std::int64_t> scenarios;  // virtual users / iterations started
  std::int64_t arrivals = 0;                       // all of them (+ dropped for mambogo-load)
  Latency overall;
  std::optional<Latency> overall_corrected;  // mambogo-load's coordinated-omission-corrected
  double wall_s = 0;                         // the tool's process, start to exit
};

// Artillery's --output JSON (aggregate counters and summaries, with metrics-by-endpoint).
ToolResult read_artillery_report(const nlohmann::json& report);
// mambogo-load's --out JSON. Latency is its service time (first byte written to last byte
// read), the nearest to Artillery's http.response_time (got's timings.phases.firstByte: from
// the request sent to the first byte of the answer); neither counts queueing before the send.
ToolResult read_mambogo_report(const nlohmann::json& report);
// The server's /stats ({"METHOD /route": {"STATUS": n}}) keyed like the tools' endpoints.
std::map<std::string, std::map<std::string, std::int64_t>> read_server_stats(const nlohmann::json& stats);

struct Options {
  std::string plan;            // the seed's Artillery plan
  std::string mambogo_load;    // path to mambogo-load
  std::string server;          // path to mambogo-crosscheck-server
  std::string artillery;       // path to artillery (see find_artillery)
  std::string plugin_dir;      // tests/bench/artillery_crosscheck/artillery-plugins
  double rate_scale = 0.2, time_scale = 0.1;
  int server_delay_ms = 2;
  bool seed_shim = true;
  std::string work_dir;  // reports and logs go here
};

struct Planned {
  std::int64_t arrivals = 0;                      // the scaled plan's arrivals, all phases
  std::map<std::string, double> scenario_weight;  // normalised to 1
  nlohmann::json artillery_phases;                // the overrides' phase list
};

struct Result {
  Planned planned;
  ToolResult artillery, mambogo;
  // What the server counted during each tool's run, by endpoint and status.
  std::map<std::string, std::map<std::string, std::int64_t>> server_artillery, server_mambogo;
};

// $MAMBOGO_ARTILLERY, else <build dir>/artillery, else ~/.cache/mambogo/artillery (where
// install-artillery.sh puts it); empty when none holds an executable artillery.
std::string find_artillery(const std::string& build_dir);

Planned plan_phases(const Options& options);
// Runs mambogo-load, then Artillery. Throws std::runtime_error with the tool's output when a
// process cannot be started, times out or fails.
Result run(const Options& options);

// The side-by-side table with ratios (Artillery / mambogo-load) and the planned counts.
std::string format(const Result& result);

// The endpoint template of a mambogo-load request name ("GET /a/{{ x }}" -> "/a/{{ x }}").
std::string endpoint_of(const std::string& request_name);

}  // namespace mambogo::crosscheck
