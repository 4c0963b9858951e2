#include "controllers/hpa_controller.h"

#include "controllers/object_util.h"
#include "objects/quantity.h"
#include "objects/selector.h"

#include <spdlog/spdlog.h>

#include <cmath>

namespace mambogo::sim {
namespace {

constexpr const char* kResource = "horizontalpodautoscalers.autoscaling";
constexpr const char* kComponent = "horizontal-pod-autoscaler";

std::string target_resource(const Json& ref) {
  const std::string kind = ref.value("kind", "");
  const std::string api = ref.value("apiVersion", "");
  const std::string group = api.find('/') == std::string::npos ? "" : api.substr(0, api.find('/'));
  if (group != "apps") return {};
  if (kind == "Deployment") return "deployments.apps";
  if (kind == "StatefulSet") return "statefulsets.apps";
  if (kind == "ReplicaSet") return "replicasets.apps";
  return {};
}

std::optional<std::int64_t> request_milli(const std::string& resource, const Json& quantity) {
  try {
    if (resource == "cpu") return cpu_millis(quantity);
    if (resource == "memory") return memory_bytes(quantity) * 1000;
    if (quantity.is_string()) return static_cast<std::int64_t>(std::ceil(parse_quantity(quantity.get<std::string>()) * 1000));
  } catch (const std::invalid_argument&) {
  }
  return std::nullopt;
}

}  // namespace

HpaController::HpaController(Store& store, const NodeBackend& node, Options options)
    : store_(store),
      node_(node),
      options_(options),
      loop_("hpa-controller", options.sync_period, [this] { return list_keys(); },
            [this](const ctl::Key& key) { sync(key); }) {}

HpaController::~HpaController() { stop(); }

void HpaController::start() {
  if (!watches_.empty()) return;
  // New HPAs are looked at at once, deleted ones forgotten; everything else waits for the sync
  // period, as in Kubernetes (a status write must not trigger another decision).
  watches_.push_back(store_.watch(kResource, "", 0, [this](const WatchEvent& e) {
    if (e.type != EventType::modified) loop_.enqueue(ref_of(kResource, e.object));
  }));
  loop_.start();
}

void HpaController::stop() {
  for (auto id : watches_) store_.unwatch(id);
  watches_.clear();
  loop_.stop();
}

std::vector<ctl::Key> HpaController::list_keys() const {
  std::vector<ctl::Key> keys;
  for (const Json& h : store_.list(kResource).items) keys.push_back(ref_of(kResource, h));
  return keys;
}

hpa::PodInfo HpaController::pod_info(const Json& pod) const {
  hpa::PodInfo info;
  info.name = name_of(pod);
  const Json status = pod.value("status", Json::object());
  info.phase = status.value("phase", "Pending");
  info.deleting = ctl::is_deleting(pod);
  if (const Json* ready = ctl::pod_condition(pod, "Ready")) {
    info.ready = ready->value("status", "") == "True";
    info.ready_transition = ctl::parse_time_value(ready->value("lastTransitionTime", Json())).value_or(ctl::TimePoint{});
  }
  info.start_time = ctl::parse_time_value(status.value("startTime", Json()));
  for (const Json& c : pod.value("spec", Json::object()).value("containers", Json::array())) {
    hpa::ContainerInfo container;
    container.name = c.value("name", "");
    const Json requests = c.value("resources", Json::object()).value("requests", Json::object());
    for (const auto& [resource, quantity] : requests.items())
      if (auto milli = request_milli(resource, quantity)) container.requests_milli[resource] = *milli;
    info.containers.push_back(container);
  }
  if (auto usage = node_.pod_usage(namespace_of(pod), info.name)) {
    info.measured = true;
    info.metrics_timestamp = ctl::parse_time(usage->timestamp).value_or(std::chrono::system_clock::now());
    info.metrics_window = std::chrono::milliseconds(static_cast<std::int64_t>(usage->window_seconds * 1000));
    for (const ContainerUsage& u : usage->containers) {
      for (hpa::ContainerInfo& c : info.containers) {
        if (c.name != u.name) continue;
        // Quantity.MilliValue() rounds up: 1 nanocore is 1 millicore.
        c.usage_milli["cpu"] = static_cast<std::int64_t>((u.cpu_nanocores + 999'999) / 1'000'000);
        c.usage_milli["memory"] = static_cast<std::int64_t>(u.memory_bytes) * 1000;
      }
    }
  }
  return info;
}

void HpaController::write_status(const Json& hpa_object, const std::vector<hpa::Condition>& conditions,
                                 const std::function<void(Json& status)>& fill) {
  const std::string uid = ctl::uid_of(hpa_object);
  const std::string now = ctl::format_time(std::chrono::system_clock::now());
  try {
    store_.mutate(ref_of(kResource, hpa_object), [&](Json& h) {
      if (ctl::uid_of(h) != uid) return;
      Json& status = h["status"];
      if (!status.is_object()) status = Json::object();
      Json list = status.value("conditions", Json::array());
      for (const hpa::Condition& c : conditions) hpa::set_condition(list, c, now);
      status["conditions"] = list;
      fill(status);
    });
  } catch (const StoreError& e) {
    if (e.reason() != StoreError::Reason::not_found) throw;
  }
}

void HpaController::sync(const ctl::Key& key) {
  auto found = store_.get(key);
  if (!found) {
    histories_.erase(key);
    return;
  }
  const Json& object = *found;
  const Json spec_json = object.value("spec", Json::object());
  hpa::Spec spec;
  try {
    spec = hpa::parse_spec(spec_json);
  } catch (const std::invalid_argument& e) {
    spdlog::warn("hpa-controller: {}/{}: {}", key.ns, key.name, e.what());
    return;
  }
  Tracked& tracked = histories_[key];
  if (tracked.uid != ctl::uid_of(object)) tracked = Tracked{ctl::uid_of(object), {}};

  // The target's scale.
  const Json target_ref = spec_json.value("scaleTargetRef", Json::object());
  const std::string resource = target_resource(target_ref);
  std::optional<Json> target;
  std::string scale_error;
  if (resource.empty()) {
    scale_error = "the server could not find the requested resource (" + target_ref.value("apiVersion", "") + ", Kind=" +
                  target_ref.value("kind", "") + ")";
  } else {
    target = store_.get({resource, key.ns, target_ref.value("name", "")});
    if (!target) scale_error = resource + " \"" + target_ref.value("name", "") + "\" not found";
  }
  if (!scale_error.empty()) {
    ctl::record(store_, kResource, object, "Warning", "FailedGetScale", scale_error, kComponent);
    write_status(object, {{"AbleToScale", "False", "FailedGetScale", "the HPA controller was unable to get the target's current scale: " + scale_error}},
                 [](Json&) {});
    return;
  }
  const Json target_spec = target->value("spec", Json::object());
  const std::int32_t spec_replicas = target_spec.value("replicas", 1);
  LabelSelector selector;
  try {
    selector = LabelSelector::from_json(target_spec.value("selector", Json()));
  } catch (const std::invalid_argument& e) {
    scale_error = e.what();
  }
  if (selector.empty() && scale_error.empty()) scale_error = "selector is required";
  if (!scale_error.empty()) {
    ctl::record(store_, kResource, object, "Warning", "InvalidSelector", scale_error, kComponent);
    write_status(object, {{"AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale"},
                          {"ScalingActive", "False", "InvalidSelector", "the HPA target's scale is missing a selector"}},
                 [&](Json& status) { status["currentReplicas"] = spec_replicas; });
    return;
  }

  hpa::Input input;
  input.spec = spec;
  input.spec_replicas = spec_replicas;
  input.now = std::chrono::system_clock::now();
  for (const Json& pod : store_.list("pods", key.ns).items)
    if (selector.matches(metadata_of(pod).value("labels", Json::object()))) input.pods.push_back(pod_info(pod));

  hpa::Decision decision = hpa::decide(input, options_.algorithm, tracked.history);
  if (decision.rescale) {
    try {
      const std::int32_t desired = decision.desired_replicas;
      store_.mutate(ref_of(resource, *target), [&](Json& t) { t["spec"]["replicas"] = desired; });
      hpa::rescaled(decision, spec, tracked.history, input.now);
    } catch (const StoreError& e) {
      hpa::failed_rescale(decision, e.what());
      decision.rescale = false;
    }
  }
  for (const hpa::Event& e : decision.events) ctl::record(store_, kResource, object, e.type, e.reason, e.message, kComponent);

  const std::string now = ctl::format_time(input.now);
  write_status(object, decision.conditions, [&](Json& status) {
    status["currentReplicas"] = decision.current_replicas;
    if (decision.computed) status["desiredReplicas"] = decision.desired_replicas;
    else if (!status.contains("desiredReplicas")) status["desiredReplicas"] = 0;
    if (decision.rescale) status["lastScaleTime"] = now;
    Json metrics = Json::array();
    for (const hpa::MetricStatus& m : decision.metrics) metrics.push_back(hpa::to_json(m));
    if (metrics.empty()) status.erase("currentMetrics");
    else status["currentMetrics"] = metrics;
  });
}

}  // namespace mambogo::sim
