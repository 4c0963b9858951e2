#include "store/events.h"

#include <functional>
#include <map>
#include <stdexcept>

#include "objects/names.h"

namespace mambogo::sim {

KindInfo kind_of(const std::string& resource) {
  static const std::map<std::string, KindInfo> kinds{
      {"pods", {"Pod", "v1"}},
      {"services", {"Service", "v1"}},
      {"endpoints", {"Endpoints", "v1"}},
      {"events", {"Event", "v1"}},
      {"configmaps", {"ConfigMap", "v1"}},
      {"secrets", {"Secret", "v1"}},
      {"namespaces", {"Namespace", "v1"}},
      {"nodes", {"Node", "v1"}},
      {"deployments.apps", {"Deployment", "apps/v1"}},
      {"replicasets.apps", {"ReplicaSet", "apps/v1"}},
      {"statefulsets.apps", {"StatefulSet", "apps/v1"}},
      {"horizontalpodautoscalers.autoscaling", {"HorizontalPodAutoscaler", "autoscaling/v2"}},
      {"podchaos.chaos-mesh.org", {"PodChaos", "chaos-mesh.org/v1alpha1"}},
      {"networkchaos.chaos-mesh.org", {"NetworkChaos", "chaos-mesh.org/v1alpha1"}},
      {"httpchaos.chaos-mesh.org", {"HTTPChaos", "chaos-mesh.org/v1alpha1"}},
      {"stresschaos.chaos-mesh.org", {"StressChaos", "chaos-mesh.org/v1alpha1"}},
  };
  auto it = kinds.find(resource);
  return it == kinds.end() ? KindInfo{} : it->second;
}

Json record_event(Store& store, const std::string& involved_resource, const Json& involved,
                  const std::string& type, const std::string& reason, const std::string& message,
                  const std::string& component) {
  const std::string name = name_of(involved);
  if (name.empty()) throw std::invalid_argument("record_event: the involved object has no name");
  std::string ns = namespace_of(involved);
  if (ns.empty()) ns = "default";  // events about cluster-scoped objects live in default
  const auto& meta = metadata_of(involved);
  const KindInfo kind = kind_of(involved_resource);
  const std::string uid = meta.value("uid", "");

  // client-go names events <object>.<hex time>; a stable key per (object, reason, message, type,
  // source) lets a repeat find its predecessor.
  const std::size_t key = std::hash<std::string>{}(uid + '\n' + name + '\n' + type + '\n' + reason + '\n' + message +
                                                    '\n' + component);
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016zx", key);
  const std::string event_name = name + "." + suffix;
  const std::string now = now_rfc3339();
  try {
    return store.mutate({"events", ns, event_name}, [&](Json& e) {
      e["count"] = e.value("count", 1) + 1;
      e["lastTimestamp"] = now;
    });
  } catch (const StoreError&) {
  }
  Json event{{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", event_name}, {"namespace", ns}}},
             {"involvedObject",
              {{"kind", kind.kind}, {"apiVersion", kind.api_version}, {"name", name}, {"uid", uid}}},
             {"type", type},
             {"reason", reason},
             {"message", message},
             {"source", {{"component", component}, {"host", kNodeName}}},
             {"reportingComponent", component},
             {"reportingInstance", kNodeName},
             {"count", 1},
             {"firstTimestamp", now},
             {"lastTimestamp", now},
             {"eventTime", nullptr}};
  if (!namespace_of(involved).empty()) event["involvedObject"]["namespace"] = namespace_of(involved);
  if (meta.contains("resourceVersion")) event["involvedObject"]["resourceVersion"] = meta["resourceVersion"];
  try {
    return store.create("events", std::move(event));
  } catch (const StoreError&) {
    return store.mutate({"events", ns, event_name}, [&](Json& e) {  // raced with another recorder
      e["count"] = e.value("count", 1) + 1;
      e["lastTimestamp"] = now;
    });
  }
}

}  // namespace mambogo::sim
