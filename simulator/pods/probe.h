// Container probes as kubelet runs them: the network checks (HTTP GET, TCP connect) and the
// bookkeeping of one probe's result under successThreshold/failureThreshold.
//
// http_get/tcp_connect block for at most `timeout`; they may be called from any thread.
// ProbeTracker is a value owned by one pod worker (not thread-safe).
#pragma once

#include "store/store.h"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace mambogo::sim {

struct ProbeOutcome {
  bool success = false;
  std::string message;  // why it failed ("HTTP probe failed with statuscode: 404", ...)
};

// A blocking HTTP/1.1 GET (kube-probe's request); success for a status in [200, 400).
ProbeOutcome http_get(const std::string& host, int port, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::chrono::milliseconds timeout);
// Success when a TCP connection to host:port is established within the timeout.
ProbeOutcome tcp_connect(const std::string& host, int port, std::chrono::milliseconds timeout);

enum class ProbeKind { startup, liveness, readiness };

// The probe fields with Kubernetes' defaults (period 10 s, timeout 1 s, thresholds 1 and 3).
struct ProbeSettings {
  std::chrono::milliseconds initial_delay{0};
  std::chrono::milliseconds period{10'000};
  std::chrono::milliseconds timeout{1'000};
  int success_threshold = 1;
  int failure_threshold = 3;
  // time_scale multiplies initialDelaySeconds and periodSeconds (demos; 1 = Kubernetes).
  static ProbeSettings from_json(const Json& probe, double time_scale = 1.0);
};

// kubelet's prober worker state: the result changes only after `threshold` equal outcomes in
// a row. Initial results: readiness failure, liveness success, startup unknown (false). After
// a liveness or startup failure the tracker is on hold until reset() (the container restarts).
class ProbeTracker {
 public:
  ProbeTracker() = default;
  ProbeTracker(ProbeKind kind, ProbeSettings settings);

  // A new container instance started at `started`.
  void reset(std::chrono::steady_clock::time_point started);
  // The periodic run is due (initialDelaySeconds after the start, then every periodSeconds).
  bool due(std::chrono::steady_clock::time_point now) const { return !on_hold_ && now >= next_; }
  // When the next periodic run is due (time_point::max() while on hold).
  std::chrono::steady_clock::time_point next_due() const {
    return on_hold_ ? std::chrono::steady_clock::time_point::max() : next_;
  }
  // Whether an extra run may happen now (kubelet's manual trigger): not on hold and past
  // initialDelaySeconds.
  bool may_run(std::chrono::steady_clock::time_point now) const { return !on_hold_ && now >= first_due_; }
  // Records an outcome; returns true when the result changed. A periodic run schedules the
  // next one a period later; an extra run leaves the period's schedule as it was.
  bool record(bool success, std::chrono::steady_clock::time_point now, bool periodic = true);
  bool result() const { return result_; }
  bool on_hold() const { return on_hold_; }
  const ProbeSettings& settings() const { return settings_; }

 private:
  ProbeKind kind_ = ProbeKind::readiness;
  ProbeSettings settings_;
  bool result_ = false;
  bool known_ = false;  // startup starts unknown
  bool last_outcome_ = false;
  int run_ = 0;
  bool on_hold_ = false;
  std::chrono::steady_clock::time_point next_{};
  std::chrono::steady_clock::time_point first_due_{};
};

}  // namespace mambogo::sim
