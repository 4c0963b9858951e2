#include "controllers/deployment_controller.h"

#include "controllers/object_util.h"
#include "objects/selector.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace mambogo::sim {
namespace {

using namespace deploy;

constexpr const char* kResource = "deployments.apps";
constexpr const char* kRsResource = "replicasets.apps";
constexpr const char* kComponent = "deployment-controller";

std::int32_t spec_replicas(const Json& rs) { return rs.value("spec", Json::object()).value("replicas", 1); }
std::int32_t status_int(const Json& object, const char* key) { return object.value("status", Json::object()).value(key, 0); }

Json annotations_of(const Json& object) { return metadata_of(object).value("annotations", Json::object()); }

std::optional<std::int32_t> int_annotation(const Json& object, const char* key) {
  const Json a = annotations_of(object);
  if (!a.contains(key) || !a[key].is_string()) return std::nullopt;
  try {
    return std::stoi(a[key].get<std::string>());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::int64_t revision_of(const Json& rs) { return int_annotation(rs, kRevisionAnnotation).value_or(0); }

RsView view_of(const Json& rs) {
  return RsView{name_of(rs),
                spec_replicas(rs),
                status_int(rs, "replicas"),
                status_int(rs, "availableReplicas"),
                metadata_of(rs).value("creationTimestamp", ""),
                int_annotation(rs, kMaxReplicasAnnotation),
                int_annotation(rs, kDesiredReplicasAnnotation)};
}

const Json* find_condition(const Json& status, const std::string& type) {
  if (!status.contains("conditions")) return nullptr;
  for (const Json& c : status["conditions"])
    if (c.value("type", "") == type) return &c;
  return nullptr;
}

void remove_condition(Json& status, const std::string& type) {
  if (!status.contains("conditions")) return;
  Json& list = status["conditions"];
  list.erase(std::remove_if(list.begin(), list.end(), [&](const Json& c) { return c.value("type", "") == type; }), list.end());
}

Json make_condition(const std::string& type, const std::string& status, const std::string& reason, const std::string& message) {
  const std::string now = ctl::format_time(std::chrono::system_clock::now());
  return Json{{"type", type}, {"status", status}, {"lastUpdateTime", now}, {"lastTransitionTime", now},
              {"reason", reason}, {"message", message}};
}

// SetDeploymentCondition: nothing when status and reason are unchanged; keeps lastTransitionTime
// when only the reason changes; the condition moves to the end.
void set_condition(Json& status, Json condition) {
  const Json* current = find_condition(status, condition["type"]);
  if (current != nullptr && (*current)["status"] == condition["status"] && (*current)["reason"] == condition["reason"]) return;
  if (current != nullptr && (*current)["status"] == condition["status"])
    condition["lastTransitionTime"] = (*current)["lastTransitionTime"];
  remove_condition(status, condition["type"]);
  status["conditions"].push_back(std::move(condition));
}

// Annotations a new ReplicaSet takes over from its Deployment (SetNewReplicaSetAnnotations skips these).
bool copied_annotation(const std::string& key) {
  static const std::set<std::string> skipped{"kubectl.kubernetes.io/last-applied-configuration", kRevisionAnnotation,
                                             "deployment.kubernetes.io/revision-history", kDesiredReplicasAnnotation,
                                             kMaxReplicasAnnotation, "deprecated.deployment.rollback.to"};
  return !skipped.contains(key);
}

// DeploymentComplete on the Deployment's current status.
bool rollout_complete(const Json& d, const Params& p) {
  const Json status = d.value("status", Json::object());
  return status.value("updatedReplicas", 0) == p.replicas && status.value("replicas", 0) == p.replicas &&
         status.value("availableReplicas", 0) == p.replicas &&
         status.value("observedGeneration", std::int64_t{0}) >= metadata_of(d).value("generation", std::int64_t{1});
}

}  // namespace

struct DeploymentController::State {
  Json d;
  Params p;
  Json status;  // the status being built (starts as d.status)
  std::optional<Json> new_rs;
  std::vector<Json> old_rss;
  std::vector<Json> all_rss;  // as claimed

  std::vector<RsView> old_views() const {
    std::vector<RsView> v;
    for (const Json& rs : old_rss) v.push_back(view_of(rs));
    return v;
  }
  std::vector<Json> all() const {
    std::vector<Json> v = old_rss;
    if (new_rs) v.push_back(*new_rs);
    return v;
  }
};

DeploymentController::DeploymentController(Store& store, Options options)
    : store_(store),
      options_(options),
      loop_("deployment-controller", options.resync, [this] { return list_keys(); },
            [this](const ctl::Key& key) { sync(key); }) {}

DeploymentController::~DeploymentController() { stop(); }

void DeploymentController::start() {
  if (!watches_.empty()) return;
  watches_.push_back(store_.watch(kResource, "", 0, [this](const WatchEvent& e) { loop_.enqueue(ref_of(kResource, e.object)); }));
  watches_.push_back(store_.watch(kRsResource, "", 0, [this](const WatchEvent& e) { on_replica_set(e); }));
  watches_.push_back(store_.watch("pods", "", 0, [this](const WatchEvent& e) { on_pod(e); }));
  loop_.start();
}

void DeploymentController::stop() {
  for (auto id : watches_) store_.unwatch(id);
  watches_.clear();
  loop_.stop();
}

std::vector<ctl::Key> DeploymentController::list_keys() const {
  std::vector<ctl::Key> keys;
  for (const Json& d : store_.list(kResource).items) keys.push_back(ref_of(kResource, d));
  return keys;
}

void DeploymentController::on_replica_set(const WatchEvent& e) {
  const std::string ns = namespace_of(e.object);
  if (const Json* ref = ctl::controller_ref(e.object)) {
    if (ref->value("kind", "") == "Deployment") loop_.enqueue({kResource, ns, ref->value("name", "")});
    return;
  }
  for (const Json& d : store_.list(kResource, ns).items) loop_.enqueue(ref_of(kResource, d));
}

void DeploymentController::on_pod(const WatchEvent& e) {
  // Recreate waits for old pods to be gone: their deletion is what it waits for.
  if (e.type != EventType::deleted) return;
  const Json* ref = ctl::controller_ref(e.object);
  if (ref == nullptr || ref->value("kind", "") != "ReplicaSet") return;
  auto rs = store_.get({kRsResource, namespace_of(e.object), ref->value("name", "")});
  if (!rs) return;
  if (const Json* owner = ctl::controller_ref(*rs); owner != nullptr && owner->value("kind", "") == "Deployment")
    loop_.enqueue({kResource, namespace_of(*rs), owner->value("name", "")});
}

std::vector<Json> DeploymentController::claim_replica_sets(const Json& d, const Json& selector_json) {
  const LabelSelector selector = LabelSelector::from_json(selector_json);
  const std::string uid = ctl::uid_of(d);
  std::vector<Json> claimed;
  for (Json& rs : store_.list(kRsResource, namespace_of(d)).items) {
    const bool matches = selector.matches(metadata_of(rs).value("labels", Json::object()));
    if (ctl::controlled_by(rs, uid)) {
      if (matches) claimed.push_back(std::move(rs));
    } else if (matches && ctl::controller_ref(rs) == nullptr && !ctl::is_deleting(rs)) {
      const Json ref = ctl::make_controller_ref(kResource, d);
      Json adopted = store_.mutate(ref_of(kRsResource, rs), [&](Json& r) {
        if (ctl::controller_ref(r) == nullptr) r["metadata"]["ownerReferences"].push_back(ref);
      });
      if (ctl::controlled_by(adopted, uid)) claimed.push_back(std::move(adopted));
    }
  }
  return claimed;
}

void DeploymentController::sync(const ctl::Key& key) {
  auto found = store_.get(key);
  if (!found || ctl::is_deleting(*found)) return;
  State s;
  s.d = *found;
  const Json spec = s.d.value("spec", Json::object());
  try {
    s.p = params_of(spec);
  } catch (const std::invalid_argument& e) {
    spdlog::warn("deployment-controller: {}/{}: {}", key.ns, key.name, e.what());
    return;
  }
  s.status = s.d.value("status", Json::object());
  if (!s.status.is_object()) s.status = Json::object();
  if (!s.status.contains("conditions")) s.status["conditions"] = Json::array();

  const Json selector = spec.value("selector", Json::object());
  if (selector.value("matchLabels", Json::object()).empty() && selector.value("matchExpressions", Json::array()).empty()) {
    ctl::record(store_, kResource, s.d, "Warning", "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.", kComponent);
    return;
  }
  s.all_rss = claim_replica_sets(s.d, selector);
  const Json tmpl = spec.value("template", Json::object());
  for (const Json& rs : s.all_rss) {  // the new RS: the oldest whose template matches
    const bool same = equal_ignore_hash(rs.value("spec", Json::object()).value("template", Json::object()), tmpl);
    if (same && (!s.new_rs || metadata_of(rs).value("creationTimestamp", "") < metadata_of(*s.new_rs).value("creationTimestamp", "")))
      s.new_rs = rs;
  }
  for (const Json& rs : s.all_rss)
    if (!s.new_rs || name_of(rs) != name_of(*s.new_rs)) s.old_rss.push_back(rs);

  // checkPausedConditions
  if (s.p.progress_deadline_seconds) {
    const Json* progressing = find_condition(s.status, "Progressing");
    const bool paused_reason = progressing != nullptr && progressing->value("reason", "") == "DeploymentPaused";
    if (s.p.paused && !paused_reason)
      set_condition(s.status, make_condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused"));
    else if (!s.p.paused && paused_reason)
      set_condition(s.status, make_condition("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed"));
  }

  sync_revision(s);
  if (s.p.paused || is_scaling_event(s)) {
    sync_scale(s);
  } else if (s.p.rolling) {
    rollout_rolling(s);
  } else {
    rollout_recreate(s);
  }
}

// getAllReplicaSetsAndSyncRevision for an existing new RS: revision (and annotations,
// minReadySeconds) brought up to date, the Deployment's revision annotation follows.
void DeploymentController::sync_revision(State& s) {
  if (!s.new_rs) return;
  std::int64_t max_old = 0;
  for (const Json& rs : s.old_rss) max_old = std::max(max_old, revision_of(rs));
  const std::int64_t wanted = max_old + 1;
  const Json d_annotations = annotations_of(s.d);
  const std::int32_t min_ready = s.p.min_ready_seconds;
  Json updated = store_.mutate(ref_of(kRsResource, *s.new_rs), [&](Json& rs) {
    Json& annotations = rs["metadata"]["annotations"];
    if (!annotations.is_object()) annotations = Json::object();
    for (const auto& [k, v] : d_annotations.items())
      if (copied_annotation(k)) annotations[k] = v;
    if (revision_of(rs) < wanted) annotations[kRevisionAnnotation] = std::to_string(wanted);
    rs["spec"]["minReadySeconds"] = min_ready;
  });
  s.new_rs = updated;
  const std::string revision = annotations_of(updated).value(kRevisionAnnotation, "");
  if (annotations_of(s.d).value(kRevisionAnnotation, "") != revision) {
    s.d = store_.mutate(ref_of(kResource, s.d), [&](Json& d) { d["metadata"]["annotations"][kRevisionAnnotation] = revision; });
  }
  if (s.p.progress_deadline_seconds && find_condition(s.status, "Progressing") == nullptr)
    set_condition(s.status, make_condition("Progressing", "True", "FoundNewReplicaSet",
                                           "Found new replica set \"" + name_of(updated) + "\""));
}

bool DeploymentController::create_new_rs(State& s) {
  const Json spec = s.d.value("spec", Json::object());
  std::optional<std::int32_t> collisions;
  if (s.status.contains("collisionCount")) collisions = s.status["collisionCount"].get<std::int32_t>();
  Json tmpl = spec.value("template", Json::object());
  const std::string hash = template_hash(tmpl, collisions);
  tmpl["metadata"]["labels"][kPodTemplateHashLabel] = hash;
  Json selector = spec.value("selector", Json::object());
  selector["matchLabels"][kPodTemplateHashLabel] = hash;

  std::int64_t max_old = 0;
  std::int32_t old_replicas = 0;
  for (const Json& rs : s.old_rss) {
    max_old = std::max(max_old, revision_of(rs));
    old_replicas += spec_replicas(rs);
  }
  const std::int32_t replicas = new_rs_new_replicas(s.p, old_replicas, 0);
  Json annotations = Json::object();
  const Json d_annotations = annotations_of(s.d);
  for (const auto& [k, v] : d_annotations.items())
    if (copied_annotation(k)) annotations[k] = v;
  annotations[kRevisionAnnotation] = std::to_string(max_old + 1);
  annotations[kDesiredReplicasAnnotation] = std::to_string(s.p.replicas);
  annotations[kMaxReplicasAnnotation] = std::to_string(s.p.replicas + s.p.max_surge);

  Json rs{{"apiVersion", "apps/v1"},
          {"kind", "ReplicaSet"},
          {"metadata",
           {{"name", name_of(s.d) + "-" + hash},
            {"namespace", namespace_of(s.d)},
            {"labels", tmpl["metadata"]["labels"]},
            {"annotations", annotations},
            {"ownerReferences", Json::array({ctl::make_controller_ref(kResource, s.d)})}}},
          {"spec", {{"replicas", replicas}, {"minReadySeconds", s.p.min_ready_seconds}, {"selector", selector}, {"template", tmpl}}}};
  Json created;
  try {
    created = store_.create(kRsResource, rs);
  } catch (const StoreError& e) {
    if (e.reason() != StoreError::Reason::already_exists) throw;
    auto existing = store_.get(ref_of(kRsResource, rs));
    if (existing && ctl::controlled_by(*existing, ctl::uid_of(s.d)) &&
        equal_ignore_hash(existing->value("spec", Json::object()).value("template", Json::object()), spec.value("template", Json::object()))) {
      s.new_rs = *existing;
      return true;
    }
    // A hash collision: the next attempt hashes with a higher collisionCount.
    store_.mutate(ref_of(kResource, s.d), [&](Json& d) { d["status"]["collisionCount"] = collisions.value_or(0) + 1; });
    loop_.enqueue(ref_of(kResource, s.d));
    return false;
  }
  s.new_rs = created;
  if (replicas > 0)
    ctl::record(store_, kResource, s.d, "Normal", "ScalingReplicaSet",
                "Scaled up replica set " + name_of(created) + " to " + std::to_string(replicas), kComponent);
  const std::string revision = annotations[kRevisionAnnotation];
  s.d = store_.mutate(ref_of(kResource, s.d), [&](Json& d) { d["metadata"]["annotations"][kRevisionAnnotation] = revision; });
  if (s.p.progress_deadline_seconds)
    set_condition(s.status, make_condition("Progressing", "True", "NewReplicaSetCreated",
                                           "Created new replica set \"" + name_of(created) + "\""));
  return true;
}

// Applies scale actions to the ReplicaSets; returns whether any size changed. With
// sync_annotations the desired/max-replicas annotations are refreshed even without a size change
// (scaleReplicaSet), otherwise only sized RSs are touched (scaleReplicaSetAndRecordEvent).
bool DeploymentController::apply(State& s, const std::vector<ScaleAction>& actions, bool sync_annotations) {
  bool scaled = false;
  const std::string desired = std::to_string(s.p.replicas);
  const std::string max = std::to_string(s.p.replicas + s.p.max_surge);
  for (const ScaleAction& a : actions) {
    if (a.from == a.to && !sync_annotations) continue;
    Json* rs = nullptr;
    for (Json* candidate : [&] {
           std::vector<Json*> v;
           for (Json& o : s.old_rss) v.push_back(&o);
           if (s.new_rs) v.push_back(&*s.new_rs);
           return v;
         }())
      if (name_of(*candidate) == a.name) rs = candidate;
    if (rs == nullptr) continue;
    const Json annotations = annotations_of(*rs);
    const bool annotations_stale = annotations.value(kDesiredReplicasAnnotation, "") != desired ||
                                   annotations.value(kMaxReplicasAnnotation, "") != max;
    if (a.from == a.to && !annotations_stale) continue;
    *rs = store_.mutate(ref_of(kRsResource, *rs), [&](Json& r) {
      r["spec"]["replicas"] = a.to;
      r["metadata"]["annotations"][kDesiredReplicasAnnotation] = desired;
      r["metadata"]["annotations"][kMaxReplicasAnnotation] = max;
    });
    if (a.from != a.to) {
      scaled = true;
      ctl::record(store_, kResource, s.d, "Normal", "ScalingReplicaSet",
                  std::string("Scaled ") + (a.to > a.from ? "up" : "down") + " replica set " + a.name + " to " +
                      std::to_string(a.to) + " from " + std::to_string(a.from),
                  kComponent);
    }
  }
  return scaled;
}

bool DeploymentController::is_scaling_event(const State& s) const {
  for (const Json& rs : s.all()) {
    if (spec_replicas(rs) == 0) continue;
    auto desired = int_annotation(rs, kDesiredReplicasAnnotation);
    if (desired && *desired != s.p.replicas) return true;
  }
  return false;
}

void DeploymentController::sync_scale(State& s) {
  std::optional<RsView> new_view;
  if (s.new_rs) new_view = view_of(*s.new_rs);
  const auto actions = plan_scale(s.p, status_int(s.d, "replicas"), new_view, s.old_views());
  apply(s, actions, true);
  if (s.p.paused) cleanup(s);
  sync_status(s, false);
}

void DeploymentController::rollout_rolling(State& s) {
  if (!s.new_rs && !create_new_rs(s)) return;
  const bool scaled = apply(s, plan_rolling(s.p, view_of(*s.new_rs), s.old_views()), false);
  if (!scaled && rollout_complete(s.d, s.p)) cleanup(s);
  sync_status(s, true);
}

bool DeploymentController::old_pods_running(const State& s) const {
  std::int32_t old_actual = 0;
  std::set<std::string> old_uids;
  for (const Json& rs : s.old_rss) {
    old_actual += status_int(rs, "replicas");
    old_uids.insert(ctl::uid_of(rs));
  }
  if (old_actual > 0) return true;
  for (const Json& pod : store_.list("pods", namespace_of(s.d)).items) {
    const Json* ref = ctl::controller_ref(pod);
    if (ref == nullptr || !old_uids.contains(ref->value("uid", ""))) continue;
    const std::string phase = pod.value("status", Json::object()).value("phase", "");
    if (phase != "Succeeded" && phase != "Failed") return true;
  }
  return false;
}

void DeploymentController::rollout_recreate(State& s) {
  std::vector<ScaleAction> down;
  for (const Json& rs : s.old_rss)
    if (spec_replicas(rs) > 0) down.push_back({name_of(rs), spec_replicas(rs), 0});
  if (apply(s, down, false) || old_pods_running(s)) {
    sync_status(s, true);
    return;
  }
  if (!s.new_rs && !create_new_rs(s)) return;
  if (spec_replicas(*s.new_rs) != s.p.replicas) apply(s, {{name_of(*s.new_rs), spec_replicas(*s.new_rs), s.p.replicas}}, false);
  if (rollout_complete(s.d, s.p)) cleanup(s);
  sync_status(s, true);
}

void DeploymentController::cleanup(State& s) {
  std::vector<Json> cleanable;
  for (const Json& rs : s.old_rss)
    if (!ctl::is_deleting(rs)) cleanable.push_back(rs);
  const int diff = static_cast<int>(cleanable.size()) - s.p.revision_history_limit;
  if (diff <= 0) return;
  std::sort(cleanable.begin(), cleanable.end(), [](const Json& a, const Json& b) {
    if (revision_of(a) != revision_of(b)) return revision_of(a) < revision_of(b);
    return metadata_of(a).value("creationTimestamp", "") < metadata_of(b).value("creationTimestamp", "");
  });
  for (int i = 0; i < diff; ++i) {
    const Json& rs = cleanable[i];
    if (status_int(rs, "replicas") != 0 || spec_replicas(rs) != 0 ||
        metadata_of(rs).value("generation", std::int64_t{1}) > rs.value("status", Json::object()).value("observedGeneration", std::int64_t{0}))
      continue;
    try {
      store_.remove(ref_of(kRsResource, rs), ctl::uid_of(rs));
    } catch (const StoreError& e) {
      if (e.reason() != StoreError::Reason::not_found && e.reason() != StoreError::Reason::conflict) throw;
    }
  }
}

// calculateStatus (+ syncRolloutStatus's progress estimation when with_progress).
void DeploymentController::sync_status(State& s, bool with_progress) {
  const std::vector<Json> all = s.all();
  std::int32_t spec_total = 0, actual = 0, ready = 0, available = 0;
  for (const Json& rs : all) {
    spec_total += spec_replicas(rs);
    actual += status_int(rs, "replicas");
    ready += status_int(rs, "readyReplicas");
    available += status_int(rs, "availableReplicas");
  }
  const Json old_status = s.d.value("status", Json::object());
  Json status = s.status;
  status["observedGeneration"] = metadata_of(s.d).value("generation", std::int64_t{1});
  status["replicas"] = actual;
  status["updatedReplicas"] = s.new_rs ? status_int(*s.new_rs, "replicas") : 0;
  status["readyReplicas"] = ready;
  status["availableReplicas"] = available;
  status["unavailableReplicas"] = std::max(0, spec_total - available);
  if (available >= s.p.replicas - s.p.max_unavailable)
    set_condition(status, make_condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."));
  else
    set_condition(status, make_condition("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."));

  const bool complete = status["updatedReplicas"] == s.p.replicas && status["replicas"] == s.p.replicas &&
                        status["availableReplicas"] == s.p.replicas;
  if (with_progress) {
    if (!s.p.progress_deadline_seconds) remove_condition(status, "Progressing");
    const Json* current = find_condition(old_status, "Progressing");
    const bool already_complete = status["replicas"] == status["updatedReplicas"] && current != nullptr &&
                                  current->value("reason", "") == "NewReplicaSetAvailable";
    if (s.p.progress_deadline_seconds && !already_complete) {
      const std::string rs_name = s.new_rs ? name_of(*s.new_rs) : "";
      const auto old_int = [&](const char* k) { return old_status.value(k, 0); };
      const bool progressing = status["updatedReplicas"].get<int>() > old_int("updatedReplicas") ||
                               status["replicas"].get<int>() - status["updatedReplicas"].get<int>() <
                                   old_int("replicas") - old_int("updatedReplicas") ||
                               ready > old_int("readyReplicas") || available > old_int("availableReplicas");
      if (complete) {
        set_condition(status, make_condition("Progressing", "True", "NewReplicaSetAvailable",
                                             s.new_rs ? "ReplicaSet \"" + rs_name + "\" has successfully progressed."
                                                      : "Deployment \"" + name_of(s.d) + "\" has successfully progressed."));
      } else if (progressing) {
        Json condition = make_condition("Progressing", "True", "ReplicaSetUpdated",
                                        s.new_rs ? "ReplicaSet \"" + rs_name + "\" is progressing."
                                                 : "Deployment \"" + name_of(s.d) + "\" is progressing.");
        if (const Json* existing = find_condition(status, "Progressing")) {
          if ((*existing)["status"] == "True") condition["lastTransitionTime"] = (*existing)["lastTransitionTime"];
          remove_condition(status, "Progressing");
        }
        status["conditions"].push_back(condition);
      } else if (const Json* cond = find_condition(status, "Progressing");
                 cond != nullptr && cond->value("reason", "") != "NewReplicaSetAvailable") {
        bool timed_out = cond->value("reason", "") == "ProgressDeadlineExceeded";
        if (!timed_out) {
          auto from = ctl::parse_time_value(cond->value("lastUpdateTime", Json()));
          timed_out = from && *from + std::chrono::seconds(*s.p.progress_deadline_seconds) < std::chrono::system_clock::now();
        }
        if (timed_out)
          set_condition(status, make_condition("Progressing", "False", "ProgressDeadlineExceeded",
                                               s.new_rs ? "ReplicaSet \"" + rs_name + "\" has timed out progressing."
                                                        : "Deployment \"" + name_of(s.d) + "\" has timed out progressing."));
      }
    }
  }

  if (status != old_status) {
    const std::string uid = ctl::uid_of(s.d);
    s.d = store_.mutate(ref_of(kResource, s.d), [&](Json& d) {
      if (ctl::uid_of(d) != uid) return;
      Json next = status;
      if (d.contains("status") && d["status"].contains("collisionCount")) next["collisionCount"] = d["status"]["collisionCount"];
      d["status"] = next;
    });
  }
  s.status = status;

  // requeueStuckDeployment: come back when the deadline would pass.
  if (with_progress && s.p.progress_deadline_seconds && !complete) {
    const Json* cond = find_condition(status, "Progressing");
    if (cond != nullptr && cond->value("reason", "") != "ProgressDeadlineExceeded") {
      if (auto from = ctl::parse_time_value(cond->value("lastUpdateTime", Json()))) {
        auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
            *from + std::chrono::seconds(*s.p.progress_deadline_seconds) - std::chrono::system_clock::now());
        loop_.enqueue_after(ref_of(kResource, s.d), std::max(after, std::chrono::milliseconds(0)) + std::chrono::seconds(1));
      }
    }
  }
}

}  // namespace mambogo::sim
