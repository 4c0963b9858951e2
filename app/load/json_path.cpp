#include "load/json_path.h"

#include <cctype>
#include <charconv>
#include <stdexcept>

namespace mambogo::load {
namespace {

[[noreturn]] void fail(std::string_view path, std::string_view why) {
  throw std::invalid_argument("malformed JSON path '" + std::string(path) + "': " + std::string(why));
}

}  // namespace

JsonPath JsonPath::compile(std::string_view path) {
  JsonPath p;
  p.source_ = std::string(path);
  if (path.empty() || path.front() != '$') fail(path, "must start with '$'");
  std::size_t i = 1;
  while (i < path.size()) {
    if (path[i] == '.') {
      std::size_t start = ++i;
      while (i < path.size() && path[i] != '.' && path[i] != '[') ++i;
      if (i == start) fail(path, "empty member name");
      p.steps_.emplace_back(std::string(path.substr(start, i - start)));
    } else if (path[i] == '[') {
      auto close = path.find(']', i);
      if (close == std::string_view::npos) fail(path, "missing ']'");
      std::string_view inner = path.substr(i + 1, close - i - 1);
      if (inner.size() >= 2 && (inner.front() == '\'' || inner.front() == '"') &&
          inner.back() == inner.front()) {
        p.steps_.emplace_back(std::string(inner.substr(1, inner.size() - 2)));
      } else {
        long index = 0;
        auto [end, ec] = std::from_chars(inner.data(), inner.data() + inner.size(), index);
        if (inner.empty() || ec != std::errc{} || end != inner.data() + inner.size())
          fail(path,
               "'[" + std::string(inner) +
                   "]' is neither an index nor a quoted name (wildcards and filters are not supported)");
        p.steps_.emplace_back(index);
      }
      i = close + 1;
    } else {
      fail(path, "unexpected '" + std::string(1, path[i]) + "'");
    }
  }
  return p;
}

std::optional<nlohmann::json> JsonPath::find(const nlohmann::json& doc) const {
  const nlohmann::json* at = &doc;
  for (const auto& step : steps_) {
    if (const auto* name = std::get_if<std::string>(&step)) {
      if (!at->is_object()) return std::nullopt;
      auto it = at->find(*name);
      if (it == at->end()) return std::nullopt;
      at = &*it;
    } else {
      long index = std::get<long>(step);
      if (!at->is_array()) return std::nullopt;
      long size = static_cast<long>(at->size());
      if (index < 0) index += size;
      if (index < 0 || index >= size) return std::nullopt;
      at = &(*at)[static_cast<std::size_t>(index)];
    }
  }
  return *at;
}

std::optional<std::string> JsonPath::find_text(const nlohmann::json& doc) const {
  auto v = find(doc);
  if (!v) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  return v->dump();
}

}  // namespace mambogo::load
