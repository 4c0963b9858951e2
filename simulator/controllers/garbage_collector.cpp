#include "controllers/garbage_collector.h"

#include "controllers/object_util.h"

#include <spdlog/spdlog.h>

#include <map>

namespace mambogo::sim {
namespace {

const ctl::Key kPass{"*", "", "gc"};

// The store resource of an owner reference's kind (its group from apiVersion).
std::string resource_of(const Json& ref) {
  static const std::map<std::string, std::string> resources{
      {"Pod", "pods"},
      {"Service", "services"},
      {"ConfigMap", "configmaps"},
      {"Secret", "secrets"},
      {"Endpoints", "endpoints"},
      {"Deployment", "deployments.apps"},
      {"ReplicaSet", "replicasets.apps"},
      {"StatefulSet", "statefulsets.apps"},
      {"ControllerRevision", "controllerrevisions.apps"},
      {"HorizontalPodAutoscaler", "horizontalpodautoscalers.autoscaling"},
      {"PersistentVolumeClaim", "persistentvolumeclaims"},
  };
  auto it = resources.find(ref.value("kind", ""));
  return it == resources.end() ? std::string() : it->second;
}

}  // namespace

GarbageCollector::GarbageCollector(Store& store, Options options)
    : store_(store),
      options_(std::move(options)),
      loop_("garbage-collector", options_.resync, [] { return std::vector<ctl::Key>{kPass}; },
            [this](const ctl::Key&) { collect(); }) {}

GarbageCollector::~GarbageCollector() { stop(); }

void GarbageCollector::start() {
  if (!watches_.empty()) return;
  for (const std::string& resource : options_.dependents) {
    watches_.push_back(store_.watch(resource, "", 0, [this](const WatchEvent& e) {
      if (e.type == EventType::deleted) loop_.enqueue(kPass);
    }));
  }
  loop_.start();
}

void GarbageCollector::stop() {
  for (auto id : watches_) store_.unwatch(id);
  watches_.clear();
  loop_.stop();
}

void GarbageCollector::collect() {
  bool removed_any = false;
  for (const std::string& resource : options_.dependents) {
    for (const Json& object : store_.list(resource).items) {
      const Json refs = metadata_of(object).value("ownerReferences", Json::array());
      if (!refs.is_array() || refs.empty()) continue;
      Json alive = Json::array();
      for (const Json& ref : refs) {
        const std::string owner_resource = resource_of(ref);
        if (owner_resource.empty()) {
          alive.push_back(ref);  // unknown kind: cannot tell, keep
          continue;
        }
        auto owner = store_.get({owner_resource, namespace_of(object), ref.value("name", "")});
        if (owner && ctl::uid_of(*owner) == ref.value("uid", "")) alive.push_back(ref);
      }
      if (alive.size() == refs.size()) continue;
      const ObjectRef target = ref_of(resource, object);
      try {
        if (alive.empty()) {
          if (resource == "pods") {
            ctl::delete_pod(store_, object);
          } else {
            store_.remove(target, ctl::uid_of(object));
            removed_any = true;
          }
        } else {
          const std::string uid = ctl::uid_of(object);
          store_.mutate(target, [&](Json& o) {
            if (ctl::uid_of(o) == uid) o["metadata"]["ownerReferences"] = alive;
          });
        }
      } catch (const StoreError& e) {
        if (e.reason() != StoreError::Reason::not_found && e.reason() != StoreError::Reason::conflict) throw;
      }
    }
  }
  if (removed_any) loop_.enqueue(kPass);  // their dependents are orphans now
}

}  // namespace mambogo::sim
