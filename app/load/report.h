// Turns a run's results into what people read: the live progress line, the k6-like end
// summary, the wrk2-like latency report of `mambogo-load bench`, results JSON, a per-second
// CSV timeline, and a self-contained HTML report (inline SVG charts, no scripts, no external
// resources). Pure functions of their arguments.
//
// Thread-safety: none needed (no shared state).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "load/stats.h"
#include "load/threshold.h"

namespace mambogo::load {

// "[Sustained load] 12s/480s  rps 49.8  p99 12.3ms  errors 0  in-flight 3  dropped 0"
std::string progress_line(const Snapshot& s, double planned_s);
std::string text_summary(const Summary& s, const std::vector<ThresholdResult>& thresholds);
// wrk2's "Latency Distribution (HdrHistogram - Recorded Latency)" and "Detailed Percentile
// spectrum" for the corrected histogram, then the uncorrected one.
std::string latency_report(const Summary& s);
nlohmann::json results_json(const Summary& s, const std::vector<ThresholdResult>& thresholds);
std::string timeline_csv(const Summary& s);
std::string html_report(const Summary& s, const std::vector<ThresholdResult>& thresholds,
                        const std::string& title);

}  // namespace mambogo::load
