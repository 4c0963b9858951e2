// The arithmetic of Kubernetes' Deployment controller (pkg/controller/deployment: rolling.go,
// sync.go, util/deployment_util.go) as pure functions over plain views of ReplicaSets, so the
// rolling-update and proportional-scaling steps are testable without a store. The controller
// (deployment_controller.h) turns store objects into these views and applies the actions.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mambogo::sim::deploy {

inline constexpr const char* kRevisionAnnotation = "deployment.kubernetes.io/revision";
inline constexpr const char* kDesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
inline constexpr const char* kMaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";
inline constexpr const char* kPodTemplateHashLabel = "pod-template-hash";

// A Deployment's spec with the API server's defaults applied (replicas 1, RollingUpdate with
// maxSurge and maxUnavailable 25%, revisionHistoryLimit 10, progressDeadlineSeconds 600).
struct Params {
  std::int32_t replicas = 1;
  bool rolling = true;  // false: Recreate
  std::int32_t max_surge = 0;
  std::int32_t max_unavailable = 0;
  std::int32_t min_ready_seconds = 0;
  std::int32_t revision_history_limit = 10;
  std::optional<std::int32_t> progress_deadline_seconds = 600;
  bool paused = false;
};
// Throws std::invalid_argument naming the field (a bad maxSurge, an unknown strategy type).
Params params_of(const nlohmann::json& deployment_spec);

struct Fenceposts {
  std::int32_t max_surge = 0;
  std::int32_t max_unavailable = 0;
};
// ResolveFenceposts: surge rounds up, unavailable rounds down, both 0 → unavailable 1. The
// returned unavailable is capped at desired (MaxUnavailable()). Throws std::invalid_argument.
Fenceposts resolve_fenceposts(const nlohmann::json& max_surge, const nlohmann::json& max_unavailable, std::int32_t desired);

// FNV-32a of the template's JSON (plus the collision count, little-endian, when set), written
// in decimal and mapped onto the generateName alphabet (rand.SafeEncodeString).
std::string template_hash(const nlohmann::json& pod_template, std::optional<std::int32_t> collision_count);
// Whether two pod templates are equal apart from the pod-template-hash label.
bool equal_ignore_hash(const nlohmann::json& a, const nlohmann::json& b);

struct RsView {
  std::string name;
  std::int32_t replicas = 0;   // spec.replicas
  std::int32_t actual = 0;     // status.replicas
  std::int32_t available = 0;  // status.availableReplicas
  std::string created;         // creationTimestamp (RFC 3339 compares as time)
  std::optional<std::int32_t> max_replicas_annotation;
  std::optional<std::int32_t> desired_replicas_annotation;
};

struct ScaleAction {
  std::string name;
  std::int32_t from = 0;
  std::int32_t to = 0;
};

// NewRSNewReplicas for a rolling update.
std::int32_t new_rs_new_replicas(const Params& p, std::int32_t all_replicas, std::int32_t new_rs_replicas);

// One pass of rolloutRolling: scale the new RS up if it can (then stop), otherwise scale old
// RSs down (unhealthy replicas first, then within maxUnavailable). new_rs must exist.
std::vector<ScaleAction> plan_rolling(const Params& p, const RsView& new_rs, std::vector<RsView> old_rss);

// DeploymentController.scale(): a scaling event (spec.replicas changed while RSs carry another
// desired-replicas annotation). Proportional across active RSs during a rollout.
// status_replicas: the Deployment's status.replicas (fallback when an annotation is missing).
std::vector<ScaleAction> plan_scale(const Params& p, std::int32_t status_replicas, const std::optional<RsView>& new_rs,
                                    std::vector<RsView> old_rss);

}  // namespace mambogo::sim::deploy
