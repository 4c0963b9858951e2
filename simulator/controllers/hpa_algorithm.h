// The HorizontalPodAutoscaler's decision, as Kubernetes makes it (pkg/controller/podautoscaler:
// replica_calculator.go and horizontal.go), as functions of plain inputs: the HPA's spec, the
// target's replicas, the pods with their requests, readiness and measured usage, the per-HPA
// history of recommendations and scale events, and the time. No store, no clock, no threads —
// HpaController feeds it from the store and the NodeBackend and writes the result back.
//
// Units follow Kubernetes' metrics client: every resource amount is in milli-units (CPU in
// millicores, memory in millibytes), as Quantity.MilliValue() gives them.
//
// Thread-safety: pure functions; a History belongs to one HPA and must not be shared between
// threads without a lock.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mambogo::sim::hpa {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// ---- spec (autoscaling/v2 HorizontalPodAutoscalerSpec) ----

enum class TargetType { utilization, average_value };

struct MetricSpec {
  std::string type = "Resource";  // "Resource" or "ContainerResource"; other types cannot be served
  std::string resource = "cpu";   // "cpu", "memory"
  std::string container;          // ContainerResource only
  TargetType target = TargetType::utilization;
  std::int32_t average_utilization = 0;  // percent of the request (target utilization)
  std::int64_t average_value_milli = 0;  // target average value (target average_value)
};

enum class PolicyType { pods, percent };
struct ScalingPolicy {
  PolicyType type = PolicyType::pods;
  std::int32_t value = 0;
  std::int32_t period_seconds = 15;
};

enum class SelectPolicy { max, min, disabled };
struct ScalingRules {
  std::optional<std::int32_t> stabilization_window_seconds;  // scale down: nullopt = the controller's default
  SelectPolicy select = SelectPolicy::max;
  std::vector<ScalingPolicy> policies;
};

struct Behavior {
  ScalingRules scale_up;
  ScalingRules scale_down;
};

struct Spec {
  std::int32_t min_replicas = 1;
  std::int32_t max_replicas = 1;
  std::vector<MetricSpec> metrics;
  std::optional<Behavior> behavior;  // nullopt: the controller's legacy normalization (as k8s)
};

// Kubernetes' defaults for rules left out of a given behavior (GenerateHPAScaleUpRules /
// GenerateHPAScaleDownRules): scale up window 0, Max of {4 pods, 100%} per 15 s; scale down
// Max of {100%} per 15 s, window left to the controller (300 s by default).
ScalingRules default_scale_up_rules();
ScalingRules default_scale_down_rules();

// Parses spec (the JSON of an HPA's .spec) with the API server's defaults (minReplicas 1,
// metrics cpu 80% when none, behavior rules filled in when behavior is given). Throws
// std::invalid_argument saying which field is wrong.
Spec parse_spec(const nlohmann::json& spec);

// ---- pods and their metrics ----

struct ContainerInfo {
  std::string name;
  std::map<std::string, std::int64_t> requests_milli;  // resource → request; absent: none set
  std::map<std::string, std::int64_t> usage_milli;     // resource → measured usage; empty: not among the measured containers
};

struct PodInfo {
  std::string name;
  std::string phase = "Running";  // Pending, Running, Succeeded, Failed
  bool deleting = false;          // metadata.deletionTimestamp set
  std::optional<bool> ready;      // the Ready condition's status; nullopt: no Ready condition
  TimePoint ready_transition{};   // the Ready condition's lastTransitionTime
  std::optional<TimePoint> start_time;
  bool measured = false;          // the pod has metrics (metrics.k8s.io would list it)
  TimePoint metrics_timestamp{};  // end of the measurement window
  std::chrono::milliseconds metrics_window{0};
  std::vector<ContainerInfo> containers;
};

// ---- tunables (kube-controller-manager flags) ----

struct Options {
  double tolerance = 0.1;                                           // --horizontal-pod-autoscaler-tolerance
  std::chrono::milliseconds cpu_initialization_period{300'000};     // ...-cpu-initialization-period
  std::chrono::milliseconds initial_readiness_delay{30'000};        // ...-initial-readiness-delay
  std::chrono::milliseconds downscale_stabilization_window{300'000};  // ...-downscale-stabilization
};

// ---- one metric: replica_calculator.go ----

struct Proposal {
  std::int32_t replicas = 0;
  std::optional<std::int32_t> utilization;  // percent, for utilization targets
  std::int64_t average_milli = 0;           // raw average usage per pod (milli-units)
  std::string error;                        // non-empty: no proposal (k8s' error text)
};

// GetResourceReplicas (utilization) or GetRawResourceReplicas (average value) for one metric.
Proposal resource_replicas(const std::vector<PodInfo>& pods, const MetricSpec& metric, std::int32_t current_replicas,
                           const Options& options, TimePoint now);

// ---- the whole reconcile: horizontal.go ----

struct Condition {
  std::string type;    // AbleToScale, ScalingActive, ScalingLimited
  std::string status;  // "True" / "False"
  std::string reason;
  std::string message;
};

struct MetricStatus {
  std::string type;  // "Resource" / "ContainerResource"; empty for a metric that failed (as k8s leaves it)
  std::string resource;
  std::string container;
  std::optional<std::int32_t> average_utilization;
  std::int64_t average_value_milli = 0;
};

struct Event {
  std::string type;  // Normal / Warning
  std::string reason;
  std::string message;
};

struct Recommendation {
  std::int32_t replicas = 0;
  TimePoint timestamp{};
};
struct ScaleEvent {
  std::int32_t change = 0;
  TimePoint timestamp{};
  bool outdated = false;
};
// What the controller remembers per HPA between syncs (k8s: recommendations, scaleUpEvents,
// scaleDownEvents).
struct History {
  std::vector<Recommendation> recommendations;
  std::vector<ScaleEvent> scale_up_events;
  std::vector<ScaleEvent> scale_down_events;
};

struct Input {
  Spec spec;
  std::int32_t spec_replicas = 0;  // the target's scale: spec.replicas
  std::vector<PodInfo> pods;       // the pods the target's selector matches
  TimePoint now{};
};

struct Decision {
  std::int32_t current_replicas = 0;
  // False when every metric failed (or some failed while the rest would scale down): status
  // keeps its previous desiredReplicas and nothing is scaled.
  bool computed = true;
  bool rescale = false;
  std::int32_t desired_replicas = 0;
  std::string rescale_reason;        // "cpu resource utilization (percentage of request) above target", ...
  std::vector<MetricStatus> metrics;  // status.currentMetrics, one per spec metric when computed
  std::vector<Condition> conditions;  // to apply in order (set_condition)
  std::vector<Event> events;          // Warning events raised while computing
};

// One reconcile up to (not including) updating the target's scale. Records the recommendation
// in `history`. When the decision is to rescale, the caller updates the scale and then calls
// rescaled() (or failed_rescale()).
Decision decide(const Input& input, const Options& options, History& history);

// After a successful scale update: the AbleToScale condition and SuccessfulRescale event k8s
// adds, and the scale event remembered for behavior policies.
void rescaled(Decision& decision, const Spec& spec, History& history, TimePoint now);
// After a failed scale update: FailedRescale event, AbleToScale False FailedUpdateScale.
void failed_rescale(Decision& decision, const std::string& error);

// setConditionInList: updates or appends; lastTransitionTime changes only with the status.
void set_condition(nlohmann::json& conditions, const Condition& condition, const std::string& now_rfc3339);

// status.currentMetrics entries as autoscaling/v2 serializes them; averageValue as a Quantity
// string (DecimalSI from milli-units: "250m", "1", "52428800").
nlohmann::json to_json(const MetricStatus& status);
std::string format_milli_quantity(std::int64_t milli);

}  // namespace mambogo::sim::hpa
