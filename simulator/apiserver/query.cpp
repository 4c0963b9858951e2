#include "apiserver/query.h"

#include "apiserver/status.h"

#include <algorithm>
#include <set>

namespace mambogo::sim::api {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::set<std::string> supported_fields(const ResourceInfo& r) {
  std::set<std::string> fields{"metadata.name", "metadata.namespace"};
  if (r.store_name() == "pods")
    fields.insert({"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                   "status.phase", "status.podIP", "status.nominatedNodeName"});
  else if (r.store_name() == "events")
    fields.insert({"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                   "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                   "reason", "reportingComponent", "source", "type"});
  else if (r.store_name() == "secrets")
    fields.insert("type");
  else if (r.store_name() == "namespaces")
    fields.insert("status.phase");
  else if (r.store_name() == "nodes")
    fields.insert("spec.unschedulable");
  else if (r.store_name() == "replicasets.apps" || r.store_name() == "statefulsets.apps")
    fields.insert("status.replicas");
  return fields;
}

}  // namespace

std::vector<FieldRequirement> parse_field_selector(const std::string& text, const ResourceInfo& r) {
  std::vector<FieldRequirement> result;
  if (trim(text).empty()) return result;
  const auto supported = supported_fields(r);
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string term = trim(text.substr(start, comma - start));
    start = comma + 1;
    if (term.empty()) throw bad_request("invalid field selector: empty requirement in \"" + text + "\"");
    FieldRequirement req;
    std::size_t op = term.find("!=");
    std::size_t value_at;
    if (op != std::string::npos) {
      req.equal = false;
      value_at = op + 2;
    } else if ((op = term.find("==")) != std::string::npos) {
      value_at = op + 2;
    } else if ((op = term.find('=')) != std::string::npos) {
      value_at = op + 1;
    } else {
      throw bad_request("invalid selector: '" + text + "'; can't understand '" + term + "'");
    }
    req.field = trim(term.substr(0, op));
    req.value = trim(term.substr(value_at));
    if (!supported.count(req.field))
      throw bad_request("field label not supported: " + req.field);
    result.push_back(std::move(req));
    if (comma == text.size()) break;
  }
  return result;
}

std::string field_value(const Json& object, const std::string& field) {
  const Json* node = &object;
  std::size_t start = 0;
  while (start <= field.size()) {
    auto dot = field.find('.', start);
    if (dot == std::string::npos) dot = field.size();
    const std::string key = field.substr(start, dot - start);
    if (!node->is_object()) return {};
    auto it = node->find(key);
    if (it == node->end()) return {};
    node = &*it;
    start = dot + 1;
    if (dot == field.size()) break;
  }
  if (node->is_string()) return node->get<std::string>();
  if (node->is_object() && field == "source") return node->value("component", "");
  if (node->is_null()) return {};
  return node->dump();
}

bool ListFilter::matches(const Json& object) const {
  for (const auto& f : fields)
    if ((field_value(object, f.field) == f.value) != f.equal) return false;
  if (labels.empty()) return true;
  const auto& meta = metadata_of(object);
  auto it = meta.find("labels");
  return labels.matches(it != meta.end() && it->is_object() ? *it : Json::object());
}

ListFilter list_filter(const Request& request, const ResourceInfo& r) {
  ListFilter filter;
  if (auto text = request.param("labelSelector")) {
    try {
      filter.labels = LabelSelector::parse(*text);
    } catch (const std::invalid_argument& e) {
      throw bad_request("unable to parse requirement: " + std::string(e.what()));
    }
  }
  if (auto text = request.param("fieldSelector")) filter.fields = parse_field_selector(*text, r);
  return filter;
}

Format parse_accept(const std::string& accept) {
  std::size_t start = 0;
  while (start < accept.size()) {
    auto comma = accept.find(',', start);
    if (comma == std::string::npos) comma = accept.size();
    std::string item = accept.substr(start, comma - start);
    start = comma + 1;
    item.erase(std::remove(item.begin(), item.end(), ' '), item.end());
    auto has = [&](const std::string& param) {
      return (";" + item + ";").find(";" + param + ";") != std::string::npos;
    };
    const bool json = item.rfind("application/json", 0) == 0 || item.rfind("*/*", 0) == 0 || item.empty();
    if (!json) continue;
    if (!has("g=meta.k8s.io")) {
      if (item.find("as=") == std::string::npos) return {};
      continue;
    }
    const std::string version = has("v=v1") ? "v1" : has("v=v1beta1") ? "v1beta1" : "";
    if (version.empty()) continue;
    if (has("as=Table")) return {Output::table, version};
    if (has("as=PartialObjectMetadataList") || has("as=PartialObjectMetadata")) return {Output::metadata, version};
  }
  return {};
}

bool truthy(const std::optional<std::string>& value) {
  return value && (*value == "true" || *value == "True" || *value == "1");
}

}  // namespace mambogo::sim::api
