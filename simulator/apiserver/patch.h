// The three patch formats of the Kubernetes API (internal to apiserver/), as pure functions:
// JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch — the merge
// patch plus Kubernetes' rules for the common fields: lists of containers, initContainers,
// volumes, env, imagePullSecrets merged by name, container ports by containerPort, Service
// ports by port, volumeMounts by mountPath, conditions by type, ownerReferences by uid,
// finalizers as a set; other lists replaced. Directives $patch (merge|replace|delete),
// $retainKeys, $setElementOrder/<list> and $deleteFromPrimitiveList/<list> are honoured.
#pragma once

#include "store/store.h"

#include <string>

namespace mambogo::sim::api {

Json apply_merge_patch(const Json& target, const Json& patch);
Json apply_json_patch(const Json& target, const Json& patch);  // throws std::invalid_argument
Json apply_strategic_merge_patch(const Json& target, const Json& patch);  // throws std::invalid_argument

// By Content-Type (parameters ignored): application/merge-patch+json,
// application/strategic-merge-patch+json, application/json-patch+json. Throws ApiError
// (400 for a malformed patch, 415 for another type, 422 when a JSON patch cannot apply).
Json apply_patch(const Json& target, const std::string& content_type, const std::string& body);

}  // namespace mambogo::sim::api
