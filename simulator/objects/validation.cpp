#include "objects/validation.h"

#include "objects/quantity.h"
#include "objects/selector.h"

#include <regex>
#include <set>

namespace mambogo::sim {

namespace {

using Json = nlohmann::json;

// The declared fields of the kinds served, by type name. A field's type is a scalar
// ("string", "integer", "boolean", "intstr", "quantity"), "any" (not checked further), a
// type name, "[T]" (a list of T) or "{T}" (a map of T).
const Json& schema() {
  static const Json types = Json::parse(R"json({
  "ObjectMeta": {"name": "string", "generateName": "string", "namespace": "string", "selfLink": "string",
    "uid": "string", "resourceVersion": "string", "generation": "integer", "creationTimestamp": "any",
    "deletionTimestamp": "any", "deletionGracePeriodSeconds": "integer", "labels": "{string}",
    "annotations": "{string}", "ownerReferences": "[OwnerReference]", "finalizers": "[string]",
    "managedFields": "any"},
  "OwnerReference": {"apiVersion": "string", "kind": "string", "name": "string", "uid": "string",
    "controller": "boolean", "blockOwnerDeletion": "boolean"},
  "LabelSelector": {"matchLabels": "{string}", "matchExpressions": "[LabelSelectorRequirement]"},
  "LabelSelectorRequirement": {"key": "string", "operator": "string", "values": "[string]"},
  "PodTemplateSpec": {"metadata": "ObjectMeta", "spec": "PodSpec"},
  "PodSpec": {"volumes": "[any]", "initContainers": "[Container]", "containers": "[Container]",
    "ephemeralContainers": "any", "restartPolicy": "string", "terminationGracePeriodSeconds": "integer",
    "activeDeadlineSeconds": "integer", "dnsPolicy": "string", "nodeSelector": "{string}",
    "serviceAccountName": "string", "serviceAccount": "string", "automountServiceAccountToken": "boolean",
    "nodeName": "string", "hostNetwork": "boolean", "hostPID": "boolean", "hostIPC": "boolean",
    "shareProcessNamespace": "boolean", "securityContext": "any", "imagePullSecrets": "[any]",
    "hostname": "string", "subdomain": "string", "affinity": "any", "schedulerName": "string",
    "tolerations": "any", "hostAliases": "any", "priorityClassName": "string", "priority": "integer",
    "dnsConfig": "any", "readinessGates": "any", "runtimeClassName": "string", "enableServiceLinks": "boolean",
    "preemptionPolicy": "string", "overhead": "any", "topologySpreadConstraints": "any",
    "setHostnameAsFQDN": "boolean", "os": "any", "hostUsers": "boolean", "schedulingGates": "any",
    "resourceClaims": "any", "resources": "any"},
  "Container": {"name": "string", "image": "string", "command": "[string]", "args": "[string]",
    "workingDir": "string", "ports": "[ContainerPort]", "envFrom": "[EnvFromSource]", "env": "[EnvVar]",
    "resources": "ResourceRequirements", "resizePolicy": "any", "restartPolicy": "string",
    "volumeMounts": "[VolumeMount]", "volumeDevices": "any", "livenessProbe": "Probe", "readinessProbe": "Probe",
    "startupProbe": "Probe", "lifecycle": "any", "terminationMessagePath": "string",
    "terminationMessagePolicy": "string", "imagePullPolicy": "string", "securityContext": "any",
    "stdin": "boolean", "stdinOnce": "boolean", "tty": "boolean"},
  "ContainerPort": {"name": "string", "hostPort": "integer", "containerPort": "integer", "protocol": "string",
    "hostIP": "string"},
  "EnvVar": {"name": "string", "value": "string", "valueFrom": "any"},
  "EnvFromSource": {"prefix": "string", "configMapRef": "any", "secretRef": "any"},
  "ResourceRequirements": {"limits": "{quantity}", "requests": "{quantity}", "claims": "any"},
  "VolumeMount": {"name": "string", "readOnly": "boolean", "mountPath": "string", "subPath": "string",
    "mountPropagation": "string", "subPathExpr": "string", "recursiveReadOnly": "string"},
  "Probe": {"exec": "any", "httpGet": "HTTPGetAction", "tcpSocket": "any", "grpc": "any",
    "initialDelaySeconds": "integer", "timeoutSeconds": "integer", "periodSeconds": "integer",
    "successThreshold": "integer", "failureThreshold": "integer", "terminationGracePeriodSeconds": "integer"},
  "HTTPGetAction": {"path": "string", "port": "intstr", "host": "string", "scheme": "string", "httpHeaders": "any"},
  "Pod": {"apiVersion": "string", "kind": "string", "metadata": "ObjectMeta", "spec": "PodSpec", "status": "any"},
  "Deployment": {"apiVersion": "string", "kind": "string", "metadata": "ObjectMeta", "spec": "DeploymentSpec",
    "status": "any"},
  "DeploymentSpec": {"replicas": "integer", "selector": "LabelSelector", "template": "PodTemplateSpec",
    "strategy": "DeploymentStrategy", "minReadySeconds": "integer", "revisionHistoryLimit": "integer",
    "paused": "boolean", "progressDeadlineSeconds": "integer"},
  "DeploymentStrategy": {"type": "string", "rollingUpdate": "RollingUpdateDeployment"},
  "RollingUpdateDeployment": {"maxUnavailable": "intstr", "maxSurge": "intstr"},
  "ReplicaSet": {"apiVersion": "string", "kind": "string", "metadata": "ObjectMeta", "spec": "ReplicaSetSpec",
    "status": "any"},
  "ReplicaSetSpec": {"replicas": "integer", "minReadySeconds": "integer", "selector": "LabelSelector",
    "template": "PodTemplateSpec"},
  "StatefulSet": {"apiVersion": "string", "kind": "string", "metadata": "ObjectMeta", "spec": "StatefulSetSpec",
    "status": "any"},
  "StatefulSetSpec": {"replicas": "integer", "selector": "LabelSelector", "template": "PodTemplateSpec",
    "volumeClaimTemplates": "any", "serviceName": "string", "podManagementPolicy": "string",
    "updateStrategy": "any", "revisionHistoryLimit": "integer", "minReadySeconds": "integer",
    "persistentVolumeClaimRetentionPolicy": "any", "ordinals": "any"},
  "Service": {"apiVersion": "string", "kind": "string", "metadata": "ObjectMeta", "spec": "ServiceSpec",
    "status": "any"},
  "ServiceSpec": {"ports": "[ServicePort]", "selector": "{string}", "clusterIP": "string", "clusterIPs": "[string]",
    "type": "string", "externalIPs": "[string]", "sessionAffinity": "string", "loadBalancerIP": "string",
    "loadBalancerSourceRanges": "[string]", "externalName": "string", "externalTrafficPolicy": "string",
    "healthCheckNodePort": "integer", "publishNotReadyAddresses": "boolean", "sessionAffinityConfig": "any",
    "ipFamilies": "[string]", "ipFamilyPolicy": "string", "allocateLoadBalancerNodePorts": "boolean",
    "loadBalancerClass": "string", "internalTrafficPolicy": "string", "trafficDistribution": "string"},
  "ServicePort": {"name": "string", "protocol": "string", "appProtocol": "string", "port": "integer",
    "targetPort": "intstr", "nodePort": "integer"},
  "HorizontalPodAutoscaler": {"apiVersion": "string", "kind": "string", "metadata": "ObjectMeta",
    "spec": "HorizontalPodAutoscalerSpec", "status": "any"},
  "HorizontalPodAutoscalerSpec": {"scaleTargetRef": "CrossVersionObjectReference", "minReplicas": "integer",
    "maxReplicas": "integer", "metrics": "[MetricSpec]", "behavior": "any"},
  "CrossVersionObjectReference": {"kind": "string", "name": "string", "apiVersion": "string"},
  "MetricSpec": {"type": "string", "object": "any", "pods": "any", "resource": "ResourceMetricSource",
    "containerResource": "any", "external": "any"},
  "ResourceMetricSource": {"name": "string", "target": "MetricTarget"},
  "MetricTarget": {"type": "string", "value": "quantity", "averageValue": "quantity", "averageUtilization": "integer"},
  "ConfigMap": {"apiVersion": "string", "kind": "string", "metadata": "ObjectMeta", "data": "{string}",
    "binaryData": "{string}", "immutable": "boolean"},
  "Secret": {"apiVersion": "string", "kind": "string", "metadata": "ObjectMeta", "data": "{string}",
    "stringData": "{string}", "type": "string", "immutable": "boolean"},
  "Generic": {"apiVersion": "string", "kind": "string", "metadata": "ObjectMeta", "spec": "any", "status": "any"}
})json");
  return types;
}

std::string type_of_resource(const std::string& resource) {
  static const std::map<std::string, std::string> types{
      {"pods", "Pod"},
      {"deployments.apps", "Deployment"},
      {"replicasets.apps", "ReplicaSet"},
      {"statefulsets.apps", "StatefulSet"},
      {"services", "Service"},
      {"horizontalpodautoscalers.autoscaling", "HorizontalPodAutoscaler"},
      {"configmaps", "ConfigMap"},
      {"secrets", "Secret"}};
  auto it = types.find(resource);
  if (it != types.end()) return it->second;
  if (resource == "namespaces" || resource == "nodes" || resource.find(".chaos-mesh.org") != std::string::npos)
    return "Generic";
  return "any";  // endpoints, events: many fields, all accepted
}

// Walks `value` against `type`; collects (and, with drop, removes) undeclared fields.
void walk(Json& value, const std::string& type, const std::string& path, std::vector<std::string>& unknown, bool drop) {
  if (type == "any" || value.is_null()) return;
  if (type.size() > 2 && type.front() == '[') {
    if (!value.is_array()) return;
    const std::string inner = type.substr(1, type.size() - 2);
    for (std::size_t i = 0; i < value.size(); ++i)
      walk(value[i], inner, path + "[" + std::to_string(i) + "]", unknown, drop);
    return;
  }
  if (type.size() > 2 && type.front() == '{') {
    if (!value.is_object()) return;
    const std::string inner = type.substr(1, type.size() - 2);
    for (auto& [key, item] : value.items()) walk(item, inner, path + "." + key, unknown, drop);
    return;
  }
  const auto& types = schema();
  auto t = types.find(type);
  if (t == types.end() || !value.is_object()) return;
  for (auto it = value.begin(); it != value.end();) {
    const std::string field_path = path.empty() ? it.key() : path + "." + it.key();
    auto declared = t->find(it.key());
    if (declared == t->end()) {
      unknown.push_back(field_path);
      if (drop) {
        it = value.erase(it);
        continue;
      }
    } else {
      walk(it.value(), declared->get<std::string>(), field_path, unknown, drop);
    }
    ++it;
  }
}

// ---- name and value rules ----

bool alnum_lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return alnum_lower(c) || (c >= 'A' && c <= 'Z'); }

const char* kSubdomainMessage =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const char* kLabelMessage =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end "
    "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const char* kDns1035Message =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, "
    "and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
    "'[a-z]([-a-z0-9]*[a-z0-9])?')";

std::string quoted(const Json& v) { return v.is_string() ? "\"" + v.get<std::string>() + "\"" : v.dump(); }

struct Errors {
  std::vector<FieldError> list;
  void required(const std::string& field) { list.push_back({field, "FieldValueRequired", "Required value"}); }
  void invalid(const std::string& field, const Json& value, const std::string& why) {
    list.push_back({field, "FieldValueInvalid", "Invalid value: " + quoted(value) + ": " + why});
  }
  void not_supported(const std::string& field, const Json& value, const std::vector<std::string>& supported) {
    std::string s;
    for (const auto& v : supported) s += (s.empty() ? "" : ", ") + ("\"" + v + "\"");
    list.push_back({field, "FieldValueNotSupported", "Unsupported value: " + quoted(value) + ": supported values: " + s});
  }
  void duplicate(const std::string& field, const Json& value) {
    list.push_back({field, "FieldValueDuplicate", "Duplicate value: " + quoted(value)});
  }
  void forbidden(const std::string& field, const std::string& why) {
    list.push_back({field, "FieldValueForbidden", "Forbidden: " + why});
  }
};

bool one_of(const Json& v, const std::vector<std::string>& allowed) {
  return v.is_string() && std::find(allowed.begin(), allowed.end(), v.get<std::string>()) != allowed.end();
}

void enum_field(Errors& e, const Json& object, const char* key, const std::string& path,
                const std::vector<std::string>& allowed) {
  if (object.contains(key) && !object[key].is_null() && !one_of(object[key], allowed))
    e.not_supported(path + "." + key, object[key], allowed);
}

void non_negative(Errors& e, const Json& object, const char* key, const std::string& path) {
  if (!object.contains(key) || object[key].is_null()) return;
  if (!object[key].is_number_integer()) e.invalid(path + "." + key, object[key], "must be an integer");
  else if (object[key].get<std::int64_t>() < 0)
    e.invalid(path + "." + key, object[key], "must be greater than or equal to 0");
}

void positive(Errors& e, const Json& object, const char* key, const std::string& path) {
  if (!object.contains(key) || object[key].is_null()) return;
  if (!object[key].is_number_integer() || object[key].get<std::int64_t>() < 1)
    e.invalid(path + "." + key, object[key], "must be greater than or equal to 1");
}

bool is_port_name(const std::string& s) {
  if (s.empty() || s.size() > 15) return false;
  bool letter = false;
  for (char c : s) {
    if (!alnum_lower(c) && c != '-') return false;
    if (c >= 'a' && c <= 'z') letter = true;
  }
  return letter && s.front() != '-' && s.back() != '-' && s.find("--") == std::string::npos;
}

void port_number(Errors& e, const Json& v, const std::string& field) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 65535)
    e.invalid(field, v, "must be between 1 and 65535, inclusive");
}

void int_or_name_port(Errors& e, const Json& v, const std::string& field) {
  if (v.is_string()) {
    if (!is_port_name(v.get<std::string>()))
      e.invalid(field, v, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at most 15 characters, and at least one letter");
  } else {
    port_number(e, v, field);
  }
}

void validate_labels(Errors& e, const Json& labels, const std::string& field) {
  if (!labels.is_object()) return;
  for (const auto& [key, value] : labels.items()) {
    if (!is_qualified_name(key))
      e.invalid(field, key,
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
    if (!value.is_string()) e.invalid(field + "." + key, value, "must be a string");
    else if (!is_label_value(value.get<std::string>()))
      e.invalid(field, value,
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
                "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
                "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  }
}

void validate_metadata(Errors& e, const std::string& resource, const Json& object) {
  const Json meta = object.value("metadata", Json::object());
  const Json name = meta.value("name", Json(""));
  const std::string n = name.is_string() ? name.get<std::string>() : "";
  if (n.empty()) {
    e.list.push_back({"metadata.name", "FieldValueRequired", "Required value: name or generateName is required"});
  } else if (resource == "namespaces") {
    if (!is_dns1123_label(n)) e.invalid("metadata.name", name, kLabelMessage);
  } else if (resource == "services") {
    if (!is_dns1035_label(n)) e.invalid("metadata.name", name, kDns1035Message);
  } else if (!is_dns1123_subdomain(n)) {
    e.invalid("metadata.name", name, kSubdomainMessage);
  }
  validate_labels(e, meta.value("labels", Json::object()), "metadata.labels");
  const Json annotations = meta.value("annotations", Json::object());
  if (annotations.is_object()) {
    std::size_t total = 0;
    for (const auto& [key, value] : annotations.items()) {
      if (!is_qualified_name(key)) e.invalid("metadata.annotations", key, "name part must consist of alphanumeric characters, '-', '_' or '.'");
      total += key.size() + (value.is_string() ? value.get<std::string>().size() : 0);
    }
    if (total > 256 * 1024) e.list.push_back({"metadata.annotations", "FieldValueTooLong", "Too long: must have at most 262144 bytes"});
  }
}

bool valid_quantity(const Json& q) {
  if (q.is_number()) return true;
  if (!q.is_string()) return false;
  try {
    parse_quantity(q.get<std::string>());
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

double quantity_value(const Json& q) { return q.is_number() ? q.get<double>() : parse_quantity(q.get<std::string>()); }

void validate_probe(Errors& e, const Json& probe, const std::string& path) {
  if (!probe.is_object()) return;
  int handlers = 0;
  for (const char* h : {"exec", "httpGet", "tcpSocket", "grpc"})
    if (probe.contains(h) && !probe[h].is_null()) ++handlers;
  if (handlers == 0) e.required(path + ": must specify a handler type");
  if (handlers > 1) e.forbidden(path, "may not specify more than 1 handler type");
  non_negative(e, probe, "initialDelaySeconds", path);
  for (const char* k : {"timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"}) positive(e, probe, k, path);
  if (probe.contains("httpGet") && probe["httpGet"].is_object()) {
    const Json& http = probe["httpGet"];
    if (!http.contains("port")) e.required(path + ".httpGet.port");
    else int_or_name_port(e, http["port"], path + ".httpGet.port");
    enum_field(e, http, "scheme", path + ".httpGet", {"HTTP", "HTTPS"});
  }
  if (probe.contains("tcpSocket") && probe["tcpSocket"].is_object()) {
    if (!probe["tcpSocket"].contains("port")) e.required(path + ".tcpSocket.port");
    else int_or_name_port(e, probe["tcpSocket"]["port"], path + ".tcpSocket.port");
  }
}

void validate_container(Errors& e, const Json& c, const std::string& path, const std::set<std::string>& volumes) {
  if (!c.is_object()) {
    e.invalid(path, c, "must be an object");
    return;
  }
  const Json name = c.value("name", Json(""));
  if (!name.is_string() || name.get<std::string>().empty()) e.required(path + ".name");
  else if (!is_dns1123_label(name.get<std::string>())) e.invalid(path + ".name", name, kLabelMessage);
  if (!c.contains("image") || !c["image"].is_string() || c["image"].get<std::string>().empty()) e.required(path + ".image");
  enum_field(e, c, "imagePullPolicy", path, {"Always", "IfNotPresent", "Never"});
  enum_field(e, c, "terminationMessagePolicy", path, {"File", "FallbackToLogsOnError"});
  std::set<std::string> port_names;
  const Json ports = c.value("ports", Json::array());
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const Json& p = ports[i];
    const std::string pp = path + ".ports[" + std::to_string(i) + "]";
    if (!p.is_object()) continue;
    if (!p.contains("containerPort")) e.required(pp + ".containerPort");
    else port_number(e, p["containerPort"], pp + ".containerPort");
    if (p.contains("hostPort") && p["hostPort"] != 0) port_number(e, p["hostPort"], pp + ".hostPort");
    enum_field(e, p, "protocol", pp, {"SCTP", "TCP", "UDP"});
    if (p.contains("name") && p["name"].is_string()) {
      const std::string pn = p["name"];
      if (!is_port_name(pn)) e.invalid(pp + ".name", p["name"], "must be no more than 15 characters, contain only lowercase alphanumerics and '-', and at least one letter");
      else if (!port_names.insert(pn).second) e.duplicate(pp + ".name", p["name"]);
    }
  }
  const Json env = c.value("env", Json::array());
  for (std::size_t i = 0; i < env.size(); ++i) {
    const std::string ep = path + ".env[" + std::to_string(i) + "]";
    if (!env[i].is_object()) continue;
    const std::string en = env[i].value("name", "");
    if (en.empty()) e.required(ep + ".name");
    else if (en.find('=') != std::string::npos)
      e.invalid(ep + ".name", env[i]["name"], "a valid environment variable name must consist of printable ASCII characters other than '='");
    if (env[i].contains("value") && env[i].contains("valueFrom") && !env[i]["valueFrom"].is_null())
      e.invalid(ep + ".valueFrom", "", "may not be specified when `value` is not empty");
  }
  const Json resources = c.value("resources", Json::object());
  if (resources.is_object()) {
    for (const char* part : {"limits", "requests"}) {
      const Json values = resources.value(part, Json::object());
      if (!values.is_object()) continue;
      for (const auto& [res, q] : values.items())
        if (!valid_quantity(q))
          e.invalid(path + ".resources." + part + "[" + res + "]", q,
                    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    }
    const Json limits = resources.value("limits", Json::object()), requests = resources.value("requests", Json::object());
    if (limits.is_object() && requests.is_object())
      for (const auto& [res, q] : requests.items())
        if (limits.contains(res) && valid_quantity(q) && valid_quantity(limits[res]) &&
            quantity_value(q) > quantity_value(limits[res]))
          e.invalid(path + ".resources.requests", q, "must be less than or equal to " + res + " limit of " +
                                                        (limits[res].is_string() ? limits[res].get<std::string>() : limits[res].dump()));
  }
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"})
    if (c.contains(probe)) validate_probe(e, c[probe], path + "." + probe);
  const Json mounts = c.value("volumeMounts", Json::array());
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    const std::string mp = path + ".volumeMounts[" + std::to_string(i) + "]";
    if (!mounts[i].is_object()) continue;
    const std::string vn = mounts[i].value("name", "");
    if (vn.empty()) e.required(mp + ".name");
    else if (!volumes.count(vn)) e.list.push_back({mp + ".name", "FieldValueNotFound", "Not found: \"" + vn + "\""});
    if (mounts[i].value("mountPath", "").empty()) e.required(mp + ".mountPath");
  }
}

// claims: a StatefulSet's volumeClaimTemplates, which its pods' containers may mount by name.
void validate_pod_spec(Errors& e, const Json& spec, const std::string& path, bool template_of_workload,
                       const std::set<std::string>& claims = {}) {
  if (!spec.is_object()) {
    e.required(path);
    return;
  }
  std::set<std::string> volumes = claims;
  const Json vols = spec.value("volumes", Json::array());
  for (std::size_t i = 0; i < vols.size(); ++i) {
    const std::string vn = vols[i].is_object() ? vols[i].value("name", "") : "";
    if (vn.empty()) e.required(path + ".volumes[" + std::to_string(i) + "].name");
    else if (!volumes.insert(vn).second) e.duplicate(path + ".volumes[" + std::to_string(i) + "].name", vn);
  }
  const Json containers = spec.value("containers", Json::array());
  if (!containers.is_array() || containers.empty()) e.required(path + ".containers");
  std::set<std::string> names;
  for (const char* list : {"initContainers", "containers"}) {
    const Json items = spec.value(list, Json::array());
    if (!items.is_array()) continue;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string cp = path + "." + list + "[" + std::to_string(i) + "]";
      validate_container(e, items[i], cp, volumes);
      if (items[i].is_object() && items[i].contains("name") && items[i]["name"].is_string() &&
          !names.insert(items[i]["name"].get<std::string>()).second)
        e.duplicate(cp + ".name", items[i]["name"]);
    }
  }
  if (template_of_workload) {
    if (spec.contains("restartPolicy") && spec["restartPolicy"] != "Always")
      e.not_supported(path + ".restartPolicy", spec["restartPolicy"], {"Always"});
  } else {
    enum_field(e, spec, "restartPolicy", path, {"Always", "OnFailure", "Never"});
  }
  enum_field(e, spec, "dnsPolicy", path, {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"});
  non_negative(e, spec, "terminationGracePeriodSeconds", path);
  positive(e, spec, "activeDeadlineSeconds", path);
}

void validate_selector_and_template(Errors& e, const Json& spec, bool selector_required) {
  const Json selector = spec.value("selector", Json());
  std::optional<LabelSelector> parsed;
  if (selector.is_null() || (selector.is_object() && selector.empty())) {
    if (selector_required) {
      e.required("spec.selector");
      e.invalid("spec.selector", Json::object(), "empty selector is invalid for deployment");
    }
  } else {
    try {
      parsed = LabelSelector::from_json(selector);
    } catch (const std::invalid_argument& ex) {
      e.invalid("spec.selector", selector, ex.what());
    }
    if (selector.is_object()) validate_labels(e, selector.value("matchLabels", Json::object()), "spec.selector.matchLabels");
  }
  const Json tmpl = spec.value("template", Json());
  if (!tmpl.is_object()) {
    e.required("spec.template");
    return;
  }
  const Json labels = tmpl.value("metadata", Json::object()).value("labels", Json::object());
  validate_labels(e, labels, "spec.template.metadata.labels");
  if (parsed && !parsed->matches(labels))
    e.invalid("spec.template.metadata.labels", labels.is_object() ? Json(labels.dump()) : Json(""),
              "`selector` does not match template `labels`");
  std::set<std::string> claims;
  const Json templates = spec.value("volumeClaimTemplates", Json::array());
  if (templates.is_array())
    for (const Json& claim : templates) {
      const Json meta = claim.is_object() ? claim.value("metadata", Json::object()) : Json::object();
      if (meta.is_object() && meta.contains("name") && meta["name"].is_string()) claims.insert(meta["name"].get<std::string>());
    }
  validate_pod_spec(e, tmpl.value("spec", Json()), "spec.template.spec", true, claims);
}

bool zero_int_or_percent(const Json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>() == 0;
  return v.is_string() && (v == "0%" || v == "0");
}

void validate_int_or_percent(Errors& e, const Json& v, const std::string& field) {
  if (v.is_null()) return;
  if (v.is_number_integer()) {
    if (v.get<std::int64_t>() < 0) e.invalid(field, v, "must be greater than or equal to 0");
    return;
  }
  static const std::regex percent(R"([0-9]+%)");
  if (!v.is_string() || !std::regex_match(v.get<std::string>(), percent))
    e.invalid(field, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
}

void validate_workload(Errors& e, const std::string& resource, const Json& object) {
  const Json spec = object.value("spec", Json());
  if (!spec.is_object()) {
    e.required("spec");
    return;
  }
  non_negative(e, spec, "replicas", "spec");
  non_negative(e, spec, "minReadySeconds", "spec");
  non_negative(e, spec, "revisionHistoryLimit", "spec");
  validate_selector_and_template(e, spec, true);
  if (resource == "deployments.apps") {
    const Json strategy = spec.value("strategy", Json::object());
    enum_field(e, strategy, "type", "spec.strategy", {"Recreate", "RollingUpdate"});
    if (strategy.value("type", "") == "Recreate" && strategy.contains("rollingUpdate") && !strategy["rollingUpdate"].is_null())
      e.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'");
    const Json ru = strategy.value("rollingUpdate", Json::object());
    if (ru.is_object()) {
      validate_int_or_percent(e, ru.value("maxSurge", Json()), "spec.strategy.rollingUpdate.maxSurge");
      validate_int_or_percent(e, ru.value("maxUnavailable", Json()), "spec.strategy.rollingUpdate.maxUnavailable");
      if (ru.contains("maxSurge") && ru.contains("maxUnavailable") && zero_int_or_percent(ru["maxSurge"]) &&
          zero_int_or_percent(ru["maxUnavailable"]))
        e.invalid("spec.strategy.rollingUpdate.maxUnavailable", ru["maxUnavailable"], "may not be 0 when `maxSurge` is 0");
    }
    if (spec.contains("progressDeadlineSeconds") && spec["progressDeadlineSeconds"].is_number_integer() &&
        spec["progressDeadlineSeconds"].get<std::int64_t>() <= spec.value("minReadySeconds", std::int64_t{0}))
      e.invalid("spec.progressDeadlineSeconds", spec["progressDeadlineSeconds"], "must be greater than minReadySeconds");
  }
  if (resource == "statefulsets.apps") {
    enum_field(e, spec, "podManagementPolicy", "spec", {"OrderedReady", "Parallel"});
    const Json update = spec.value("updateStrategy", Json::object());
    if (update.is_object()) enum_field(e, update, "type", "spec.updateStrategy", {"RollingUpdate", "OnDelete"});
  }
}

void validate_service(Errors& e, const Json& object) {
  const Json spec = object.value("spec", Json::object());
  if (!spec.is_object()) return;
  const std::string type = spec.value("type", "ClusterIP");
  enum_field(e, spec, "type", "spec", {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"});
  enum_field(e, spec, "sessionAffinity", "spec", {"ClientIP", "None"});
  if (type == "ExternalName") {
    if (spec.value("externalName", "").empty()) e.required("spec.externalName");
    return;
  }
  const Json ports = spec.value("ports", Json::array());
  if (!ports.is_array() || ports.empty()) {
    if (spec.value("clusterIP", "") != "None") e.required("spec.ports");
    return;
  }
  std::set<std::string> names;
  std::set<std::string> port_protocols;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const std::string pp = "spec.ports[" + std::to_string(i) + "]";
    const Json& p = ports[i];
    if (!p.is_object()) continue;
    const std::string pn = p.value("name", "");
    if (ports.size() > 1 && pn.empty()) e.required(pp + ".name");
    if (!pn.empty()) {
      if (!is_dns1123_label(pn)) e.invalid(pp + ".name", p["name"], kLabelMessage);
      if (!names.insert(pn).second) e.duplicate(pp + ".name", p["name"]);
    }
    if (!p.contains("port")) e.required(pp + ".port");
    else port_number(e, p["port"], pp + ".port");
    enum_field(e, p, "protocol", pp, {"SCTP", "TCP", "UDP"});
    if (p.contains("targetPort") && !p["targetPort"].is_null()) int_or_name_port(e, p["targetPort"], pp + ".targetPort");
    if (p.contains("nodePort") && p["nodePort"].is_number_integer() && p["nodePort"] != 0) {
      if (type != "NodePort" && type != "LoadBalancer")
        e.forbidden(pp + ".nodePort", "may not be used when `type` is '" + type + "'");
      else if (p["nodePort"].get<std::int64_t>() < 30000 || p["nodePort"].get<std::int64_t>() > 32767)
        e.invalid(pp + ".nodePort", p["nodePort"], "provided port is not in the valid range. The range of valid ports is 30000-32767");
    }
    const std::string key = p.value("port", Json()).dump() + "/" + p.value("protocol", "TCP");
    if (!port_protocols.insert(key).second) e.duplicate(pp, Json{{"port", p.value("port", Json())}, {"protocol", p.value("protocol", "TCP")}});
  }
  if (spec.contains("selector") && spec["selector"].is_object())
    validate_labels(e, spec["selector"], "spec.selector");
}

void validate_hpa(Errors& e, const Json& object) {
  const Json spec = object.value("spec", Json());
  if (!spec.is_object()) {
    e.required("spec");
    return;
  }
  const Json ref = spec.value("scaleTargetRef", Json::object());
  if (!ref.is_object() || ref.value("kind", "").empty()) e.required("spec.scaleTargetRef.kind");
  if (!ref.is_object() || ref.value("name", "").empty()) e.required("spec.scaleTargetRef.name");
  const Json min = spec.value("minReplicas", Json(1));
  if (!min.is_number_integer() || min.get<std::int64_t>() < 1)
    e.invalid("spec.minReplicas", min, "must be greater than or equal to 1");
  const Json max = spec.value("maxReplicas", Json());
  if (max.is_null()) e.required("spec.maxReplicas");
  else if (!max.is_number_integer() || max.get<std::int64_t>() < 1)
    e.invalid("spec.maxReplicas", max, "must be greater than or equal to 1");
  else if (min.is_number_integer() && max.get<std::int64_t>() < min.get<std::int64_t>())
    e.invalid("spec.maxReplicas", max, "must be greater than or equal to `minReplicas`");
  const Json metrics = spec.value("metrics", Json::array());
  for (std::size_t i = 0; metrics.is_array() && i < metrics.size(); ++i) {
    const std::string mp = "spec.metrics[" + std::to_string(i) + "]";
    const Json& m = metrics[i];
    if (!m.is_object()) continue;
    const std::string type = m.value("type", "");
    if (type.empty()) {
      e.required(mp + ".type");
      continue;
    }
    if (!one_of(m["type"], {"ContainerResource", "External", "Object", "Pods", "Resource"})) {
      e.not_supported(mp + ".type", m["type"], {"ContainerResource", "External", "Object", "Pods", "Resource"});
      continue;
    }
    if (type != "Resource") continue;
    const Json source = m.value("resource", Json());
    if (!source.is_object()) {
      e.required(mp + ".resource");
      continue;
    }
    if (source.value("name", "").empty()) e.required(mp + ".resource.name");
    const Json target = source.value("target", Json());
    if (!target.is_object()) {
      e.required(mp + ".resource.target");
      continue;
    }
    const std::string ttype = target.value("type", "");
    if (!one_of(target.value("type", Json()), {"AverageValue", "Utilization", "Value"}))
      e.not_supported(mp + ".resource.target.type", target.value("type", Json()), {"AverageValue", "Utilization", "Value"});
    if (ttype == "Utilization") {
      const Json u = target.value("averageUtilization", Json());
      if (u.is_null()) e.required(mp + ".resource.target.averageUtilization");
      else if (!u.is_number_integer() || u.get<std::int64_t>() < 1)
        e.invalid(mp + ".resource.target.averageUtilization", u, "must be greater than 0");
    }
    if (ttype == "AverageValue" && !valid_quantity(target.value("averageValue", Json())))
      e.required(mp + ".resource.target.averageValue");
  }
}

bool valid_go_duration(const std::string& s) {
  static const std::regex duration(R"(([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)");
  return std::regex_match(s, duration);
}

void validate_chaos(Errors& e, const Json& object) {
  const Json spec = object.value("spec", Json());
  if (!spec.is_object()) {
    e.required("spec");
    return;
  }
  static const std::vector<std::string> modes{"one", "all", "fixed", "fixed-percent", "random-max-percent"};
  if (!spec.contains("mode")) e.required("spec.mode");
  else if (!one_of(spec["mode"], modes)) e.not_supported("spec.mode", spec["mode"], modes);
  const std::string mode = spec.value("mode", "");
  if (mode == "fixed" || mode == "fixed-percent" || mode == "random-max-percent") {
    const Json value = spec.value("value", Json());
    if (!value.is_string() || value.get<std::string>().empty()) {
      e.required("spec.value");
    } else {
      try {
        const long n = std::stol(value.get<std::string>());
        if (n < 0 || (mode != "fixed" && n > 100)) e.invalid("spec.value", value, "must be a percentage between 0 and 100");
      } catch (const std::exception&) {
        e.invalid("spec.value", value, "must be an integer");
      }
    }
  }
  if (spec.contains("duration") && !spec["duration"].is_null() &&
      (!spec["duration"].is_string() || !valid_go_duration(spec["duration"].get<std::string>())))
    e.invalid("spec.duration", spec["duration"], "time: invalid duration");
  if (!spec.contains("selector") || !spec["selector"].is_object()) e.required("spec.selector");
}

void validate_configmap(Errors& e, const Json& object, const char* map) {
  const Json data = object.value(map, Json::object());
  if (!data.is_object()) return;
  static const std::regex key(R"([-._a-zA-Z0-9]+)");
  for (const auto& [k, v] : data.items()) {
    if (k.size() > 253 || !std::regex_match(k, key))
      e.invalid(std::string(map), k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
    if (!v.is_string()) e.invalid(std::string(map) + "[" + k + "]", v, "must be a string");
  }
}

}  // namespace

bool is_dns1123_label(const std::string& s) {
  if (s.empty() || s.size() > 63 || !alnum_lower(s.front()) || !alnum_lower(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return alnum_lower(c) || c == '-'; });
}

bool is_dns1123_subdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    auto dot = s.find('.', start);
    const std::string part = s.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty() || !alnum_lower(part.front()) || !alnum_lower(part.back()) ||
        !std::all_of(part.begin(), part.end(), [](char c) { return alnum_lower(c) || c == '-'; }))
      return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

bool is_dns1035_label(const std::string& s) { return is_dns1123_label(s) && s.front() >= 'a' && s.front() <= 'z'; }

bool is_label_value(const std::string& s) {
  if (s.empty()) return true;
  if (s.size() > 63 || !alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool is_qualified_name(const std::string& s) {
  std::string name = s;
  const auto slash = s.find('/');
  if (slash != std::string::npos) {
    if (!is_dns1123_subdomain(s.substr(0, slash))) return false;
    name = s.substr(slash + 1);
  }
  return !name.empty() && is_label_value(name);
}

std::vector<FieldError> validate_object(const std::string& resource, const Json& object) {
  Errors e;
  validate_metadata(e, resource, object);
  if (resource == "pods") validate_pod_spec(e, object.value("spec", Json()), "spec", false);
  else if (resource == "deployments.apps" || resource == "replicasets.apps" || resource == "statefulsets.apps")
    validate_workload(e, resource, object);
  else if (resource == "services") validate_service(e, object);
  else if (resource == "horizontalpodautoscalers.autoscaling") validate_hpa(e, object);
  else if (resource == "configmaps") {
    validate_configmap(e, object, "data");
    validate_configmap(e, object, "binaryData");
  } else if (resource == "secrets") {
    validate_configmap(e, object, "data");
  } else if (resource.find(".chaos-mesh.org") != std::string::npos) {
    validate_chaos(e, object);
  }
  return e.list;
}

std::vector<FieldError> validate_update(const std::string& resource, const Json& old_object, const Json& new_object) {
  Errors e;
  auto spec_of = [](const Json& o) { return o.value("spec", Json::object()); };
  if (resource == "deployments.apps" || resource == "replicasets.apps" || resource == "statefulsets.apps") {
    if (spec_of(old_object).value("selector", Json()) != spec_of(new_object).value("selector", Json()))
      e.invalid("spec.selector", spec_of(new_object).value("selector", Json()).dump(), "field is immutable");
  }
  if (resource == "statefulsets.apps") {
    Json a = spec_of(old_object), b = spec_of(new_object);
    for (const char* mutable_field : {"replicas", "ordinals", "template", "updateStrategy",
                                      "persistentVolumeClaimRetentionPolicy", "minReadySeconds", "selector"}) {
      a.erase(mutable_field);
      b.erase(mutable_field);
    }
    if (a != b)
      e.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                          "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
  }
  if (resource == "pods") {
    Json a = spec_of(old_object), b = spec_of(new_object);
    for (Json* s : {&a, &b}) {
      for (const char* list : {"containers", "initContainers"})
        if (s->contains(list) && (*s)[list].is_array())
          for (auto& c : (*s)[list])
            if (c.is_object()) c.erase("image");
      s->erase("activeDeadlineSeconds");
      s->erase("tolerations");
      s->erase("terminationGracePeriodSeconds");
    }
    if (a != b)
      e.forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`, "
                          "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only "
                          "additions to existing tolerations), `spec.terminationGracePeriodSeconds` (allow it to be set "
                          "to 1 if it was previously negative)");
  }
  if ((resource == "configmaps" || resource == "secrets") && old_object.value("immutable", false)) {
    Json a = old_object, b = new_object;
    a.erase("metadata");
    b.erase("metadata");
    if (a != b) e.forbidden("data", "field is immutable when `immutable` is set");
  }
  return e.list;
}

std::vector<std::string> unknown_fields(const std::string& resource, const Json& object) {
  std::vector<std::string> unknown;
  Json copy = object;
  walk(copy, type_of_resource(resource), "", unknown, false);
  return unknown;
}

void drop_unknown_fields(const std::string& resource, Json& object) {
  std::vector<std::string> unknown;
  walk(object, type_of_resource(resource), "", unknown, true);
}

}  // namespace mambogo::sim
