// What a request's query and Accept header ask for (internal to apiserver/): list filters
// (labelSelector, fieldSelector), the output format (object, Table, PartialObjectMetadata)
// and boolean parameters. Pure functions; bad input throws ApiError 400.
#pragma once

#include "apiserver/http_types.h"
#include "apiserver/resources.h"
#include "objects/selector.h"

#include <string>
#include <vector>

namespace mambogo::sim::api {

struct FieldRequirement {
  std::string field;  // "metadata.name", "status.phase", ...
  bool equal = true;  // = / == versus !=
  std::string value;
};

// "a=b,c!=d" for resource r; fields kube-apiserver supports for it only
// (400 "field label not supported: x" otherwise).
std::vector<FieldRequirement> parse_field_selector(const std::string& text, const ResourceInfo& r);
// The value of a field selector's field in an object ("" when absent).
std::string field_value(const Json& object, const std::string& field);

struct ListFilter {
  LabelSelector labels;
  std::vector<FieldRequirement> fields;
  bool matches(const Json& object) const;
};
ListFilter list_filter(const Request& request, const ResourceInfo& r);

enum class Output { object, table, metadata };
struct Format {
  Output output = Output::object;
  std::string version = "v1";  // meta.k8s.io version of a Table or PartialObjectMetadata
};
// The first of the Accept header's media types the server can produce.
Format parse_accept(const std::string& accept);

// "true", "True", "1" → true.
bool truthy(const std::optional<std::string>& value);

}  // namespace mambogo::sim::api
