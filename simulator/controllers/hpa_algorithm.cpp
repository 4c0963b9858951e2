#include "controllers/hpa_algorithm.h"

#include "objects/quantity.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <set>
#include <stdexcept>

namespace mambogo::sim::hpa {
namespace {

using Json = nlohmann::json;

// ---- parsing ----

std::int32_t int_field(const Json& object, const char* key, std::int32_t fallback, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) throw std::invalid_argument(where + "." + key + " must be an integer");
  return it->get<std::int32_t>();
}

std::int64_t milli_of(const Json& quantity, const std::string& resource) {
  if (resource == "cpu") return cpu_millis(quantity);
  const double base = quantity.is_number() ? quantity.get<double>()
                                           : parse_quantity(quantity.is_string() ? quantity.get<std::string>() : quantity.dump());
  return static_cast<std::int64_t>(std::ceil(base * 1000.0));
}

MetricSpec parse_metric(const Json& m, const std::string& where) {
  MetricSpec spec;
  spec.type = m.value("type", "");
  const char* source_key = spec.type == "Resource" ? "resource" : spec.type == "ContainerResource" ? "containerResource" : nullptr;
  if (source_key == nullptr) return spec;  // unsupported type: reported when computing
  const Json& source = m.contains(source_key) ? m.at(source_key) : Json::object();
  spec.resource = source.value("name", "");
  if (spec.resource.empty()) throw std::invalid_argument(where + "." + source_key + ".name is required");
  spec.container = source.value("container", "");
  const Json& target = source.contains("target") ? source.at("target") : Json::object();
  const std::string type = target.value("type", "");
  if (type == "Utilization") {
    spec.target = TargetType::utilization;
    spec.average_utilization = int_field(target, "averageUtilization", 0, where + ".target");
    if (spec.average_utilization <= 0)
      throw std::invalid_argument(where + ".target.averageUtilization must be greater than 0");
  } else if (type == "AverageValue") {
    spec.target = TargetType::average_value;
    if (!target.contains("averageValue")) throw std::invalid_argument(where + ".target.averageValue is required");
    spec.average_value_milli = milli_of(target.at("averageValue"), spec.resource);
    if (spec.average_value_milli <= 0) throw std::invalid_argument(where + ".target.averageValue must be positive");
  } else {
    throw std::invalid_argument(where + ".target.type must be Utilization or AverageValue for a resource metric");
  }
  return spec;
}

ScalingRules parse_rules(const Json& rules, ScalingRules defaults, const std::string& where) {
  if (rules.is_null()) return defaults;
  ScalingRules result = defaults;
  if (rules.contains("stabilizationWindowSeconds") && !rules.at("stabilizationWindowSeconds").is_null())
    result.stabilization_window_seconds = int_field(rules, "stabilizationWindowSeconds", 0, where);
  const std::string select = rules.value("selectPolicy", "Max");
  if (select == "Max") result.select = SelectPolicy::max;
  else if (select == "Min") result.select = SelectPolicy::min;
  else if (select == "Disabled") result.select = SelectPolicy::disabled;
  else throw std::invalid_argument(where + ".selectPolicy must be Max, Min or Disabled");
  if (rules.contains("policies") && !rules.at("policies").is_null()) {
    result.policies.clear();
    for (const Json& p : rules.at("policies")) {
      ScalingPolicy policy;
      const std::string type = p.value("type", "");
      if (type == "Pods") policy.type = PolicyType::pods;
      else if (type == "Percent") policy.type = PolicyType::percent;
      else throw std::invalid_argument(where + ".policies[].type must be Pods or Percent");
      policy.value = int_field(p, "value", 0, where + ".policies[]");
      policy.period_seconds = int_field(p, "periodSeconds", 0, where + ".policies[]");
      if (policy.value <= 0 || policy.period_seconds <= 0)
        throw std::invalid_argument(where + ".policies[]: value and periodSeconds must be positive");
      result.policies.push_back(policy);
    }
  }
  return result;
}

// ---- replica_calculator.go ----

struct Grouped {
  int ready_count = 0;
  std::set<std::string> unready, missing, ignored;
};

// The pod's metric value and whether it has one (metrics client: sum over measured containers).
std::optional<std::int64_t> pod_metric(const PodInfo& pod, const MetricSpec& metric) {
  if (!pod.measured) return std::nullopt;
  std::int64_t sum = 0;
  bool found_container = false;
  for (const ContainerInfo& c : pod.containers) {
    if (!metric.container.empty() && c.name != metric.container) continue;
    if (c.usage_milli.empty()) continue;  // not among the measured containers
    auto it = c.usage_milli.find(metric.resource);
    if (it == c.usage_milli.end()) return std::nullopt;  // measured without this resource: missing
    sum += it->second;
    found_container = true;
  }
  if (!metric.container.empty() && !found_container) return std::nullopt;
  return sum;
}

Grouped group_pods(const std::vector<PodInfo>& pods, const std::map<std::string, std::int64_t>& metrics,
                   const std::string& resource, const Options& options, TimePoint now) {
  Grouped g;
  for (const PodInfo& pod : pods) {
    if (pod.deleting || pod.phase == "Failed") {
      g.ignored.insert(pod.name);
      continue;
    }
    if (pod.phase == "Pending") {
      g.unready.insert(pod.name);
      continue;
    }
    if (!metrics.contains(pod.name)) {
      g.missing.insert(pod.name);
      continue;
    }
    if (resource == "cpu") {
      bool unready = false;
      if (!pod.ready.has_value() || !pod.start_time.has_value()) {
        unready = true;
      } else if (*pod.start_time + options.cpu_initialization_period > now) {
        // Within the initialization period: unready, or no full window measured since the transition.
        unready = !*pod.ready || pod.metrics_timestamp < pod.ready_transition + pod.metrics_window;
      } else {
        // Afterwards: ignore only a pod that is unready and has never been ready.
        unready = !*pod.ready && *pod.start_time + options.initial_readiness_delay > pod.ready_transition;
      }
      if (unready) {
        g.unready.insert(pod.name);
        continue;
      }
    }
    ++g.ready_count;
  }
  return g;
}

struct Ratio {
  double ratio = 0;
  std::int32_t utilization = 0;
  std::int64_t average = 0;
  std::string error;
};

// GetResourceUtilizationRatio: integer percent first, ratio from that integer (as k8s).
Ratio utilization_ratio(const std::map<std::string, std::int64_t>& metrics,
                        const std::map<std::string, std::int64_t>& requests, std::int32_t target) {
  std::int64_t metrics_total = 0, requests_total = 0, entries = 0;
  for (const auto& [name, value] : metrics) {
    auto r = requests.find(name);
    if (r == requests.end()) continue;
    metrics_total += value;
    requests_total += r->second;
    ++entries;
  }
  if (requests_total == 0) return {0, 0, 0, "no metrics returned matched known pods"};
  Ratio result;
  result.utilization = static_cast<std::int32_t>(metrics_total * 100 / requests_total);
  result.ratio = static_cast<double>(result.utilization) / static_cast<double>(target);
  result.average = metrics_total / entries;
  return result;
}

// GetMetricUsageRatio.
Ratio usage_ratio(const std::map<std::string, std::int64_t>& metrics, std::int64_t target) {
  std::int64_t total = 0;
  for (const auto& [name, value] : metrics) total += value;
  Ratio result;
  result.average = total / static_cast<std::int64_t>(metrics.size());
  result.ratio = static_cast<double>(result.average) / static_cast<double>(target);
  return result;
}

std::int32_t ceil_replicas(double ratio, std::size_t count) {
  return static_cast<std::int32_t>(std::ceil(ratio * static_cast<double>(count)));
}

// ---- horizontal.go: normalization ----

struct Limited {
  std::int32_t replicas;
  std::string reason;
  std::string message;
};

Limited convert_with_rules(std::int32_t current, std::int32_t desired, std::int32_t min_replicas, std::int32_t max_replicas) {
  // scaleUpLimitFactor 2, scaleUpLimitMinimum 4.
  const auto scale_up_limit = static_cast<std::int32_t>(std::max(2.0 * current, 4.0));
  Limited maximum = max_replicas > scale_up_limit
                        ? Limited{scale_up_limit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"}
                        : Limited{max_replicas, "TooManyReplicas", "the desired replica count is more than the maximum replica count"};
  if (desired < min_replicas)
    return {min_replicas, "TooFewReplicas", "the desired replica count is less than the minimum replica count"};
  if (desired > maximum.replicas) return maximum;
  return {desired, "DesiredWithinRange", "the desired count is within the acceptable range"};
}

std::int32_t stabilize_legacy(History& history, std::int32_t desired, const Options& options, TimePoint now) {
  std::int32_t max_recommendation = desired;
  std::optional<std::size_t> old_sample;
  const TimePoint cutoff = now - options.downscale_stabilization_window;
  for (std::size_t i = 0; i < history.recommendations.size(); ++i) {
    const Recommendation& rec = history.recommendations[i];
    if (rec.timestamp < cutoff) old_sample = i;
    else if (rec.replicas > max_recommendation) max_recommendation = rec.replicas;
  }
  if (old_sample) history.recommendations[*old_sample] = {desired, now};
  else history.recommendations.push_back({desired, now});
  return max_recommendation;
}

struct Stabilized {
  std::int32_t replicas;
  std::string reason;
  std::string message;
};

Stabilized stabilize_with_behavior(History& history, const Behavior& behavior, std::int32_t current, std::int32_t desired,
                                   TimePoint now) {
  const TimePoint up_cutoff = now - std::chrono::seconds(behavior.scale_up.stabilization_window_seconds.value_or(0));
  const TimePoint down_cutoff = now - std::chrono::seconds(behavior.scale_down.stabilization_window_seconds.value_or(0));
  std::int32_t up = desired, down = desired;
  std::optional<std::size_t> old_sample;
  for (std::size_t i = 0; i < history.recommendations.size(); ++i) {
    const Recommendation& rec = history.recommendations[i];
    if (rec.timestamp > up_cutoff) up = std::min(rec.replicas, up);
    if (rec.timestamp > down_cutoff) down = std::max(rec.replicas, down);
    if (rec.timestamp < up_cutoff && rec.timestamp < down_cutoff) old_sample = i;
  }
  std::int32_t recommendation = current;
  if (recommendation < up) recommendation = up;
  if (recommendation > down) recommendation = down;
  if (old_sample) history.recommendations[*old_sample] = {desired, now};
  else history.recommendations.push_back({desired, now});
  if (desired >= current)
    return {recommendation, "ScaleUpStabilized",
            "recent recommendations were lower than current one, applying the lowest recent recommendation"};
  return {recommendation, "ScaleDownStabilized",
          "recent recommendations were higher than current one, applying the highest recent recommendation"};
}

std::int32_t change_in_period(std::int32_t period_seconds, const std::vector<ScaleEvent>& events, TimePoint now) {
  const TimePoint cutoff = now - std::chrono::seconds(period_seconds);
  std::int32_t replicas = 0;
  for (const ScaleEvent& e : events)
    if (e.timestamp > cutoff) replicas += e.change;
  return replicas;
}

std::int32_t scale_up_limit(std::int32_t current, const History& h, const ScalingRules& rules, TimePoint now) {
  if (rules.select == SelectPolicy::disabled) return current;
  const bool pick_min = rules.select == SelectPolicy::min;
  std::int32_t result = pick_min ? INT32_MAX : INT32_MIN;
  for (const ScalingPolicy& p : rules.policies) {
    const std::int32_t start = current - change_in_period(p.period_seconds, h.scale_up_events, now) +
                               change_in_period(p.period_seconds, h.scale_down_events, now);
    const std::int32_t proposed =
        p.type == PolicyType::pods ? start + p.value
                                   : static_cast<std::int32_t>(std::ceil(start * (1.0 + p.value / 100.0)));
    result = pick_min ? std::min(result, proposed) : std::max(result, proposed);
  }
  return result;
}

std::int32_t scale_down_limit(std::int32_t current, const History& h, const ScalingRules& rules, TimePoint now) {
  if (rules.select == SelectPolicy::disabled) return current;
  const bool pick_min_change = rules.select == SelectPolicy::min;
  std::int32_t result = pick_min_change ? INT32_MIN : INT32_MAX;
  for (const ScalingPolicy& p : rules.policies) {
    const std::int32_t start = current - change_in_period(p.period_seconds, h.scale_up_events, now) +
                               change_in_period(p.period_seconds, h.scale_down_events, now);
    const std::int32_t proposed =
        p.type == PolicyType::pods ? start - p.value : static_cast<std::int32_t>(start * (1.0 - p.value / 100.0));
    result = pick_min_change ? std::max(result, proposed) : std::min(result, proposed);
  }
  return result;
}

Limited convert_with_behavior(const History& h, const Behavior& behavior, std::int32_t current, std::int32_t desired,
                              std::int32_t min_replicas, std::int32_t max_replicas, TimePoint now) {
  if (desired > current) {
    const std::int32_t limit = std::max(scale_up_limit(current, h, behavior.scale_up, now), current);
    Limited maximum = max_replicas > limit
                          ? Limited{limit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"}
                          : Limited{max_replicas, "TooManyReplicas", "the desired replica count is more than the maximum replica count"};
    if (desired > maximum.replicas) return maximum;
  } else if (desired < current) {
    const std::int32_t limit = std::min(scale_down_limit(current, h, behavior.scale_down, now), current);
    Limited minimum = min_replicas < limit
                          ? Limited{limit, "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate"}
                          : Limited{min_replicas, "TooFewReplicas", "the desired replica count is less than the minimum replica count"};
    if (desired < minimum.replicas) return minimum;
  }
  return {desired, "DesiredWithinRange", "the desired count is within the acceptable range"};
}

std::int32_t normalize(const Input& in, const Options& options, History& history, std::int32_t current,
                       std::int32_t desired, std::vector<Condition>& conditions) {
  std::int32_t stabilized;
  std::string stabilized_reason = "ScaleDownStabilized";
  std::string stabilized_message = "recent recommendations were higher than current one, applying the highest recent recommendation";
  Limited limited;
  if (!in.spec.behavior) {
    stabilized = stabilize_legacy(history, desired, options, in.now);
    limited = convert_with_rules(current, stabilized, in.spec.min_replicas, in.spec.max_replicas);
  } else {
    Behavior behavior = *in.spec.behavior;
    if (!behavior.scale_down.stabilization_window_seconds)  // maybeInitScaleDownStabilizationWindow
      behavior.scale_down.stabilization_window_seconds = static_cast<std::int32_t>(
          std::chrono::duration_cast<std::chrono::seconds>(options.downscale_stabilization_window).count());
    Stabilized s = stabilize_with_behavior(history, behavior, current, desired, in.now);
    stabilized = s.replicas;
    stabilized_reason = s.reason;
    stabilized_message = s.message;
    limited = convert_with_behavior(history, behavior, current, stabilized, in.spec.min_replicas,
                                    in.spec.max_replicas, in.now);
  }
  if (stabilized != desired) conditions.push_back({"AbleToScale", "True", stabilized_reason, stabilized_message});
  else conditions.push_back({"AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size"});
  conditions.push_back({"ScalingLimited", limited.replicas == stabilized ? "False" : "True", limited.reason, limited.message});
  return limited.replicas;
}

std::string metric_name(const MetricSpec& m) {
  if (m.target == TargetType::average_value) return m.resource + " resource";
  if (m.type == "ContainerResource") return m.resource + " container resource utilization (percentage of request)";
  return m.resource + " resource utilization (percentage of request)";
}

struct MetricsResult {
  std::int32_t replicas = -1;
  std::string metric;
  std::string error;
};

MetricsResult compute_for_metrics(const Input& in, const Options& options, Decision& d) {
  MetricsResult result;
  result.replicas = 0;
  int invalid = 0;
  std::optional<Condition> first_invalid;
  std::string first_error;
  d.metrics.assign(in.spec.metrics.size(), MetricStatus{});
  for (std::size_t i = 0; i < in.spec.metrics.size(); ++i) {
    const MetricSpec& m = in.spec.metrics[i];
    std::string reason, error;
    Proposal p;
    if (m.type != "Resource" && m.type != "ContainerResource") {
      reason = "InvalidMetricSourceType";
      error = "invalid metric source type \"" + m.type + "\" (this cluster serves Resource and ContainerResource metrics)";
    } else {
      p = resource_replicas(in.pods, m, in.spec_replicas, options, in.now);
      if (!p.error.empty()) {
        reason = m.type == "Resource" ? "FailedGetResourceMetric" : "FailedGetContainerResourceMetric";
        error = "failed to get " + m.resource + (m.target == TargetType::average_value ? " usage: " : " utilization: ") + p.error;
      }
    }
    if (!error.empty()) {
      d.events.push_back({"Warning", reason, error});
      if (invalid == 0) {
        first_invalid = Condition{"ScalingActive", "False", reason, "the HPA was unable to compute the replica count: " + error};
        first_error = error;
      }
      ++invalid;
      continue;
    }
    d.metrics[i] = MetricStatus{m.type, m.resource, m.container, p.utilization, p.average_milli};
    if (result.replicas == 0 || p.replicas > result.replicas) {
      result.replicas = p.replicas;
      result.metric = metric_name(m);
    }
  }
  if (invalid > 0)
    result.error = "invalid metrics (" + std::to_string(invalid) + " invalid out of " + std::to_string(in.spec.metrics.size()) +
                   "), first error is: " + first_error;
  if (invalid >= static_cast<int>(in.spec.metrics.size()) || (invalid > 0 && result.replicas < in.spec_replicas)) {
    if (first_invalid) d.conditions.push_back(*first_invalid);
    result.replicas = -1;
    return result;
  }
  d.conditions.push_back({"ScalingActive", "True", "ValidMetricFound",
                          "the HPA was able to successfully calculate a replica count from " + result.metric});
  return result;
}

}  // namespace

ScalingRules default_scale_up_rules() {
  return ScalingRules{0, SelectPolicy::max, {{PolicyType::pods, 4, 15}, {PolicyType::percent, 100, 15}}};
}

ScalingRules default_scale_down_rules() {
  return ScalingRules{std::nullopt, SelectPolicy::max, {{PolicyType::percent, 100, 15}}};
}

Spec parse_spec(const Json& spec) {
  if (!spec.is_object()) throw std::invalid_argument("spec must be an object");
  Spec result;
  result.min_replicas = int_field(spec, "minReplicas", 1, "spec");
  if (!spec.contains("maxReplicas")) throw std::invalid_argument("spec.maxReplicas is required");
  result.max_replicas = int_field(spec, "maxReplicas", 1, "spec");
  if (result.max_replicas < 1) throw std::invalid_argument("spec.maxReplicas must be at least 1");
  if (result.min_replicas > result.max_replicas)
    throw std::invalid_argument("spec.minReplicas must be less than or equal to spec.maxReplicas");
  const Json metrics = spec.value("metrics", Json::array());
  if (metrics.empty()) {
    result.metrics.push_back(MetricSpec{"Resource", "cpu", "", TargetType::utilization, 80, 0});
  } else {
    for (std::size_t i = 0; i < metrics.size(); ++i)
      result.metrics.push_back(parse_metric(metrics[i], "spec.metrics[" + std::to_string(i) + "]"));
  }
  if (spec.contains("behavior") && spec.at("behavior").is_object()) {
    const Json& b = spec.at("behavior");
    result.behavior = Behavior{parse_rules(b.value("scaleUp", Json()), default_scale_up_rules(), "spec.behavior.scaleUp"),
                               parse_rules(b.value("scaleDown", Json()), default_scale_down_rules(), "spec.behavior.scaleDown")};
  }
  return result;
}

Proposal resource_replicas(const std::vector<PodInfo>& pods, const MetricSpec& metric, std::int32_t current_replicas,
                           const Options& options, TimePoint now) {
  Proposal out;
  std::map<std::string, std::int64_t> metrics;
  for (const PodInfo& pod : pods)
    if (auto v = pod_metric(pod, metric)) metrics[pod.name] = *v;
  if (metrics.empty()) {
    // The metrics API answered with nothing for the selector.
    out.error = "unable to get metrics for resource " + metric.resource + ": no metrics returned from resource metrics API";
    return out;
  }
  if (pods.empty()) {
    out.error = "no pods returned by selector while calculating replica count";
    return out;
  }
  Grouped g = group_pods(pods, metrics, metric.resource, options, now);
  for (const auto& name : g.ignored) metrics.erase(name);
  for (const auto& name : g.unready) metrics.erase(name);
  if (metrics.empty()) {
    out.error = "did not receive metrics for targeted pods (pods might be unready)";
    return out;
  }

  const bool utilization = metric.target == TargetType::utilization;
  std::map<std::string, std::int64_t> requests;
  if (utilization) {
    for (const PodInfo& pod : pods) {
      std::int64_t sum = 0;
      for (const ContainerInfo& c : pod.containers) {
        if (!metric.container.empty() && c.name != metric.container) continue;
        auto r = c.requests_milli.find(metric.resource);
        if (r == c.requests_milli.end()) {
          out.error = "missing request for " + metric.resource + " in container " + c.name + " of Pod " + pod.name;
          return out;
        }
        sum += r->second;
      }
      requests[pod.name] = sum;
    }
  }
  auto ratio_of = [&](const std::map<std::string, std::int64_t>& m) {
    return utilization ? utilization_ratio(m, requests, metric.average_utilization)
                       : usage_ratio(m, metric.average_value_milli);
  };

  const Ratio first = ratio_of(metrics);
  if (!first.error.empty()) {
    out.error = first.error;
    return out;
  }
  if (utilization) out.utilization = first.utilization;
  out.average_milli = first.average;

  const bool scale_up_with_unready = !g.unready.empty() && first.ratio > 1.0;
  if (!scale_up_with_unready && g.missing.empty()) {
    if (std::abs(1.0 - first.ratio) <= options.tolerance) out.replicas = current_replicas;
    else out.replicas = static_cast<std::int32_t>(std::ceil(first.ratio * g.ready_count));
    return out;
  }

  if (!g.missing.empty()) {
    if (first.ratio < 1.0) {
      // Scale down: missing pods count as using 100% of their request (or the target when higher).
      for (const auto& name : g.missing)
        metrics[name] = utilization ? requests[name] * std::max<std::int64_t>(100, metric.average_utilization) / 100
                                    : metric.average_value_milli;
    } else if (first.ratio > 1.0 || !utilization) {
      for (const auto& name : g.missing) metrics[name] = 0;  // scale up: 0%
    }
  }
  if (scale_up_with_unready)
    for (const auto& name : g.unready) metrics[name] = 0;

  const Ratio second = ratio_of(metrics);
  if (!second.error.empty()) {
    out.error = second.error;
    return out;
  }
  if (std::abs(1.0 - second.ratio) <= options.tolerance || (first.ratio < 1.0 && second.ratio > 1.0) ||
      (first.ratio > 1.0 && second.ratio < 1.0)) {
    out.replicas = current_replicas;  // too small a change, or the direction would flip
    return out;
  }
  const std::int32_t proposed = ceil_replicas(second.ratio, metrics.size());
  if ((second.ratio < 1.0 && proposed > current_replicas) || (second.ratio > 1.0 && proposed < current_replicas)) {
    out.replicas = current_replicas;
    return out;
  }
  out.replicas = proposed;
  return out;
}

Decision decide(const Input& in, const Options& options, History& history) {
  Decision d;
  const std::int32_t current = in.spec_replicas;
  d.current_replicas = current;
  d.conditions.push_back({"AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale"});
  if (history.recommendations.empty()) history.recommendations.push_back({current, in.now});  // recordInitialRecommendation

  const std::int32_t min_replicas = in.spec.min_replicas;
  if (in.spec_replicas == 0 && min_replicas != 0) {
    d.desired_replicas = 0;
    d.rescale = false;
    d.conditions.push_back({"ScalingActive", "False", "ScalingDisabled", "scaling is disabled since the replica count of the target is zero"});
  } else if (current > in.spec.max_replicas) {
    d.rescale_reason = "Current number of replicas above Spec.MaxReplicas";
    d.desired_replicas = in.spec.max_replicas;
    d.rescale = true;
  } else if (current < min_replicas) {
    d.rescale_reason = "Current number of replicas below Spec.MinReplicas";
    d.desired_replicas = min_replicas;
    d.rescale = true;
  } else {
    MetricsResult m = compute_for_metrics(in, options, d);
    if (m.replicas == -1) {
      d.computed = false;
      d.rescale = false;
      d.events.push_back({"Warning", "FailedComputeMetricsReplicas", m.error});
      return d;
    }
    std::int32_t desired = 0;
    std::string rescale_metric;
    if (m.replicas > desired) {
      desired = m.replicas;
      rescale_metric = m.metric;
    }
    if (desired > current) d.rescale_reason = rescale_metric + " above target";
    if (desired < current) d.rescale_reason = "All metrics below target";
    d.desired_replicas = normalize(in, options, history, current, desired, d.conditions);
    d.rescale = d.desired_replicas != current;
  }
  if (!d.rescale) d.desired_replicas = current;
  return d;
}

void rescaled(Decision& d, const Spec& spec, History& history, TimePoint now) {
  d.conditions.push_back({"AbleToScale", "True", "SucceededRescale",
                          "the HPA controller was able to update the target scale to " + std::to_string(d.desired_replicas)});
  d.events.push_back({"Normal", "SuccessfulRescale",
                      "New size: " + std::to_string(d.desired_replicas) + "; reason: " + d.rescale_reason});
  if (!spec.behavior) return;  // storeScaleEvent keeps nothing without a behavior
  const bool up = d.desired_replicas > d.current_replicas;
  const ScalingRules& rules = up ? spec.behavior->scale_up : spec.behavior->scale_down;
  std::int32_t longest = 0;
  for (const ScalingPolicy& p : rules.policies) longest = std::max(longest, p.period_seconds);
  auto& events = up ? history.scale_up_events : history.scale_down_events;
  const TimePoint cutoff = now - std::chrono::seconds(longest);
  std::optional<std::size_t> reuse;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].timestamp < cutoff) events[i].outdated = true;
    if (events[i].outdated) reuse = i;
  }
  const ScaleEvent event{up ? d.desired_replicas - d.current_replicas : d.current_replicas - d.desired_replicas, now, false};
  if (reuse) events[*reuse] = event;
  else events.push_back(event);
}

void failed_rescale(Decision& d, const std::string& error) {
  d.events.push_back({"Warning", "FailedRescale",
                      "New size: " + std::to_string(d.desired_replicas) + "; reason: " + d.rescale_reason + "; error: " + error});
  d.conditions.push_back({"AbleToScale", "False", "FailedUpdateScale", "the HPA controller was unable to update the target scale: " + error});
  d.desired_replicas = d.current_replicas;
}

void set_condition(Json& conditions, const Condition& c, const std::string& now) {
  if (!conditions.is_array()) conditions = Json::array();
  Json* existing = nullptr;
  for (Json& item : conditions)
    if (item.value("type", "") == c.type) existing = &item;
  if (existing == nullptr) {
    conditions.push_back(Json{{"type", c.type}});
    existing = &conditions.back();
  }
  if (existing->value("status", "") != c.status) (*existing)["lastTransitionTime"] = now;
  (*existing)["status"] = c.status;
  (*existing)["reason"] = c.reason;
  (*existing)["message"] = c.message;
}

std::string format_milli_quantity(std::int64_t milli) {
  if (milli % 1000 != 0) return std::to_string(milli) + "m";
  std::int64_t value = milli / 1000;
  static const char* const suffixes[] = {"", "k", "M", "G", "T", "P", "E"};
  int exponent = 0;
  while (value != 0 && value % 1000 == 0 && exponent < 6) {
    value /= 1000;
    ++exponent;
  }
  return std::to_string(value) + suffixes[exponent];
}

Json to_json(const MetricStatus& s) {
  if (s.type.empty()) return Json{{"type", ""}};
  Json current{{"averageValue", format_milli_quantity(s.average_value_milli)}};
  if (s.average_utilization) current["averageUtilization"] = *s.average_utilization;
  const char* key = s.type == "ContainerResource" ? "containerResource" : "resource";
  Json source{{"name", s.resource}, {"current", current}};
  if (!s.container.empty()) source["container"] = s.container;
  return Json{{"type", s.type}, {key, source}};
}

}  // namespace mambogo::sim::hpa
