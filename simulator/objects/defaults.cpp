#include "objects/defaults.h"

namespace mambogo::sim {

namespace {

using Json = nlohmann::json;

void set_default(Json& object, const char* key, const Json& value) {
  if (!object.contains(key) || object[key].is_null()) object[key] = value;
}

std::string image_pull_policy(const std::string& image) {
  if (image.find('@') != std::string::npos) return "IfNotPresent";
  const auto slash = image.rfind('/');
  const auto colon = image.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return "Always";
  return image.substr(colon + 1) == "latest" ? "Always" : "IfNotPresent";
}

void default_probe(Json& probe) {
  if (!probe.is_object()) return;
  set_default(probe, "timeoutSeconds", 1);
  set_default(probe, "periodSeconds", 10);
  set_default(probe, "successThreshold", 1);
  set_default(probe, "failureThreshold", 3);
  if (probe.contains("httpGet") && probe["httpGet"].is_object()) {
    set_default(probe["httpGet"], "path", "/");
    set_default(probe["httpGet"], "scheme", "HTTP");
  }
}

void default_container(Json& c) {
  if (!c.is_object()) return;
  if (c.contains("image") && c["image"].is_string()) set_default(c, "imagePullPolicy", image_pull_policy(c["image"]));
  set_default(c, "terminationMessagePath", "/dev/termination-log");
  set_default(c, "terminationMessagePolicy", "File");
  if (c.contains("ports") && c["ports"].is_array())
    for (auto& p : c["ports"])
      if (p.is_object()) set_default(p, "protocol", "TCP");
  set_default(c, "resources", Json::object());
  auto& res = c["resources"];
  if (res.is_object() && res.contains("limits") && res["limits"].is_object()) {
    if (!res.contains("requests") || !res["requests"].is_object()) res["requests"] = Json::object();
    for (const auto& [name, value] : res["limits"].items())
      if (!res["requests"].contains(name)) res["requests"][name] = value;
  }
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"})
    if (c.contains(probe)) default_probe(c[probe]);
  if (c.contains("env") && c["env"].is_array())
    for (auto& e : c["env"])
      if (e.is_object() && e.contains("valueFrom") && e["valueFrom"].is_object() &&
          e["valueFrom"].contains("fieldRef") && e["valueFrom"]["fieldRef"].is_object())
        set_default(e["valueFrom"]["fieldRef"], "apiVersion", "v1");
}

void default_int_or_percent(Json& object, const char* key, const char* value) { set_default(object, key, value); }

const Json& scale_up_default_policies() {
  static const Json policies = Json::array({{{"type", "Pods"}, {"value", 4}, {"periodSeconds", 15}},
                                            {{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}});
  return policies;
}

void default_hpa(Json& hpa) {
  if (!hpa.contains("spec") || !hpa["spec"].is_object()) return;
  auto& spec = hpa["spec"];
  set_default(spec, "minReplicas", 1);
  if (!spec.contains("metrics") || !spec["metrics"].is_array() || spec["metrics"].empty())
    spec["metrics"] = Json::array({{{"type", "Resource"},
                                    {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 80}}}}}}});
  if (spec.contains("behavior") && spec["behavior"].is_object()) {
    auto& behavior = spec["behavior"];
    set_default(behavior, "scaleUp", Json::object());
    set_default(behavior, "scaleDown", Json::object());
    auto& up = behavior["scaleUp"];
    auto& down = behavior["scaleDown"];
    if (up.is_object()) {
      set_default(up, "stabilizationWindowSeconds", 0);
      set_default(up, "selectPolicy", "Max");
      set_default(up, "policies", scale_up_default_policies());
    }
    if (down.is_object()) {
      set_default(down, "stabilizationWindowSeconds", 300);
      set_default(down, "selectPolicy", "Max");
      set_default(down, "policies", Json::array({{{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}}));
    }
  }
}

std::string base64(const std::string& in) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned n = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += {table[n >> 18], table[(n >> 12) & 63], table[(n >> 6) & 63], table[n & 63]};
  }
  if (i + 1 == in.size()) {
    const unsigned n = (unsigned char)in[i] << 16;
    out += {table[n >> 18], table[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned n = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += {table[n >> 18], table[(n >> 12) & 63], table[(n >> 6) & 63], '='};
  }
  return out;
}

}  // namespace

void default_pod_spec(Json& spec) {
  if (!spec.is_object()) return;
  set_default(spec, "restartPolicy", "Always");
  set_default(spec, "terminationGracePeriodSeconds", 30);
  set_default(spec, "dnsPolicy", "ClusterFirst");
  set_default(spec, "schedulerName", "default-scheduler");
  set_default(spec, "securityContext", Json::object());
  set_default(spec, "enableServiceLinks", true);
  for (const char* list : {"containers", "initContainers"})
    if (spec.contains(list) && spec[list].is_array())
      for (auto& c : spec[list]) default_container(c);
}

void default_pod_template(Json& template_spec) {
  if (!template_spec.is_object()) return;
  if (template_spec.contains("spec")) default_pod_spec(template_spec["spec"]);
}

void apply_defaults(const std::string& resource, Json& object) {
  if (!object.is_object()) return;
  if (resource == "pods") {
    if (object.contains("spec")) default_pod_spec(object["spec"]);
    return;
  }
  if (resource == "secrets") {
    set_default(object, "type", "Opaque");
    if (object.contains("stringData") && object["stringData"].is_object()) {
      set_default(object, "data", Json::object());
      for (const auto& [key, value] : object["stringData"].items())
        if (value.is_string()) object["data"][key] = base64(value.get<std::string>());
      object.erase("stringData");
    }
    return;
  }
  if (resource == "horizontalpodautoscalers.autoscaling") {
    default_hpa(object);
    return;
  }
  if (!object.contains("spec") || !object["spec"].is_object()) return;
  auto& spec = object["spec"];
  if (resource == "deployments.apps") {
    set_default(spec, "replicas", 1);
    set_default(spec, "strategy", Json::object());
    auto& strategy = spec["strategy"];
    if (strategy.is_object()) {
      set_default(strategy, "type", "RollingUpdate");
      if (strategy["type"] == "RollingUpdate") {
        set_default(strategy, "rollingUpdate", Json::object());
        if (strategy["rollingUpdate"].is_object()) {
          default_int_or_percent(strategy["rollingUpdate"], "maxUnavailable", "25%");
          default_int_or_percent(strategy["rollingUpdate"], "maxSurge", "25%");
        }
      }
    }
    set_default(spec, "revisionHistoryLimit", 10);
    set_default(spec, "progressDeadlineSeconds", 600);
    if (spec.contains("template")) default_pod_template(spec["template"]);
  } else if (resource == "replicasets.apps") {
    set_default(spec, "replicas", 1);
    if (spec.contains("template")) default_pod_template(spec["template"]);
  } else if (resource == "statefulsets.apps") {
    set_default(spec, "replicas", 1);
    set_default(spec, "podManagementPolicy", "OrderedReady");
    set_default(spec, "updateStrategy", Json::object());
    auto& update = spec["updateStrategy"];
    if (update.is_object()) {
      set_default(update, "type", "RollingUpdate");
      if (update["type"] == "RollingUpdate") {
        set_default(update, "rollingUpdate", Json::object());
        if (update["rollingUpdate"].is_object()) set_default(update["rollingUpdate"], "partition", 0);
      }
    }
    set_default(spec, "revisionHistoryLimit", 10);
    set_default(spec, "persistentVolumeClaimRetentionPolicy", Json{{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}});
    if (spec.contains("template")) default_pod_template(spec["template"]);
  } else if (resource == "services") {
    set_default(spec, "type", "ClusterIP");
    if (spec["type"] != "ExternalName") {
      set_default(spec, "sessionAffinity", "None");
      set_default(spec, "internalTrafficPolicy", "Cluster");
    }
    if (spec["type"] == "NodePort" || spec["type"] == "LoadBalancer") set_default(spec, "externalTrafficPolicy", "Cluster");
    if (spec.contains("ports") && spec["ports"].is_array())
      for (auto& p : spec["ports"]) {
        if (!p.is_object()) continue;
        set_default(p, "protocol", "TCP");
        if (p.contains("port")) set_default(p, "targetPort", p["port"]);
      }
  }
}

}  // namespace mambogo::sim
