// What every controller needs to know about objects: times (metav1.Time), owner references,
// pod readiness and availability as Kubernetes' podutil decides them, and pod deletion the
// graceful way the contracts prescribe (deletionTimestamp + deletionGracePeriodSeconds; the
// kubelet finishes it).
//
// Thread-safety: pure functions, except delete_pod and record (which write to the store; call
// them from a controller's own thread, never from a watch callback).
#pragma once

#include "store/store.h"

#include <chrono>
#include <optional>
#include <string>

namespace mambogo::sim::ctl {

using TimePoint = std::chrono::system_clock::time_point;

// RFC 3339 ("2026-11-27T10:00:00Z", fractional seconds and offsets accepted); nullopt if not one.
std::optional<TimePoint> parse_time(const std::string& text);
std::optional<TimePoint> parse_time_value(const Json& value);  // a JSON string, else nullopt
std::string format_time(TimePoint time);                 // seconds precision, "Z"

std::string uid_of(const Json& object);
bool is_deleting(const Json& object);  // metadata.deletionTimestamp set

// The ownerReference with controller: true, or nullptr.
const Json* controller_ref(const Json& object);
// An ownerReference to `owner` (stored under `resource`) with controller and blockOwnerDeletion.
Json make_controller_ref(const std::string& resource, const Json& owner);
// Whether object's controller reference is owner_uid.
bool controlled_by(const Json& object, const std::string& owner_uid);

// The Ready condition (or nullptr).
const Json* pod_condition(const Json& pod, const std::string& type);
bool is_pod_ready(const Json& pod);
// Neither deleting nor Succeeded/Failed (controller.IsPodActive).
bool is_pod_active(const Json& pod);
// Ready for at least min_ready_seconds (podutil.IsPodAvailable).
bool is_pod_available(const Json& pod, std::int32_t min_ready_seconds, TimePoint now);
// When a Ready pod becomes available (for re-checking after minReadySeconds); nullopt if not ready.
std::optional<TimePoint> pod_available_at(const Json& pod, std::int32_t min_ready_seconds);

// Deletes a pod as the API server would for a DELETE with the pod's own grace period: a pod
// that never started (no status.startTime), has finished, or has grace 0 is removed at once;
// otherwise deletionTimestamp (now + grace) and deletionGracePeriodSeconds are set. Repeated
// calls and pods already gone are no-ops.
void delete_pod(Store& store, const Json& pod);

// Records an event; never throws (an event is best effort).
void record(Store& store, const std::string& resource, const Json& object, const std::string& type,
            const std::string& reason, const std::string& message, const std::string& component);

}  // namespace mambogo::sim::ctl
