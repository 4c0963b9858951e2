#include "objects/quantity.h"

#include <cmath>
#include <stdexcept>
#include <utility>

namespace mambogo::sim {

namespace {

double suffix_factor(const std::string& suffix, const std::string& text) {
  static const std::pair<const char*, double> suffixes[] = {
      {"", 1},         {"n", 1e-9},      {"u", 1e-6},       {"m", 1e-3},       {"k", 1e3},
      {"M", 1e6},      {"G", 1e9},       {"T", 1e12},       {"P", 1e15},       {"E", 1e18},
      {"Ki", 1024.0},  {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
      {"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0}};
  for (const auto& [s, f] : suffixes)
    if (suffix == s) return f;
  throw std::invalid_argument("quantity \"" + text + "\": unknown suffix \"" + suffix + "\"");
}

}  // namespace

double parse_quantity(const std::string& text) {
  if (text.empty()) throw std::invalid_argument("quantity is empty");
  std::size_t i = 0;
  if (text[i] == '+' || text[i] == '-') ++i;
  const std::size_t digits_start = i;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == digits_start) throw std::invalid_argument("quantity \"" + text + "\": must start with a number");
  const std::string number = text.substr(0, i);
  if (number.find('.') != number.rfind('.')) throw std::invalid_argument("quantity \"" + text + "\": malformed number");
  double value = std::stod(number);
  std::string rest = text.substr(i);
  if (!rest.empty() && (rest[0] == 'e' || rest[0] == 'E') && rest.size() > 1 &&
      (std::isdigit(static_cast<unsigned char>(rest[1])) || rest[1] == '-' || rest[1] == '+')) {
    std::size_t used = 0;
    int exponent = 0;
    try {
      exponent = std::stoi(rest.substr(1), &used);
    } catch (const std::exception&) {
      throw std::invalid_argument("quantity \"" + text + "\": malformed exponent");
    }
    if (used != rest.size() - 1) throw std::invalid_argument("quantity \"" + text + "\": trailing characters");
    return value * std::pow(10.0, exponent);
  }
  return value * suffix_factor(rest, text);
}

namespace {

double quantity_value(const nlohmann::json& q, const char* what) {
  if (q.is_number()) return q.get<double>();
  if (q.is_string()) return parse_quantity(q.get<std::string>());
  throw std::invalid_argument(std::string(what) + " quantity must be a string or a number, not " + q.dump());
}

}  // namespace

std::int64_t cpu_millis(const nlohmann::json& quantity) {
  return static_cast<std::int64_t>(std::ceil(quantity_value(quantity, "cpu") * 1000.0 - 1e-9));
}

std::int64_t memory_bytes(const nlohmann::json& quantity) {
  return static_cast<std::int64_t>(std::ceil(quantity_value(quantity, "memory") - 1e-9));
}

std::string format_cpu_millis(std::int64_t millis) {
  if (millis % 1000 == 0) return std::to_string(millis / 1000);
  return std::to_string(millis) + "m";
}

std::string format_cpu_nanos(std::uint64_t nanos) { return std::to_string(nanos) + "n"; }

std::string format_memory(std::int64_t bytes) {
  if (bytes % 1024 == 0) return std::to_string(bytes / 1024) + "Ki";
  return std::to_string(bytes);
}

}  // namespace mambogo::sim
