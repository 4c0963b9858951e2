#include "netproxy/chaos_rules.h"

#include "objects/selector.h"
#include "store/store.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

namespace mambogo::sim::netproxy {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

[[noreturn]] void bad_duration(const std::string& text) {
  throw std::invalid_argument("time: invalid duration \"" + text + "\"");
}

// A field that Chaos Mesh declares as a string but people also write as a number.
std::string string_field(const Json& spec, const char* name, const std::string& where) {
  auto it = spec.find(name);
  if (it == spec.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  throw std::invalid_argument(where + name + " must be a string");
}

// "25" or 25 or "25.5" (percent) → 0.25; range 0..100.
double percent_field(const Json& spec, const char* name, const std::string& where) {
  std::string text = string_field(spec, name, where);
  if (text.empty()) return 0;
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(v >= 0 && v <= 100))
    throw std::invalid_argument(where + name + ": \"" + text + "\" is not a percentage 0..100");
  return v / 100.0;
}

std::chrono::nanoseconds duration_field(const Json& spec, const char* name, const std::string& where) {
  std::string text = string_field(spec, name, where);
  if (text.empty()) return std::chrono::nanoseconds{0};
  try {
    return parse_duration(text);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(where + name + ": " + e.what());
  }
}

std::uint64_t size_field(const Json& spec, const char* name, const std::string& where) {
  auto it = spec.find(name);
  if (it == spec.end() || it->is_null()) return 0;
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<std::int64_t>() >= 0))
    throw std::invalid_argument(where + name + " must be a non-negative integer (bytes)");
  return it->get<std::uint64_t>();
}

bool labels_match(const Json& selector_map, const Json& labels) {
  if (!selector_map.is_object()) return true;
  for (const auto& [k, v] : selector_map.items()) {
    if (!labels.is_object()) return false;
    auto it = labels.find(k);
    if (it == labels.end() || !it->is_string() || !v.is_string() || *it != v) return false;
  }
  return true;
}

}  // namespace

std::chrono::nanoseconds parse_duration(const std::string& text) {
  // Go's grammar: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+, or "0".
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    if (text[i] == '-') throw std::invalid_argument("negative duration \"" + text + "\"");
    ++i;
  }
  if (text.substr(i) == "0") return std::chrono::nanoseconds{0};
  if (i == text.size()) bad_duration(text);
  static const std::pair<const char*, double> units[] = {
      {"ns", 1.0}, {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"\xCE\xBCs", 1e3}, {"ms", 1e6},
      {"s", 1e9},  {"m", 60e9}, {"h", 3600e9}};
  double total = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    bool digits = i > start;
    double value = digits ? std::stod(text.substr(start, i - start)) : 0;
    if (i < text.size() && text[i] == '.') {
      ++i;
      std::size_t frac = i;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
      if (i > frac) value += std::stod("0." + text.substr(frac, i - frac));
      digits = digits || i > frac;
    }
    if (!digits) bad_duration(text);
    std::size_t unit_start = i;
    while (i < text.size() && text[i] != '.' && !std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    const std::string unit = text.substr(unit_start, i - unit_start);
    if (unit.empty()) throw std::invalid_argument("time: missing unit in duration \"" + text + "\"");
    auto u = std::find_if(std::begin(units), std::end(units), [&](const auto& p) { return unit == p.first; });
    if (u == std::end(units))
      throw std::invalid_argument("time: unknown unit \"" + unit + "\" in duration \"" + text + "\"");
    total += value * u->second;
  }
  if (total > 9.2e18) bad_duration(text);
  return std::chrono::nanoseconds{static_cast<std::int64_t>(std::llround(total))};
}

double parse_rate_bytes_per_second(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    throw std::invalid_argument("rate \"" + text + "\" does not start with a number");
  }
  const std::string unit = lower(text.substr(used));
  // tc's table (bits per second); "bps" units are bytes.
  static const std::pair<const char*, double> units[] = {
      {"", 1},           {"bit", 1},           {"kbit", 1e3},        {"kibit", 1024.0},
      {"mbit", 1e6},     {"mibit", 1048576.0}, {"gbit", 1e9},        {"gibit", 1073741824.0},
      {"tbit", 1e12},    {"tibit", 1099511627776.0}, {"bps", 8},     {"kbps", 8e3},
      {"kibps", 8192.0}, {"mbps", 8e6},        {"mibps", 8388608.0}, {"gbps", 8e9},
      {"gibps", 8589934592.0}, {"tbps", 8e12}, {"tibps", 8796093022208.0}};
  auto u = std::find_if(std::begin(units), std::end(units), [&](const auto& p) { return unit == p.first; });
  if (u == std::end(units))
    throw std::invalid_argument("rate \"" + text + "\": unknown unit \"" + text.substr(used) +
                                "\" (bit, kbit, mbit, gbit, bps, kbps, mbps, gbps, ...)");
  const double bits = value * u->second;
  if (!(bits > 0) || !std::isfinite(bits)) throw std::invalid_argument("rate \"" + text + "\" must be positive");
  return bits / 8.0;
}

bool glob_match(const std::string& pattern, const std::string& text) {
  // Iterative wildcard match with backtracking to the last '*'.
  std::size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p, ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::size_t pick_count(const std::string& mode, const Json& value, std::size_t total, std::mt19937_64& rng) {
  auto number = [&](const char* what) -> long long {
    std::string text = value.is_string() ? value.get<std::string>() : value.is_number() ? value.dump() : "";
    std::size_t used = 0;
    long long n = -1;
    try {
      n = std::stoll(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (text.empty() || used != text.size() || n < 0)
      throw std::invalid_argument(std::string("spec.value: mode ") + mode + " needs " + what + ", got " +
                                  (value.is_null() ? std::string("nothing") : value.dump()));
    return n;
  };
  if (mode == "one") return std::min<std::size_t>(1, total);
  if (mode == "all" || mode.empty()) return total;
  if (mode == "fixed") {
    long long n = number("a positive number of pods");
    if (n == 0) throw std::invalid_argument("spec.value: mode fixed needs a positive number of pods, got 0");
    return std::min<std::size_t>(static_cast<std::size_t>(n), total);
  }
  if (mode == "fixed-percent" || mode == "random-max-percent") {
    long long percent = number("a percentage 0..100");
    if (percent > 100)
      throw std::invalid_argument("spec.value: mode " + mode + " needs a percentage 0..100, got " + value.dump());
    if (mode == "random-max-percent") percent = std::uniform_int_distribution<long long>(0, percent)(rng);
    return static_cast<std::size_t>(std::floor(static_cast<double>(total) * static_cast<double>(percent) / 100.0));
  }
  throw std::invalid_argument("spec.mode: unknown mode \"" + mode +
                              "\" (one, all, fixed, fixed-percent, random-max-percent)");
}

std::vector<std::string> select_pods(const Json& selector, const std::string& chaos_namespace,
                                     const std::vector<Json>& pods) {
  const Json sel = selector.is_object() ? selector : Json::object();
  std::set<std::string> namespaces;
  if (auto ns = sel.find("namespaces"); ns != sel.end() && ns->is_array())
    for (const auto& n : *ns)
      if (n.is_string()) namespaces.insert(n.get<std::string>());
  std::set<std::string> named;  // "ns/name" from spec.selector.pods
  if (auto p = sel.find("pods"); p != sel.end() && p->is_object())
    for (const auto& [ns, names] : p->items())
      if (names.is_array())
        for (const auto& n : names)
          if (n.is_string()) named.insert(ns + "/" + n.get<std::string>());
  if (namespaces.empty() && named.empty()) namespaces.insert(chaos_namespace);

  Json label_json = Json::object();
  if (auto l = sel.find("labelSelectors"); l != sel.end() && l->is_object()) label_json["matchLabels"] = *l;
  if (auto e = sel.find("expressionSelectors"); e != sel.end() && e->is_array()) label_json["matchExpressions"] = *e;
  LabelSelector labels;
  try {
    labels = LabelSelector::from_json(label_json);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("spec.selector: ") + e.what());
  }
  const Json annotations = sel.value("annotationSelectors", Json::object());
  std::set<std::string> phases;
  if (auto ph = sel.find("podPhaseSelectors"); ph != sel.end() && ph->is_array())
    for (const auto& p : *ph)
      if (p.is_string()) phases.insert(p.get<std::string>());

  std::vector<std::string> out;
  for (const Json& pod : pods) {
    const Json& meta = metadata_of(pod);
    if (meta.contains("deletionTimestamp")) continue;
    const std::string id = namespace_of(pod) + "/" + name_of(pod);
    if (!named.empty() && !named.count(id)) continue;
    if (!namespaces.empty() && !namespaces.count(namespace_of(pod))) continue;
    if (!labels.matches(meta.value("labels", Json(nullptr)))) continue;
    if (!labels_match(annotations, meta.value("annotations", Json(nullptr)))) continue;
    if (!phases.empty()) {
      const Json status = pod.value("status", Json::object());
      if (!phases.count(status.value("phase", std::string{}))) continue;
    }
    out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> pick_pods(const Json& selector, const std::string& mode, const Json& value,
                                   const std::string& chaos_namespace, const std::vector<Json>& pods,
                                   std::mt19937_64& rng) {
  std::vector<std::string> candidates = select_pods(selector, chaos_namespace, pods);
  const std::size_t n = pick_count(mode, value, candidates.size(), rng);
  std::shuffle(candidates.begin(), candidates.end(), rng);
  candidates.resize(n);
  std::sort(candidates.begin(), candidates.end());
  return candidates;
}

NetworkRule parse_network_rule(const Json& spec) {
  if (!spec.is_object()) throw std::invalid_argument("spec must be an object");
  NetworkRule rule;
  const std::string action = spec.value("action", std::string{});
  const std::string direction = spec.value("direction", std::string{"to"});
  if (direction == "to") rule.direction = Direction::to;
  else if (direction == "from") rule.direction = Direction::from;
  else if (direction == "both") rule.direction = Direction::both;
  else throw std::invalid_argument("spec.direction must be to, from or both, got \"" + direction + "\"");

  auto section = [&](const char* name) -> const Json& {
    auto it = spec.find(name);
    if (it == spec.end() || !it->is_object())
      throw std::invalid_argument("spec." + std::string(name) + " is required for action " + action);
    return *it;
  };
  if (action == "delay" || action == "netem") {
    rule.action = NetworkRule::Action::delay;
    const Json& d = section("delay");
    rule.delay.latency = duration_field(d, "latency", "spec.delay.");
    rule.delay.jitter = duration_field(d, "jitter", "spec.delay.");
    rule.delay.correlation = percent_field(d, "correlation", "spec.delay.");
  } else if (action == "loss") {
    rule.action = NetworkRule::Action::loss;
    const Json& l = section("loss");
    if (string_field(l, "loss", "spec.loss.").empty()) throw std::invalid_argument("spec.loss.loss is required");
    rule.loss.probability = percent_field(l, "loss", "spec.loss.");
    rule.loss.correlation = percent_field(l, "correlation", "spec.loss.");
  } else if (action == "partition") {
    rule.action = NetworkRule::Action::partition;
  } else if (action == "bandwidth") {
    rule.action = NetworkRule::Action::bandwidth;
    const Json& b = section("bandwidth");
    const std::string rate = string_field(b, "rate", "spec.bandwidth.");
    if (rate.empty()) throw std::invalid_argument("spec.bandwidth.rate is required");
    try {
      rule.bandwidth.bytes_per_second = parse_rate_bytes_per_second(rate);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("spec.bandwidth.rate: ") + e.what());
    }
    rule.bandwidth.limit = size_field(b, "limit", "spec.bandwidth.");
    rule.bandwidth.buffer = size_field(b, "buffer", "spec.bandwidth.");
  } else {
    throw std::invalid_argument("spec.action \"" + action +
                                "\" is not supported (delay, loss, partition, bandwidth)");
  }
  return rule;
}

Affected affected(const NetworkRule& rule, const std::optional<std::string>& source, const std::string& target) {
  const bool egress = rule.direction != Direction::from;
  const bool ingress = rule.direction != Direction::to;
  Affected a;
  if (rule.pods.count(target)) {
    bool peer = !rule.targets.has_value();
    if (!peer && source) peer = rule.targets->count(*source) > 0;
    if (!peer && !source) peer = a.source_assumed = true;
    if (peer) {
      a.to_client = a.to_client || egress;
      a.to_upstream = a.to_upstream || ingress;
    }
  }
  if (source && rule.pods.count(*source) && (!rule.targets || rule.targets->count(target))) {
    a.to_upstream = a.to_upstream || egress;
    a.to_client = a.to_client || ingress;
  }
  if (!a.any()) a.source_assumed = false;
  return a;
}

bool HttpRule::matches(const std::string& pod, int pod_port, std::string_view request_method,
                       std::string_view request_path) const {
  if (!pods.count(pod)) return false;
  if (port != 0 && port != pod_port) return false;
  if (!method.empty() && method != request_method) return false;
  if (!path.empty() && !glob_match(path, std::string(request_path))) return false;
  return true;
}

HttpRule parse_http_rule(const Json& spec) {
  if (!spec.is_object()) throw std::invalid_argument("spec must be an object");
  HttpRule rule;
  const std::string target = spec.value("target", std::string{});
  if (target == "Request") rule.on_response = false;
  else if (target == "Response") rule.on_response = true;
  else throw std::invalid_argument("spec.target must be Request or Response, got \"" + target + "\"");
  if (auto p = spec.find("port"); p != spec.end() && !p->is_null()) {
    if (!p->is_number_integer() || p->get<int>() < 0 || p->get<int>() > 65535)
      throw std::invalid_argument("spec.port must be a port number, got " + p->dump());
    rule.port = p->get<int>();
  }
  rule.path = string_field(spec, "path", "spec.");
  rule.method = string_field(spec, "method", "spec.");
  if (auto a = spec.find("abort"); a != spec.end() && !a->is_null()) {
    if (!a->is_boolean()) throw std::invalid_argument("spec.abort must be true or false");
    rule.abort = a->get<bool>();
  }
  rule.delay = duration_field(spec, "delay", "spec.");
  if (auto r = spec.find("replace"); r != spec.end() && r->is_object()) {
    if (auto c = r->find("code"); c != r->end() && !c->is_null()) {
      if (!c->is_number_integer() || c->get<int>() < 100 || c->get<int>() > 599)
        throw std::invalid_argument("spec.replace.code: " + c->dump() + " is no HTTP status");
      rule.replace_code = c->get<int>();
    }
  }
  if (!rule.abort && rule.delay.count() == 0 && !rule.replace_code)
    throw std::invalid_argument("spec needs an action: abort, delay or replace.code");
  return rule;
}

}  // namespace mambogo::sim::netproxy
