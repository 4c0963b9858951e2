// What a run measures. Two latencies per request, both in µs in Histograms:
//   corrected  from the request's intended start (open model: its scheduled arrival, or the
//              end of the previous step) to the last byte of the response. A stalled server
//              shows here as latency of every request queued behind the stall (wrk2's
//              coordinated-omission correction). This is http_req_duration.
//   service    from the first byte written to the last byte read (what wrk and k6 report).
// A request fails on a transport error, a status >= 400, a failed capture or assertion.
//
// Ownership: plain values. Thread-safety: RequestStats is not synchronised (the engine
// guards each worker's copy with that worker's mutex); Snapshot and Summary are immutable
// once delivered.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "load/histogram.h"

namespace mambogo::load {

struct StatusClasses {
  std::int64_t c1xx = 0, c2xx = 0, c3xx = 0, c4xx = 0, c5xx = 0;
  std::int64_t transport = 0;  // no response: connect failure, timeout, reset, bad response

  void add(int status);  // status 0 counts as transport
  void merge(const StatusClasses& o);
};

struct RequestStats {
  std::int64_t count = 0;  // requests completed (answered or failed)
  std::int64_t failed = 0;
  std::int64_t bytes_sent = 0, bytes_received = 0;
  StatusClasses classes;
  std::map<std::string, std::int64_t> errors;  // "connect refused", "timeout", "status 503", ...
  Histogram corrected;
  Histogram service;

  void merge(const RequestStats& o);
};

struct Percentiles {
  double p50 = 0, p90 = 0, p95 = 0, p99 = 0, p999 = 0, max = 0;  // ms
  static Percentiles of(const Histogram& h);
};

// Delivered once a second while a run is going, and kept as the run's timeline.
struct Snapshot {
  double elapsed_s = 0;
  std::string phase;
  double rps = 0;                   // requests completed in this interval per second
  std::int64_t requests = 0;        // in this interval
  std::int64_t failed = 0;          // in this interval
  StatusClasses classes;            // in this interval
  Percentiles latency;              // corrected, this interval
  Percentiles service;              // uncorrected, this interval
  std::int64_t in_flight = 0;       // iterations (virtual users) running right now
  std::int64_t queued = 0;          // open model: arrivals waiting for a free slot
  std::int64_t dropped = 0;         // since the start
  std::int64_t total_requests = 0;  // since the start
};

struct NamedStats {
  std::string name;
  RequestStats stats;
};

struct Summary {
  double duration_s = 0;
  std::string target;
  RequestStats overall;
  std::vector<NamedStats> requests;               // per request name, in first-seen order
  std::map<std::string, std::int64_t> scenarios;  // iterations started per scenario
  std::int64_t iterations_started = 0;
  std::int64_t iterations_completed = 0;
  std::int64_t dropped = 0;
  // The sum of each worker thread's peak of running iterations: exact with one thread, an
  // upper bound otherwise.
  std::int64_t vus_max = 0;
  std::vector<Snapshot> timeline;
  bool stopped_early = false;
};

}  // namespace mambogo::load
