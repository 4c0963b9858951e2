#include "runtime/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <sstream>

extern char** environ;

namespace mambogo::runtime {

namespace {
std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string{} : s.substr(b, e - b + 1);
}
std::string format_ms(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}
}  // namespace

Config::Config(const std::vector<std::string>& env, const std::vector<std::string>& args) {
  for (const auto& entry : env) {
    auto eq = entry.find('=');
    if (eq != std::string::npos) env_[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      help_requested_ = true;
      continue;
    }
    if (a.rfind("--", 0) != 0 || a.size() == 2) {
      problems_.push_back("unexpected argument '" + a + "': options look like --server-port=8080");
      continue;
    }
    auto eq = a.find('=');
    std::string option = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    std::string value;
    if (eq != std::string::npos) {
      value = a.substr(eq + 1);
    } else if (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) {
      value = args[++i];
    } else {
      value = "true";  // a bare flag: --access-log
    }
    std::string var = option_to_variable(option);
    overrides_[var] = value;
    override_used_[var] = false;
  }
}

Config Config::from_process(int argc, char** argv) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return Config(env, std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc));
}

std::string Config::option_to_variable(const std::string& option) {
  std::string v = upper(option);
  std::replace(v.begin(), v.end(), '-', '_');
  return v;
}

std::string Config::variable_to_option(const std::string& variable) {
  std::string o = lower(variable);
  std::replace(o.begin(), o.end(), '_', '-');
  return o;
}

std::optional<std::string> Config::raw(const std::string& name) {
  if (auto it = overrides_.find(name); it != overrides_.end()) {
    override_used_[name] = true;
    return trim(it->second);
  }
  if (auto it = env_.find(name); it != env_.end()) return trim(it->second);
  return std::nullopt;
}

void Config::declare(const std::string& name, const std::string& value, const std::string& help) {
  usage_lines_.push_back("  --" + variable_to_option(name) + " / " + name + " = " + value +
                         "\n      " + help);
}

void Config::report_invalid(const std::string& name, const std::string& value,
                     const std::string& accepted) {
  problems_.push_back(name + "='" + value + "' is invalid: expected " + accepted);
}

std::string Config::string(const std::string& name, const std::string& fallback,
                           const std::string& help) {
  std::string v = raw(name).value_or(fallback);
  declare(name, v, help);
  return v;
}

std::int64_t Config::integer(const std::string& name, std::int64_t fallback, std::int64_t min,
                             std::int64_t max, const std::string& help) {
  auto text = raw(name);
  std::int64_t v = fallback;
  const std::string accepted =
      "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (text) {
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc{} || end != text->data() + text->size() || text->empty()) {
      report_invalid(name, *text, accepted);
      v = fallback;
    } else if (v < min || v > max) {
      report_invalid(name, *text, accepted);
      v = fallback;
    }
  }
  declare(name, std::to_string(v), help + " (" + std::to_string(min) + ".." + std::to_string(max) + ")");
  return v;
}

double Config::number(const std::string& name, double fallback, double min, double max,
                      const std::string& help) {
  auto text = raw(name);
  double v = fallback;
  std::ostringstream accepted;
  accepted << "a number from " << min << " to " << max;
  if (text) {
    char* end = nullptr;
    errno = 0;
    double parsed = text->empty() ? NAN : std::strtod(text->c_str(), &end);
    if (text->empty() || errno != 0 || end != text->c_str() + text->size() ||
        !std::isfinite(parsed) || parsed < min || parsed > max)
      report_invalid(name, *text, accepted.str());
    else
      v = parsed;
  }
  std::ostringstream shown;
  shown << v;
  declare(name, shown.str(), help);
  return v;
}

bool Config::boolean(const std::string& name, bool fallback, const std::string& help) {
  auto text = raw(name);
  bool v = fallback;
  if (text) {
    std::string t = lower(*text);
    if (t == "true" || t == "1" || t == "yes" || t == "on")
      v = true;
    else if (t == "false" || t == "0" || t == "no" || t == "off")
      v = false;
    else
      report_invalid(name, *text, "true or false");
  }
  declare(name, v ? "true" : "false", help);
  return v;
}

std::chrono::milliseconds Config::duration(const std::string& name,
                                           std::chrono::milliseconds fallback,
                                           std::chrono::milliseconds min,
                                           std::chrono::milliseconds max,
                                           const std::string& help) {
  auto text = raw(name);
  auto v = fallback;
  const std::string accepted =
      "a duration from " + format_ms(min) + " to " + format_ms(max) + " (e.g. 250ms, 30s, 10m)";
  if (text) {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
    std::string unit(end, static_cast<const char*>(text->data() + text->size()));
    std::int64_t scale = unit.empty() || unit == "ms" ? 1
                         : unit == "s"                ? 1000
                         : unit == "m"                ? 60'000
                         : unit == "h"                ? 3'600'000
                                                      : 0;
    std::chrono::milliseconds parsed{n * scale};
    if (ec != std::errc{} || scale == 0 || n < 0 || parsed < min || parsed > max)
      report_invalid(name, *text, accepted);
    else
      v = parsed;
  }
  declare(name, format_ms(v), help);
  return v;
}

std::string Config::choice(const std::string& name, const std::string& fallback,
                           const std::vector<std::string>& allowed, const std::string& help) {
  auto text = raw(name);
  std::string v = fallback;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  if (text) {
    auto it = std::find_if(allowed.begin(), allowed.end(),
                           [&](const std::string& a) { return lower(a) == lower(*text); });
    if (it == allowed.end())
      report_invalid(name, *text, "one of " + list);
    else
      v = *it;
  }
  declare(name, v, help + " (" + list + ")");
  return v;
}

std::string Config::usage() const {
  std::string out = "Options (command line, or the environment variable of the same name):\n";
  for (const auto& line : usage_lines_) out += line + "\n";
  return out;
}

void Config::finish() const {
  std::vector<std::string> all = problems_;
  for (const auto& [var, used] : override_used_)
    if (!used) all.push_back("unknown option --" + variable_to_option(var) + " (see --help)");
  if (all.empty()) return;
  std::string msg = "invalid configuration:";
  for (const auto& p : all) msg += "\n  " + p;
  throw ConfigError(msg);
}

std::string mounted_path(const std::string& container_path, const std::string& mounts) {
  std::string best_inside, best_host;
  std::istringstream lines(mounts);
  for (std::string line; std::getline(lines, line);) {
    const auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string inside = line.substr(0, eq);
    while (inside.size() > 1 && inside.back() == '/') inside.pop_back();
    const bool covers = container_path == inside ||
                        (container_path.starts_with(inside) && (inside == "/" || container_path[inside.size()] == '/'));
    if (covers && inside.size() > best_inside.size()) {
      best_inside = std::move(inside);
      best_host = line.substr(eq + 1);
    }
  }
  if (best_inside.empty()) return container_path;
  return best_inside == "/" ? best_host + container_path : best_host + container_path.substr(best_inside.size());
}

}  // namespace mambogo::runtime
