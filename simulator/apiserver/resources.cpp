#include "apiserver/resources.h"

namespace mambogo::sim::api {

namespace {

const std::vector<std::string> kAllVerbs{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
const std::vector<std::string> kReadVerbs{"get", "list"};

ResourceInfo make(std::string group, std::string version, std::string plural, std::string singular, std::string kind,
                  bool namespaced, std::vector<std::string> short_names, std::vector<std::string> categories) {
  ResourceInfo r;
  r.group = std::move(group);
  r.version = std::move(version);
  r.plural = std::move(plural);
  r.singular = std::move(singular);
  r.kind = std::move(kind);
  r.namespaced = namespaced;
  r.verbs = kAllVerbs;
  r.short_names = std::move(short_names);
  r.categories = std::move(categories);
  return r;
}

std::vector<ResourceInfo> build() {
  std::vector<ResourceInfo> all;
  auto add = [&](ResourceInfo r, auto&& tweak) {
    tweak(r);
    all.push_back(std::move(r));
  };
  auto none = [](ResourceInfo&) {};
  auto with_status = [](ResourceInfo& r) { r.status_subresource = true; };
  auto scalable = [](ResourceInfo& r) { r.status_subresource = r.scale_subresource = true; };

  add(make("", "v1", "namespaces", "namespace", "Namespace", false, {"ns"}, {}), [](ResourceInfo& r) {
    r.status_subresource = true;
    r.verbs = {"create", "delete", "get", "list", "patch", "update", "watch"};
  });
  add(make("", "v1", "nodes", "node", "Node", false, {"no"}, {}), with_status);
  add(make("", "v1", "pods", "pod", "Pod", true, {"po"}, {"all"}), [](ResourceInfo& r) {
    r.status_subresource = r.log_subresource = r.proxy_subresource = true;
  });
  add(make("", "v1", "services", "service", "Service", true, {"svc"}, {"all"}), with_status);
  add(make("", "v1", "endpoints", "endpoints", "Endpoints", true, {"ep"}, {}), none);
  add(make("", "v1", "events", "event", "Event", true, {"ev"}, {}), none);
  add(make("", "v1", "configmaps", "configmap", "ConfigMap", true, {"cm"}, {}), none);
  add(make("", "v1", "secrets", "secret", "Secret", true, {}, {}), none);
  add(make("apps", "v1", "deployments", "deployment", "Deployment", true, {"deploy"}, {"all"}), scalable);
  add(make("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, {"rs"}, {"all"}), scalable);
  add(make("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, {"sts"}, {"all"}), scalable);
  add(make("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true,
           {"hpa"}, {"all"}),
      with_status);
  auto computed = [](ResourceInfo& r) {
    r.verbs = kReadVerbs;
    r.stored = false;
  };
  add(make("metrics.k8s.io", "v1beta1", "pods", "", "PodMetrics", true, {}, {}), computed);
  add(make("metrics.k8s.io", "v1beta1", "nodes", "", "NodeMetrics", false, {}, {}), computed);
  for (auto [plural, kind] : {std::pair{"podchaos", "PodChaos"}, std::pair{"networkchaos", "NetworkChaos"},
                              std::pair{"httpchaos", "HTTPChaos"}, std::pair{"stresschaos", "StressChaos"}})
    add(make("chaos-mesh.org", "v1alpha1", plural, plural, kind, true, {}, {}), with_status);
  return all;
}

Json group_version(const std::string& group, const std::string& version) {
  return {{"groupVersion", group + "/" + version}, {"version", version}};
}

}  // namespace

const std::vector<ResourceInfo>& all_resources() {
  static const std::vector<ResourceInfo> resources = build();
  return resources;
}

const std::vector<GroupInfo>& all_groups() {
  static const std::vector<GroupInfo> groups{
      {"apps", {"v1"}}, {"autoscaling", {"v2"}}, {"metrics.k8s.io", {"v1beta1"}}, {"chaos-mesh.org", {"v1alpha1"}}};
  return groups;
}

const ResourceInfo* find_resource(const std::string& group, const std::string& version, const std::string& plural) {
  for (const auto& r : all_resources())
    if (r.group == group && r.version == version && r.plural == plural) return &r;
  return nullptr;
}

const ResourceInfo* find_kind(const std::string& api_version, const std::string& kind) {
  for (const auto& r : all_resources())
    if (r.api_version() == api_version && r.kind == kind) return &r;
  return nullptr;
}

Json version_info() {
  return {{"major", "1"},
          {"minor", "30"},
          {"gitVersion", "v1.30.0-mambogo"},
          {"gitCommit", "0000000000000000000000000000000000000000"},
          {"gitTreeState", "clean"},
          {"buildDate", "2026-01-01T00:00:00Z"},
          {"goVersion", "go1.22.0"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

Json api_versions(const std::string& server_address) {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs", {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
}

Json api_group(const GroupInfo& group) {
  Json versions = Json::array();
  for (const auto& v : group.versions) versions.push_back(group_version(group.name, v));
  return {{"kind", "APIGroup"},
          {"apiVersion", "v1"},
          {"name", group.name},
          {"versions", versions},
          {"preferredVersion", group_version(group.name, group.versions.front())}};
}

Json api_group_list() {
  Json groups = Json::array();
  for (const auto& g : all_groups()) {
    Json entry = api_group(g);
    entry.erase("kind");
    entry.erase("apiVersion");
    groups.push_back(entry);
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

Json api_resource_list(const std::string& group, const std::string& version) {
  Json resources = Json::array();
  bool served = false;
  for (const auto& r : all_resources()) {
    if (r.group != group || r.version != version) continue;
    served = true;
    Json entry{{"name", r.plural},     {"singularName", r.singular}, {"namespaced", r.namespaced},
               {"kind", r.kind},       {"verbs", r.verbs}};
    if (!r.short_names.empty()) entry["shortNames"] = r.short_names;
    if (!r.categories.empty()) entry["categories"] = r.categories;
    resources.push_back(entry);
    auto sub = [&](const std::string& name, const std::string& kind, Json verbs, const std::string& sub_group = {},
                   const std::string& sub_version = {}) {
      Json s{{"name", r.plural + "/" + name}, {"singularName", ""}, {"namespaced", r.namespaced},
             {"kind", kind},                  {"verbs", std::move(verbs)}};
      if (!sub_group.empty()) {
        s["group"] = sub_group;
        s["version"] = sub_version;
      }
      resources.push_back(std::move(s));
    };
    if (r.status_subresource) sub("status", r.kind, {"get", "patch", "update"});
    if (r.scale_subresource) sub("scale", "Scale", {"get", "patch", "update"}, "autoscaling", "v1");
    if (r.log_subresource) sub("log", "Pod", {"get"});
    if (r.proxy_subresource) sub("proxy", "PodProxyOptions", {"create", "delete", "get", "patch", "update"});
  }
  if (!served) return nullptr;
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", group.empty() ? version : group + "/" + version},
          {"resources", resources}};
}

Json openapi_v3_root() {
  Json paths = Json::object();
  auto add = [&](const std::string& key) {
    paths[key] = {{"serverRelativeURL", "/openapi/v3/" + key + "?hash=mambogo1"}};
  };
  add("api/v1");
  for (const auto& g : all_groups())
    for (const auto& v : g.versions) add("apis/" + g.name + "/" + v);
  return {{"paths", paths}};
}

Json openapi_v3_document(const std::string& group, const std::string& version) {
  Json paths = Json::object();
  bool served = false;
  for (const auto& r : all_resources()) {
    if (r.group != group || r.version != version) continue;
    served = true;
    if (!r.stored) continue;
    const std::string path = r.prefix() + (r.namespaced ? "/namespaces/{namespace}/" : "/") + r.plural + "/{name}";
    Json gvk{{"group", r.group}, {"version", r.version}, {"kind", r.kind}};
    Json field_validation{{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}};
    paths[path]["patch"] = {{"operationId", "patch" + r.kind},
                            {"x-kubernetes-action", "patch"},
                            {"x-kubernetes-group-version-kind", gvk},
                            {"parameters", {field_validation}},
                            {"responses", {{"200", {{"description", "OK"}}}}}};
    paths[path]["put"] = paths[path]["patch"];
    paths[path]["put"]["operationId"] = "replace" + r.kind;
    paths[path]["put"]["x-kubernetes-action"] = "put";
  }
  if (!served) return nullptr;
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "v1.30.0-mambogo"}}},
          {"paths", paths},
          {"components", {{"schemas", Json::object()}}}};
}

}  // namespace mambogo::sim::api
