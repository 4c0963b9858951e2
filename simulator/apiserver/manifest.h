// YAML → JSON as Kubernetes reads manifests (internal to apiserver/; parse_manifests in
// api_server.h is the public face).
#pragma once

#include "store/store.h"

#include <string>

namespace mambogo::sim::api {

// One YAML (or JSON) document → JSON. Throws std::invalid_argument with the line of the error.
Json yaml_document_to_json(const std::string& text);

}  // namespace mambogo::sim::api
