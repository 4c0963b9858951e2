// The JSONPath subset that load-plan captures use: "$", ".name", "['name']", "[index]"
// (negative counts from the end), e.g. "$.orderId", "$.items[0].id", "$['a b'][-1]".
//
// Errors: JsonPath::compile throws std::invalid_argument naming the malformed part.
// Thread-safety: an immutable value; find() may run on any number of threads.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mambogo::load {

class JsonPath {
 public:
  static JsonPath compile(std::string_view path);
  // The selected value, or nullopt when a member or index is missing.
  std::optional<nlohmann::json> find(const nlohmann::json& doc) const;
  // find() as text: strings unquoted, other values as compact JSON.
  std::optional<std::string> find_text(const nlohmann::json& doc) const;
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::vector<std::variant<std::string, long>> steps_;
};

}  // namespace mambogo::load
