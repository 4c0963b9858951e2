// Kubernetes Status objects for errors (internal to apiserver/): one builder per reason,
// each returning the ApiError to throw. `resource` is the display name ("pods",
// "deployments.apps"); messages match kube-apiserver's wording.
#pragma once

#include "apiserver/api_server.h"
#include "apiserver/resources.h"

#include <string>
#include <vector>

namespace mambogo::sim::api {

struct FieldCause {
  std::string field;    // "metadata.name", "spec.replicas"
  std::string reason;   // "FieldValueInvalid", "FieldValueRequired", "FieldValueNotSupported", ...
  std::string message;  // "Invalid value: \"Bad\": ..."
};

Json status_object(int code, const std::string& reason, const std::string& message, Json details = nullptr);
Json success_status(const ResourceInfo& r, const Json& object);

ApiError bad_request(const std::string& message);
ApiError unauthorized();
ApiError forbidden(const ResourceInfo& r, const std::string& name, const std::string& message);
ApiError not_found(const ResourceInfo& r, const std::string& name);
ApiError not_found_path();  // an unknown URL: "the server could not find the requested resource"
ApiError already_exists(const ResourceInfo& r, const std::string& name);
ApiError conflict(const ResourceInfo& r, const std::string& name, const std::string& why);
ApiError stale(const ResourceInfo& r, const std::string& name);  // resourceVersion mismatch
ApiError method_not_allowed(const std::string& message);
ApiError unsupported_media_type(const std::string& content_type);
ApiError not_acceptable(const std::string& message);
ApiError invalid(const ResourceInfo& r, const std::string& name, const std::vector<FieldCause>& causes);
ApiError gone(const std::string& message);
ApiError service_unavailable(const std::string& message);
ApiError internal_error(const std::string& message);
// A StoreError in the words of kube-apiserver for resource r and object `name`.
ApiError from_store_error(const StoreError& error, const ResourceInfo& r, const std::string& name);

}  // namespace mambogo::sim::api
