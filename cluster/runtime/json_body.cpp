#include "runtime/json_body.h"

namespace mambogo::runtime {

std::optional<nlohmann::json> parse_json_object(const Request& request, Response& error) {
  if (auto type = request.header("Content-Type")) {
    std::string_view media = type->substr(0, type->find(';'));
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    const bool json = iequals(media, "application/json") ||
                      (media.size() > 5 && iequals(media.substr(media.size() - 5), "+json"));
    if (!json) {
      error = Response::error(415, "unsupported_media_type",
                              "expected Content-Type application/json, got " + std::string(media),
                              request.request_id);
      return std::nullopt;
    }
  }
  if (request.body.empty()) {
    error = Response::error(400, "invalid_json", "request body is empty", request.request_id);
    return std::nullopt;
  }
  try {
    auto body = nlohmann::json::parse(request.body);
    if (!body.is_object()) {
      error = Response::error(400, "invalid_json", "request body must be a JSON object",
                              request.request_id);
      return std::nullopt;
    }
    return body;
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte tells the client where it went wrong; the library's own text is too internal.
    error = Response::error(400, "invalid_json",
                            "request body is not valid JSON (at byte " + std::to_string(e.byte) + ")",
                            request.request_id);
    return std::nullopt;
  }
}

}  // namespace mambogo::runtime
