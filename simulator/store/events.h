// Kubernetes Events (core/v1) recorded by the simulator's components, aggregated the way
// client-go's EventRecorder does: a repeat of the same (object, type, reason, message, source)
// within the aggregation window raises `count` and `lastTimestamp` of one Event instead of
// creating another, so `kubectl get events` stays readable under a crash loop.
//
// Thread-safety: any thread, but never from inside a Store watch callback (it writes).
#pragma once

#include "store/store.h"

#include <string>

namespace mambogo::sim {

// involved_resource: the store resource of `involved` ("pods", "deployments.apps", ...).
// type: "Normal" or "Warning". Returns the Event as stored. Never throws for store races
// (an event is best effort); throws std::invalid_argument for an involved object without name.
Json record_event(Store& store, const std::string& involved_resource, const Json& involved,
                  const std::string& type, const std::string& reason, const std::string& message,
                  const std::string& component);

// The Kind and apiVersion of a store resource ("deployments.apps" → {"Deployment", "apps/v1"}),
// for involvedObject and ownerReferences. Unknown resources give {"", ""}.
struct KindInfo {
  std::string kind;
  std::string api_version;
};
KindInfo kind_of(const std::string& resource);

}  // namespace mambogo::sim
