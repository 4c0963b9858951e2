#include "apiserver/api_server.h"
#include "apiserver/manifest.h"

#include <yaml-cpp/yaml.h>

#include <regex>

namespace mambogo::sim {

namespace {

// Plain scalars resolve as YAML 1.2's core schema does (what sigs.k8s.io/yaml gives kubectl
// for the values manifests use); quoted scalars stay strings.
Json scalar_to_json(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted
  static const std::regex integer(R"([-+]?[0-9]+)");
  static const std::regex hex(R"(0x[0-9a-fA-F]+)");
  static const std::regex floating(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  try {
    if (std::regex_match(s, integer)) {
      if (s[0] == '-') return std::stoll(s);
      const auto value = std::stoull(s[0] == '+' ? s.substr(1) : s);
      if (value <= static_cast<unsigned long long>(std::numeric_limits<std::int64_t>::max()))
        return static_cast<std::int64_t>(value);
      return value;
    }
    if (std::regex_match(s, hex)) return static_cast<std::int64_t>(std::stoll(s.substr(2), nullptr, 16));
    if (std::regex_match(s, floating)) return std::stod(s);
  } catch (const std::out_of_range&) {
    return s;
  }
  if (s == ".inf" || s == ".Inf" || s == "+.inf") return std::numeric_limits<double>::infinity();
  if (s == "-.inf" || s == "-.Inf") return -std::numeric_limits<double>::infinity();
  return s;
}

Json node_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: return nullptr;
    case YAML::NodeType::Scalar: return scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      Json array = Json::array();
      for (const auto& item : node) array.push_back(node_to_json(item));
      return array;
    }
    case YAML::NodeType::Map: {
      Json object = Json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar())
          throw std::invalid_argument("line " + std::to_string(entry.first.Mark().line + 1) +
                                      ": a mapping key must be a scalar");
        object[entry.first.Scalar()] = node_to_json(entry.second);
      }
      return object;
    }
  }
  return nullptr;
}

// The index of the document a line belongs to: "---" lines seen before it.
int document_at_line(const std::string& text, int line) {
  int index = 0, current = 0;
  bool content = false;
  std::size_t start = 0;
  while (start < text.size() && current < line) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string l = text.substr(start, end - start);
    if (l.rfind("---", 0) == 0) {
      if (content) ++index;
      content = l.size() > 3;
    } else if (!l.empty() && l[0] != '#') {
      content = true;
    }
    start = end + 1;
    ++current;
  }
  return index;
}

}  // namespace

std::vector<Json> parse_manifests(const std::string& yaml_text, const std::string& source_name) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(yaml_text);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.line >= 0 ? e.mark.line : 0;
    throw std::invalid_argument(source_name + ": document " + std::to_string(document_at_line(yaml_text, line)) +
                                ": line " + std::to_string(line + 1) + ": " + e.msg);
  }
  std::vector<Json> objects;
  int index = 0;
  for (const auto& doc : documents) {
    const int this_index = index++;
    const int line = doc.Mark().line + 1;
    auto fail = [&](const std::string& what) {
      throw std::invalid_argument(source_name + ": document " + std::to_string(this_index) + ": line " +
                                  std::to_string(line) + ": " + what);
    };
    Json json;
    try {
      json = node_to_json(doc);
    } catch (const std::invalid_argument& e) {
      fail(e.what());
    }
    if (json.is_null()) continue;
    if (!json.is_object()) fail("a manifest must be a mapping (an object), not " + std::string(json.type_name()));
    if (json.value("kind", "") == "List" && json.contains("items")) {
      if (!json["items"].is_array()) fail("items of a List must be a sequence");
      for (auto& item : json["items"]) {
        if (!item.is_object()) fail("every item of a List must be an object");
        objects.push_back(std::move(item));
      }
      continue;
    }
    objects.push_back(std::move(json));
  }
  return objects;
}

namespace api {

Json yaml_document_to_json(const std::string& text) {
  try {
    return node_to_json(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument("line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

}  // namespace api
}  // namespace mambogo::sim
