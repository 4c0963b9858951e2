#include "apiserver/status.h"

namespace mambogo::sim {

ApiError::ApiError(Json status)
    : std::runtime_error(status.value("message", std::string("error"))),
      status_(std::move(status)),
      reason_(status_.value("reason", std::string())) {}

namespace api {

namespace {

Json details(const ResourceInfo& r, const std::string& name) {
  Json d{{"name", name}, {"kind", r.plural}};
  if (!r.group.empty()) d["group"] = r.group;
  return d;
}

ApiError error(int code, const std::string& reason, const std::string& message, Json d = nullptr) {
  return ApiError(status_object(code, reason, message, std::move(d)));
}

}  // namespace

Json status_object(int code, const std::string& reason, const std::string& message, Json d) {
  Json s{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()}, {"status", "Failure"},
         {"message", message}, {"reason", reason},  {"code", code}};
  if (reason.empty()) s.erase("reason");
  if (!d.is_null()) s["details"] = std::move(d);
  return s;
}

Json success_status(const ResourceInfo& r, const Json& object) {
  Json d = details(r, name_of(object));
  d["uid"] = metadata_of(object).value("uid", "");
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()},
          {"status", "Success"}, {"details", d}};
}

ApiError bad_request(const std::string& message) { return error(400, "BadRequest", message); }
ApiError unauthorized() { return error(401, "Unauthorized", "Unauthorized"); }

ApiError forbidden(const ResourceInfo& r, const std::string& name, const std::string& message) {
  return error(403, "Forbidden", r.store_name() + " \"" + name + "\" is forbidden: " + message, details(r, name));
}

ApiError not_found(const ResourceInfo& r, const std::string& name) {
  return error(404, "NotFound", r.store_name() + " \"" + name + "\" not found", details(r, name));
}

ApiError not_found_path() {
  return error(404, "NotFound", "the server could not find the requested resource", Json::object());
}

ApiError already_exists(const ResourceInfo& r, const std::string& name) {
  return error(409, "AlreadyExists", r.store_name() + " \"" + name + "\" already exists", details(r, name));
}

ApiError conflict(const ResourceInfo& r, const std::string& name, const std::string& why) {
  return error(409, "Conflict", "Operation cannot be fulfilled on " + r.store_name() + " \"" + name + "\": " + why,
               details(r, name));
}

ApiError stale(const ResourceInfo& r, const std::string& name) {
  return conflict(r, name, "the object has been modified; please apply your changes to the latest version and try again");
}

ApiError method_not_allowed(const std::string& message) { return error(405, "MethodNotAllowed", message); }

ApiError unsupported_media_type(const std::string& content_type) {
  return error(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: "
                                            "application/json, application/yaml, application/json-patch+json, "
                                            "application/merge-patch+json, application/strategic-merge-patch+json (got \"" +
                                                content_type + "\")");
}

ApiError not_acceptable(const std::string& message) { return error(406, "NotAcceptable", message); }

ApiError invalid(const ResourceInfo& r, const std::string& name, const std::vector<FieldCause>& causes) {
  std::string message = r.kind + (r.group.empty() ? "" : "." + r.group) + " \"" + name + "\" is invalid: ";
  Json c = Json::array();
  for (std::size_t i = 0; i < causes.size(); ++i) {
    if (i > 0) message += ", ";
    message += causes[i].field + ": " + causes[i].message;
    c.push_back({{"reason", causes[i].reason}, {"message", causes[i].message}, {"field", causes[i].field}});
  }
  if (causes.size() > 1) {
    // kube-apiserver lists several causes in brackets.
    const auto colon = message.find(" is invalid: ") + 13;
    message = message.substr(0, colon) + "[" + message.substr(colon) + "]";
  }
  Json d{{"name", name}, {"kind", r.kind}, {"causes", c}};
  if (!r.group.empty()) d["group"] = r.group;
  return error(422, "Invalid", message, d);
}

ApiError gone(const std::string& message) { return error(410, "Expired", message); }
ApiError service_unavailable(const std::string& message) { return error(503, "ServiceUnavailable", message); }
ApiError internal_error(const std::string& message) { return error(500, "InternalError", message); }

ApiError from_store_error(const StoreError& e, const ResourceInfo& r, const std::string& name) {
  switch (e.reason()) {
    case StoreError::Reason::not_found: return not_found(r, name);
    case StoreError::Reason::already_exists: return already_exists(r, name);
    case StoreError::Reason::conflict: return stale(r, name);
    case StoreError::Reason::gone: return gone(e.what());
    case StoreError::Reason::invalid: {
      std::string what = e.what();
      auto colon = what.find(": ");
      if (colon != std::string::npos && what.rfind("metadata.", 0) == 0)
        return invalid(r, name, {{what.substr(0, colon), "FieldValueInvalid", what.substr(colon + 2)}});
      return invalid(r, name, {{"", "FieldValueInvalid", what}});
    }
  }
  return internal_error(e.what());
}

}  // namespace api
}  // namespace mambogo::sim
