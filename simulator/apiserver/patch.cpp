#include "apiserver/patch.h"

#include "apiserver/status.h"

#include <algorithm>

namespace mambogo::sim::api {

namespace {

// The merge key of a list field, judged by the field's name and (for "ports", shared by
// containers and Services) by its items; empty: the list is replaced as a whole.
std::string merge_key(const std::string& field, const Json& items) {
  static const std::map<std::string, std::string> keys{
      {"containers", "name"},        {"initContainers", "name"}, {"ephemeralContainers", "name"},
      {"volumes", "name"},           {"env", "name"},            {"imagePullSecrets", "name"},
      {"volumeMounts", "mountPath"}, {"volumeDevices", "devicePath"}, {"conditions", "type"},
      {"ownerReferences", "uid"},    {"hostAliases", "ip"},      {"addresses", "type"},
      {"taints", "key"},             {"topologySpreadConstraints", "topologyKey"}};
  if (field == "ports") {
    for (const auto& item : items)
      if (item.is_object() && item.contains("containerPort")) return "containerPort";
    return "port";
  }
  auto it = keys.find(field);
  return it == keys.end() ? std::string() : it->second;
}

bool is_directive(const std::string& key) { return !key.empty() && key[0] == '$'; }

Json merge_map(Json original, const Json& patch);

Json merge_value(const std::string& field, const Json* original, const Json& patch);

Json merge_list(const std::string& field, const Json& original, const Json& patch) {
  // {"$patch": "replace"} as an item: the rest of the patch list replaces the list.
  bool replace = false;
  Json items = Json::array();
  for (const auto& item : patch) {
    if (item.is_object() && item.value("$patch", "") == "replace" && item.size() == 1) replace = true;
    else items.push_back(item);
  }
  const std::string key = merge_key(field, items.empty() ? original : items);
  const bool primitive_set = field == "finalizers";
  if (replace || !original.is_array() || (key.empty() && !primitive_set)) {
    Json result = Json::array();
    for (const auto& item : items)
      if (!(item.is_object() && item.value("$patch", "") == "delete")) result.push_back(merge_value(field, nullptr, item));
    return result;
  }
  Json result = original;
  if (primitive_set) {
    for (const auto& item : items)
      if (std::find(result.begin(), result.end(), item) == result.end()) result.push_back(item);
    return result;
  }
  for (const auto& item : items) {
    if (!item.is_object() || !item.contains(key))
      throw std::invalid_argument("a patch item of \"" + field + "\" lacks its merge key \"" + key + "\"");
    auto found = std::find_if(result.begin(), result.end(),
                              [&](const Json& o) { return o.is_object() && o.value(key, Json()) == item[key]; });
    if (item.value("$patch", "") == "delete") {
      if (found != result.end()) result.erase(found);
    } else if (found != result.end()) {
      *found = merge_map(*found, item);
    } else {
      result.push_back(merge_map(Json::object(), item));
    }
  }
  return result;
}

Json merge_value(const std::string& field, const Json* original, const Json& patch) {
  if (patch.is_object()) return merge_map(original && original->is_object() ? *original : Json::object(), patch);
  if (patch.is_array()) return merge_list(field, original ? *original : Json(), patch);
  return patch;
}

// Orders a keyed list as $setElementOrder says; items the order does not name stay after.
void set_element_order(Json& list, const std::string& field, const Json& order) {
  if (!list.is_array() || !order.is_array()) return;
  const std::string key = merge_key(field, list);
  Json ordered = Json::array();
  for (const auto& wanted : order) {
    const Json id = key.empty() || !wanted.is_object() ? wanted : wanted.value(key, Json());
    for (auto it = list.begin(); it != list.end(); ++it) {
      const Json have = key.empty() || !it->is_object() ? *it : it->value(key, Json());
      if (have == id) {
        ordered.push_back(*it);
        list.erase(it);
        break;
      }
    }
  }
  for (auto& rest : list) ordered.push_back(rest);
  list = std::move(ordered);
}

Json merge_map(Json original, const Json& patch) {
  const std::string directive = patch.value("$patch", "");
  if (directive == "replace") {
    Json clean = patch;
    clean.erase("$patch");
    return merge_map(Json::object(), clean);
  }
  if (!directive.empty() && directive != "merge")
    throw std::invalid_argument("unknown patch directive \"$patch: " + directive + "\" for a map");
  for (const auto& [key, value] : patch.items()) {
    if (key.rfind("$deleteFromPrimitiveList/", 0) == 0) {
      auto& list = original[key.substr(25)];
      if (list.is_array() && value.is_array())
        for (const auto& gone : value) list.erase(std::remove(list.begin(), list.end(), gone), list.end());
      continue;
    }
    if (is_directive(key)) continue;
    if (value.is_null()) {
      original.erase(key);
      continue;
    }
    auto it = original.find(key);
    original[key] = merge_value(key, it == original.end() ? nullptr : &*it, value);
  }
  for (const auto& [key, value] : patch.items())
    if (key.rfind("$setElementOrder/", 0) == 0 && original.contains(key.substr(17)))
      set_element_order(original[key.substr(17)], key.substr(17), value);
  if (auto retain = patch.find("$retainKeys"); retain != patch.end() && retain->is_array()) {
    for (auto it = original.begin(); it != original.end();) {
      if (std::find(retain->begin(), retain->end(), it.key()) == retain->end()) it = original.erase(it);
      else ++it;
    }
  }
  return original;
}

}  // namespace

Json apply_merge_patch(const Json& target, const Json& patch) {
  Json result = target;
  result.merge_patch(patch);
  return result;
}

Json apply_json_patch(const Json& target, const Json& patch) {
  if (!patch.is_array()) throw std::invalid_argument("a JSON patch must be an array of operations");
  try {
    return target.patch(patch);
  } catch (const Json::exception& e) {
    throw std::invalid_argument(e.what());
  }
}

Json apply_strategic_merge_patch(const Json& target, const Json& patch) {
  if (!patch.is_object()) throw std::invalid_argument("a strategic merge patch must be a JSON object");
  return merge_map(target.is_object() ? target : Json::object(), patch);
}

Json apply_patch(const Json& target, const std::string& content_type, const std::string& body) {
  const std::string type = content_type.substr(0, content_type.find(';'));
  Json patch = Json::parse(body, nullptr, false);
  if (patch.is_discarded()) throw bad_request("the patch is not valid JSON");
  try {
    if (type == "application/merge-patch+json") {
      if (!patch.is_object()) throw bad_request("a merge patch must be a JSON object");
      return apply_merge_patch(target, patch);
    }
    if (type == "application/strategic-merge-patch+json") return apply_strategic_merge_patch(target, patch);
    if (type == "application/json-patch+json") {
      if (!patch.is_array()) throw bad_request("a JSON patch must be an array of operations");
      try {
        return apply_json_patch(target, patch);
      } catch (const std::invalid_argument& e) {
        throw ApiError(status_object(422, "Invalid", std::string("the JSON patch cannot be applied: ") + e.what()));
      }
    }
  } catch (const std::invalid_argument& e) {
    throw bad_request(e.what());
  }
  throw unsupported_media_type(content_type);
}

}  // namespace mambogo::sim::api
