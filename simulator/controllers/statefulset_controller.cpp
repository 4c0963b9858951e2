#include "controllers/statefulset_controller.h"

#include "controllers/deployment_util.h"
#include "controllers/object_util.h"
#include "objects/defaults.h"
#include "objects/names.h"
#include "objects/selector.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

namespace mambogo::sim {
namespace {

constexpr const char* kResource = "statefulsets.apps";
constexpr const char* kComponent = "statefulset-controller";
constexpr const char* kRevisionLabel = "controller-revision-hash";
constexpr const char* kPodNameLabel = "statefulset.kubernetes.io/pod-name";
constexpr const char* kPodIndexLabel = "apps.kubernetes.io/pod-index";

// The ordinal of "<set>-<n>", or -1.
int ordinal_of(const std::string& set, const std::string& pod) {
  if (pod.size() <= set.size() + 1 || pod.compare(0, set.size() + 1, set + "-") != 0) return -1;
  const std::string digits = pod.substr(set.size() + 1);
  if (digits.empty() || digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  if (digits.size() > 1 && digits[0] == '0') return -1;
  return std::stoi(digits);
}

std::string phase_of(const Json& pod) { return pod.value("status", Json::object()).value("phase", ""); }
std::string revision_of(const Json& pod) { return metadata_of(pod).value("labels", Json::object()).value(kRevisionLabel, ""); }

bool running_and_ready(const Json& pod) { return phase_of(pod) == "Running" && ctl::is_pod_ready(pod); }

bool healthy(const Json& pod, std::int32_t min_ready) {
  return running_and_ready(pod) && !ctl::is_deleting(pod) &&
         ctl::is_pod_available(pod, min_ready, std::chrono::system_clock::now());
}

struct Members {
  std::vector<std::optional<Json>> slots;  // ordinal < replicas
  std::vector<Json> condemned;             // ordinal ≥ replicas (or no ordinal), highest first
};

}  // namespace

StatefulSetController::StatefulSetController(Store& store, Options options)
    : store_(store),
      options_(options),
      loop_("statefulset-controller", options.resync, [this] { return list_keys(); },
            [this](const ctl::Key& key) { sync(key); }) {}

StatefulSetController::~StatefulSetController() { stop(); }

void StatefulSetController::start() {
  if (!watches_.empty()) return;
  watches_.push_back(store_.watch(kResource, "", 0, [this](const WatchEvent& e) { loop_.enqueue(ref_of(kResource, e.object)); }));
  watches_.push_back(store_.watch("pods", "", 0, [this](const WatchEvent& e) {
    const Json* ref = ctl::controller_ref(e.object);
    if (ref != nullptr && ref->value("kind", "") == "StatefulSet")
      loop_.enqueue({kResource, namespace_of(e.object), ref->value("name", "")});
  }));
  loop_.start();
}

void StatefulSetController::stop() {
  for (auto id : watches_) store_.unwatch(id);
  watches_.clear();
  loop_.stop();
}

std::vector<ctl::Key> StatefulSetController::list_keys() const {
  std::vector<ctl::Key> keys;
  for (const Json& s : store_.list(kResource).items) keys.push_back(ref_of(kResource, s));
  return keys;
}

void StatefulSetController::sync(const ctl::Key& key) {
  auto found = store_.get(key);
  if (!found || ctl::is_deleting(*found)) return;
  const Json set = *found;
  const Json spec = set.value("spec", Json::object());
  LabelSelector selector;
  try {
    selector = LabelSelector::from_json(spec.value("selector", Json()));
  } catch (const std::invalid_argument& e) {
    spdlog::warn("statefulset-controller: {}/{} has an invalid selector: {}", key.ns, key.name, e.what());
    return;
  }
  const int replicas = spec.value("replicas", 1);
  const bool ordered = spec.value("podManagementPolicy", "OrderedReady") != "Parallel";
  const Json strategy = spec.value("updateStrategy", Json::object());
  const bool rolling = strategy.value("type", "RollingUpdate") == "RollingUpdate";
  const int partition = strategy.value("rollingUpdate", Json::object()).value("partition", 0);
  const std::int32_t min_ready = spec.value("minReadySeconds", 0);
  // No ControllerRevision objects, so no hash collisions to count: the revision is the template's hash.
  const std::string update_revision = name_of(set) + "-" + deploy::template_hash(spec.value("template", Json::object()), std::nullopt);

  // Claim: owned pods, plus orphans that match the selector and are named like members.
  const std::string uid = ctl::uid_of(set);
  Members m;
  m.slots.resize(static_cast<std::size_t>(std::max(replicas, 0)));
  for (const Json& listed : store_.list("pods", key.ns).items) {
    Json pod = listed;
    const int ordinal = ordinal_of(name_of(set), name_of(pod));
    if (!ctl::controlled_by(pod, uid)) {
      const bool orphan = ctl::controller_ref(pod) == nullptr && !ctl::is_deleting(pod) && ordinal >= 0 &&
                          !selector.empty() && selector.matches(metadata_of(pod).value("labels", Json::object()));
      if (!orphan) continue;
      const Json ref = ctl::make_controller_ref(kResource, set);
      pod = store_.mutate(ref_of("pods", pod), [&](Json& p) {
        if (ctl::controller_ref(p) == nullptr) p["metadata"]["ownerReferences"].push_back(ref);
      });
      if (!ctl::controlled_by(pod, uid)) continue;
    }
    if (ordinal >= 0 && ordinal < replicas) m.slots[static_cast<std::size_t>(ordinal)] = pod;
    else m.condemned.push_back(pod);
  }
  std::sort(m.condemned.begin(), m.condemned.end(), [&](const Json& a, const Json& b) {
    return ordinal_of(name_of(set), name_of(a)) > ordinal_of(name_of(set), name_of(b));
  });

  auto manage = [&]() {
    for (int i = 0; i < replicas; ++i) {
      auto& pod = m.slots[static_cast<std::size_t>(i)];
      if (pod && phase_of(*pod) == "Failed" && !ctl::is_deleting(*pod)) {
        ctl::delete_pod(store_, *pod);  // a finished pod goes at once; its replacement follows
        ctl::record(store_, kResource, set, "Normal", "SuccessfulDelete",
                    "delete Pod " + name_of(*pod) + " in StatefulSet " + name_of(set) + " successful", kComponent);
        if (store_.get(ref_of("pods", *pod))) return;  // still there: wait for it
        pod.reset();
      }
      if (!pod) {
        create_pod(set, i, update_revision);
        if (ordered) return;
        continue;
      }
      if (ordered && !healthy(*pod, min_ready)) return;  // wait: Running and Ready first
    }
    std::optional<std::string> first_unhealthy;
    for (const auto& pod : m.slots)
      if (!first_unhealthy && pod && !healthy(*pod, min_ready)) first_unhealthy = name_of(*pod);
    for (const Json& pod : m.condemned)
      if (!first_unhealthy && !healthy(pod, min_ready)) first_unhealthy = name_of(pod);
    for (const Json& pod : m.condemned) {
      if (ctl::is_deleting(pod)) {
        if (ordered) return;
        continue;
      }
      if (ordered && first_unhealthy && *first_unhealthy != name_of(pod)) return;
      ctl::delete_pod(store_, pod);
      ctl::record(store_, kResource, set, "Normal", "SuccessfulDelete",
                  "delete Pod " + name_of(pod) + " in StatefulSet " + name_of(set) + " successful", kComponent);
      if (ordered) return;
    }
    if (!rolling) return;
    // RollingUpdate: the highest ordinal not at the update revision goes first, one at a time.
    for (int target = replicas - 1; target >= std::max(partition, 0); --target) {
      const auto& pod = m.slots[static_cast<std::size_t>(target)];
      if (!pod) return;
      if (revision_of(*pod) != update_revision && !ctl::is_deleting(*pod)) {
        ctl::delete_pod(store_, *pod);
        ctl::record(store_, kResource, set, "Normal", "SuccessfulDelete",
                    "delete Pod " + name_of(*pod) + " in StatefulSet " + name_of(set) + " successful", kComponent);
        return;
      }
      if (!healthy(*pod, min_ready)) return;
    }
  };
  manage();
  write_status(set, update_revision);
}

void StatefulSetController::create_pod(const Json& set, int ordinal, const std::string& revision) {
  const Json spec = set.value("spec", Json::object());
  const Json tmpl = spec.value("template", Json::object());
  const std::string name = name_of(set) + "-" + std::to_string(ordinal);
  Json meta = tmpl.value("metadata", Json::object());
  meta.erase("generateName");
  meta["name"] = name;
  meta["namespace"] = namespace_of(set);
  meta["labels"][kPodNameLabel] = name;
  meta["labels"][kPodIndexLabel] = std::to_string(ordinal);
  meta["labels"][kRevisionLabel] = revision;
  meta["ownerReferences"] = Json::array({ctl::make_controller_ref(kResource, set)});
  Json pod_spec = tmpl.value("spec", Json::object());
  pod_spec["hostname"] = name;
  if (!spec.value("serviceName", "").empty()) pod_spec["subdomain"] = spec["serviceName"];
  pod_spec["nodeName"] = kNodeName;
  for (const Json& claim : spec.value("volumeClaimTemplates", Json::array())) {
    const std::string volume = metadata_of(claim).value("name", "");
    if (volume.empty()) continue;
    Json volumes = pod_spec.value("volumes", Json::array());
    volumes.erase(std::remove_if(volumes.begin(), volumes.end(), [&](const Json& v) { return v.value("name", "") == volume; }),
                  volumes.end());
    volumes.push_back({{"name", volume}, {"persistentVolumeClaim", {{"claimName", volume + "-" + name}}}});
    pod_spec["volumes"] = volumes;
  }
  Json pod{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", meta}, {"spec", pod_spec}, {"status", {{"phase", "Pending"}}}};
  apply_defaults("pods", pod);  // what the API server would have added on a create
  try {
    store_.create("pods", pod);
  } catch (const StoreError& e) {
    if (e.reason() != StoreError::Reason::already_exists) throw;
    return;  // the previous pod of that name is still terminating; its removal requeues us
  }
  ctl::record(store_, kResource, set, "Normal", "SuccessfulCreate",
              "create Pod " + name + " in StatefulSet " + name_of(set) + " successful", kComponent);
}

void StatefulSetController::write_status(const Json& set, const std::string& update_revision) {
  const Json spec = set.value("spec", Json::object());
  const std::int32_t min_ready = spec.value("minReadySeconds", 0);
  const bool rolling = spec.value("updateStrategy", Json::object()).value("type", "RollingUpdate") == "RollingUpdate";
  const Json old_status = set.value("status", Json::object());
  std::string current_revision = old_status.value("currentRevision", "");
  if (current_revision.empty()) current_revision = update_revision;
  const std::string uid = ctl::uid_of(set);
  int count = 0, ready = 0, available = 0, current = 0, updated = 0;
  std::optional<ctl::TimePoint> next_check;
  const auto now = std::chrono::system_clock::now();
  for (const Json& pod : store_.list("pods", namespace_of(set)).items) {
    if (!ctl::controlled_by(pod, uid)) continue;
    ++count;
    if (running_and_ready(pod)) {
      ++ready;
      if (ctl::is_pod_available(pod, min_ready, now)) ++available;
      else if (auto at = ctl::pod_available_at(pod, min_ready); at && (!next_check || *at < *next_check)) next_check = at;
    }
    if (!ctl::is_deleting(pod)) {
      if (revision_of(pod) == current_revision) ++current;
      if (revision_of(pod) == update_revision) ++updated;
    }
  }
  if (rolling && updated == count && ready == count) {  // completeRollingUpdate
    current_revision = update_revision;
    current = updated;
  }
  const std::int64_t generation = metadata_of(set).value("generation", std::int64_t{1});
  try {
    store_.mutate(ref_of(kResource, set), [&](Json& s) {
      if (ctl::uid_of(s) != uid) return;
      Json& status = s["status"];
      if (!status.is_object()) status = Json::object();
      status["observedGeneration"] = generation;
      status["replicas"] = count;
      status["readyReplicas"] = ready;
      status["availableReplicas"] = available;
      status["currentReplicas"] = current;
      status["updatedReplicas"] = updated;
      status["currentRevision"] = current_revision;
      status["updateRevision"] = update_revision;
      if (!status.contains("collisionCount")) status["collisionCount"] = 0;
    });
  } catch (const StoreError& e) {
    if (e.reason() != StoreError::Reason::not_found) throw;
  }
  if (next_check)
    loop_.enqueue_after(ref_of(kResource, set),
                        std::chrono::duration_cast<std::chrono::milliseconds>(*next_check - now) + std::chrono::milliseconds(50));
}

}  // namespace mambogo::sim
