#include "controllers/replicaset_controller.h"

#include "controllers/object_util.h"
#include "objects/defaults.h"
#include "objects/names.h"
#include "objects/selector.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace mambogo::sim {
namespace {

constexpr const char* kResource = "replicasets.apps";
constexpr const char* kComponent = "replicaset-controller";

int phase_ordinal(const Json& pod) {
  const std::string phase = pod.contains("status") ? pod["status"].value("phase", "") : "";
  if (phase == "Unknown") return 1;
  if (phase == "Running") return 2;
  return 0;
}

std::int64_t max_restarts(const Json& pod) {
  std::int64_t most = 0;
  if (pod.contains("status") && pod["status"].contains("containerStatuses"))
    for (const Json& c : pod["status"]["containerStatuses"]) most = std::max(most, c.value("restartCount", std::int64_t{0}));
  return most;
}

std::int64_t deletion_cost(const Json& pod) {
  const Json& annotations = metadata_of(pod).value("annotations", Json::object());
  try {
    return std::stoll(annotations.value("controller.kubernetes.io/pod-deletion-cost", "0"));
  } catch (const std::exception&) {
    return 0;
  }
}

std::string node_of(const Json& pod) { return pod.contains("spec") ? pod["spec"].value("nodeName", "") : ""; }

std::string ready_since(const Json& pod) {
  const Json* c = ctl::pod_condition(pod, "Ready");
  return c ? c->value("lastTransitionTime", "") : "";
}

// "after or zero": an empty time sorts first, then the later time.
bool after_or_zero(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return a.empty();
  return a > b;
}

bool template_labels_match(const Json& pod, const Json& template_labels) {
  const Json& labels = metadata_of(pod).value("labels", Json::object());
  for (const auto& [k, v] : template_labels.items())
    if (!labels.contains(k) || labels[k] != v) return false;
  return true;
}

}  // namespace

void sort_pods_for_deletion(std::vector<Json>& pods) {
  std::stable_sort(pods.begin(), pods.end(), [](const Json& a, const Json& b) {
    const std::string na = node_of(a), nb = node_of(b);
    if (na != nb && (na.empty() || nb.empty())) return na.empty();
    if (phase_ordinal(a) != phase_ordinal(b)) return phase_ordinal(a) < phase_ordinal(b);
    const bool ra = ctl::is_pod_ready(a), rb = ctl::is_pod_ready(b);
    if (ra != rb) return !ra;
    if (deletion_cost(a) != deletion_cost(b)) return deletion_cost(a) < deletion_cost(b);
    if (ra && rb && ready_since(a) != ready_since(b)) return after_or_zero(ready_since(a), ready_since(b));
    if (max_restarts(a) != max_restarts(b)) return max_restarts(a) > max_restarts(b);
    const std::string ca = metadata_of(a).value("creationTimestamp", ""), cb = metadata_of(b).value("creationTimestamp", "");
    if (ca != cb) return after_or_zero(ca, cb);
    return false;
  });
}

ReplicaSetController::ReplicaSetController(Store& store, Options options)
    : store_(store),
      options_(options),
      loop_("replicaset-controller", options.resync, [this] { return list_keys(); },
            [this](const ctl::Key& key) { sync(key); }) {}

ReplicaSetController::~ReplicaSetController() { stop(); }

void ReplicaSetController::start() {
  if (!watches_.empty()) return;
  watches_.push_back(store_.watch(kResource, "", 0, [this](const WatchEvent& e) { loop_.enqueue(ref_of(kResource, e.object)); }));
  watches_.push_back(store_.watch("pods", "", 0, [this](const WatchEvent& e) { on_pod(e); }));
  loop_.start();
}

void ReplicaSetController::stop() {
  for (auto id : watches_) store_.unwatch(id);
  watches_.clear();
  loop_.stop();
}

std::vector<ctl::Key> ReplicaSetController::list_keys() const {
  std::vector<ctl::Key> keys;
  for (const Json& rs : store_.list(kResource).items) keys.push_back(ref_of(kResource, rs));
  return keys;
}

void ReplicaSetController::on_pod(const WatchEvent& e) {
  const std::string ns = namespace_of(e.object);
  if (const Json* ref = ctl::controller_ref(e.object)) {
    if (ref->value("kind", "") == "ReplicaSet") loop_.enqueue({kResource, ns, ref->value("name", "")});
    return;
  }
  // An orphan: every ReplicaSet of the namespace may want to adopt it.
  for (const Json& rs : store_.list(kResource, ns).items) loop_.enqueue(ref_of(kResource, rs));
}

void ReplicaSetController::sync(const ctl::Key& key) {
  auto found = store_.get(key);
  if (!found || ctl::is_deleting(*found)) return;
  const Json& rs = *found;
  const Json spec = rs.value("spec", Json::object());
  LabelSelector selector;
  try {
    selector = LabelSelector::from_json(spec.value("selector", Json()));
  } catch (const std::invalid_argument& e) {
    spdlog::warn("replicaset-controller: {}/{} has an invalid selector: {}", key.ns, key.name, e.what());
    return;
  }
  const std::int32_t replicas = spec.value("replicas", 1);
  const std::int32_t min_ready = spec.value("minReadySeconds", 0);
  const std::string uid = ctl::uid_of(rs);
  const Json owner_ref = ctl::make_controller_ref(kResource, rs);

  std::vector<Json> owned;
  for (Json& pod : store_.list("pods", key.ns).items) {
    const Json& labels = metadata_of(pod).value("labels", Json::object());
    const bool matches = !selector.empty() && selector.matches(labels);
    if (ctl::controlled_by(pod, uid)) {
      if (matches) {
        owned.push_back(std::move(pod));
      } else {  // release: the labels moved away from the selector
        store_.mutate(ref_of("pods", pod), [&](Json& p) {
          auto& refs = p["metadata"]["ownerReferences"];
          refs.erase(std::remove_if(refs.begin(), refs.end(), [&](const Json& r) { return r.value("uid", "") == uid; }), refs.end());
        });
      }
    } else if (matches && ctl::controller_ref(pod) == nullptr && !ctl::is_deleting(pod)) {
      Json adopted = store_.mutate(ref_of("pods", pod), [&](Json& p) {
        if (ctl::controller_ref(p) != nullptr) return;
        p["metadata"]["ownerReferences"].push_back(owner_ref);
      });
      if (ctl::controlled_by(adopted, uid)) owned.push_back(std::move(adopted));
    }
  }

  std::vector<Json> active;
  for (const Json& pod : owned)
    if (ctl::is_pod_active(pod)) active.push_back(pod);

  // The status counts what this sync leaves behind: deleted pods no longer, created ones (not
  // ready yet) already, so a Deployment reading it never over-counts available pods.
  const int diff = static_cast<int>(active.size()) - replicas;
  int created = 0;
  if (diff < 0) {
    created = create_pods(rs, -diff);
  } else if (diff > 0) {
    sort_pods_for_deletion(active);
    for (int i = 0; i < diff; ++i) {
      ctl::delete_pod(store_, active[i]);
      ctl::record(store_, kResource, rs, "Normal", "SuccessfulDelete", "Deleted pod: " + name_of(active[i]), kComponent);
    }
    active.erase(active.begin(), active.begin() + diff);
  }
  write_status(rs, active, created, min_ready);
}

int ReplicaSetController::create_pods(const Json& rs, int count) {
  const Json tmpl = rs.value("spec", Json::object()).value("template", Json::object());
  const std::string prefix = name_of(rs) + "-";
  for (int i = 0; i < count; ++i) {
    Json pod{{"apiVersion", "v1"}, {"kind", "Pod"}};
    Json meta = tmpl.value("metadata", Json::object());
    meta.erase("name");
    meta["generateName"] = prefix;
    meta["namespace"] = namespace_of(rs);
    meta["ownerReferences"] = Json::array({ctl::make_controller_ref(kResource, rs)});
    pod["metadata"] = meta;
    pod["spec"] = tmpl.value("spec", Json::object());
    pod["spec"]["nodeName"] = kNodeName;
    pod["status"] = Json{{"phase", "Pending"}};
    apply_defaults("pods", pod);  // what the API server would have added on a create
    for (int attempt = 0;; ++attempt) {
      pod["metadata"]["name"] = prefix + random_suffix(5);
      try {
        Json created = store_.create("pods", pod);
        ctl::record(store_, kResource, rs, "Normal", "SuccessfulCreate", "Created pod: " + name_of(created), kComponent);
        break;
      } catch (const StoreError& e) {
        if (e.reason() != StoreError::Reason::already_exists || attempt >= 5) throw;
      }
    }
  }
  return count;
}

void ReplicaSetController::write_status(const Json& rs, const std::vector<Json>& active, int created,
                                        std::int32_t min_ready_seconds) {
  const Json template_labels =
      rs.value("spec", Json::object()).value("template", Json::object()).value("metadata", Json::object()).value("labels", Json::object());
  const auto now = std::chrono::system_clock::now();
  int fully_labeled = created, ready = 0, available = 0;
  std::optional<ctl::TimePoint> next_check;
  for (const Json& pod : active) {
    if (template_labels_match(pod, template_labels)) ++fully_labeled;
    if (!ctl::is_pod_ready(pod)) continue;
    ++ready;
    if (ctl::is_pod_available(pod, min_ready_seconds, now)) {
      ++available;
    } else if (auto at = ctl::pod_available_at(pod, min_ready_seconds)) {
      if (!next_check || *at < *next_check) next_check = *at;
    }
  }
  const std::int64_t generation = metadata_of(rs).value("generation", std::int64_t{1});
  try {
    store_.mutate(ref_of(kResource, rs), [&](Json& object) {
      if (ctl::uid_of(object) != ctl::uid_of(rs)) return;
      Json& status = object["status"];
      if (!status.is_object()) status = Json::object();
      status["replicas"] = static_cast<int>(active.size()) + created;
      status["fullyLabeledReplicas"] = fully_labeled;
      status["readyReplicas"] = ready;
      status["availableReplicas"] = available;
      status["observedGeneration"] = generation;
    });
  } catch (const StoreError& e) {
    if (e.reason() != StoreError::Reason::not_found) throw;
  }
  if (next_check) {
    const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(*next_check - now) + std::chrono::milliseconds(50);
    loop_.enqueue_after(ref_of(kResource, rs), delay);
  }
}

}  // namespace mambogo::sim
