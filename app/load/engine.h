// The load engine: runs a Plan against HTTP/1.1 servers and measures it.
//
// Transport: Asio on `threads` worker threads, each with its own io_context, its own
// keep-alive connection pool (LIFO reuse; a pooled connection the server closed is replaced
// and the request sent again once) and its own share of the load, so the request path takes
// one uncontended mutex (the worker's statistics) and nothing else. Connect and request
// timeouts apply to every request; the request timeout covers writing and reading.
//
// Open model (Plan::phases): every arrival is scheduled at its intended time (ArrivalSchedule)
// and its first request's latency counts from that time, later steps' from the end of the
// step before them (wrk2's correction); the uncorrected service time is recorded as well.
// At most max_in_flight iterations run at once (like wrk2's connections): a later arrival
// waits in a FIFO queue and starts when one ends, its latency still counted from its intended
// time, so a stalled server shows as latency of the queued requests, not as a lower rate.
// An arrival that finds max_queued arrivals already waiting, or its phase's maxVusers
// iterations running, is counted as dropped, never silently skipped.
// Closed model (Plan::groups): virtual users start evenly over the ramp-up after the delay,
// then loop their scenario `loops` times or until the group's duration ends.
//
// Ending: no iteration starts after max_duration_s (or the plan's own end); iterations
// running then get `grace` to finish, after which their sockets and timers are cancelled.
// stop() does the same at once. Each iteration's flow ends at a transport error or a failed
// capture (as Artillery ends a virtual user); HTTP error statuses and failed assertions are
// counted and the flow goes on.
//
// Thread-safety: run() once, from one thread; it calls on_snapshot on that thread once per
// snapshot_interval. stop() from any thread (e.g. a signal-watching thread).
// Errors: the constructor throws PlanError when the plan cannot run (no workload, no
// scenario, a target that is not http://host:port).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "load/plan.h"
#include "load/stats.h"

namespace mambogo::load {

struct EngineOptions {
  std::string target;  // when set, replaces scheme://host:port of every request
  int threads = 1;
  std::int64_t max_in_flight = 2'000;  // open model: concurrent iterations
  std::int64_t max_queued = 100'000;   // open model: arrivals waiting for a free slot
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{30'000};
  std::optional<double> max_duration_s;
  std::chrono::milliseconds grace{5'000};
  std::chrono::milliseconds snapshot_interval{1'000};
  Variables properties;  // for ${__P(name,default)}
  EnvLookup env = process_environment();
  std::optional<std::uint64_t> seed;  // random when not set
};

using SnapshotCallback = std::function<void(const Snapshot&)>;

class Engine {
 public:
  Engine(Plan plan, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Summary run(const SnapshotCallback& on_snapshot = {});
  void stop();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mambogo::load
