// Reading a JSON request body the same way in every handler: the right status for each way
// it can be wrong, in the one error shape.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "runtime/http_message.h"

namespace mambogo::runtime {

// The body parsed as a JSON object. On failure returns nullopt and sets `error` to:
// 415 when Content-Type is present and not application/json (or +json), 400 when the body is
// empty, not JSON, or not an object.
std::optional<nlohmann::json> parse_json_object(const Request& request, Response& error);

}  // namespace mambogo::runtime
