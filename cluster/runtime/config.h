// Service configuration the Kubernetes way: environment variables (SERVER_PORT=8080), each
// overridable on the command line (--server-port=8080 or --server-port 8080). A value is
// declared where it is read, with its default, its accepted range and a line of help; every
// problem is collected, and finish() reports them all at once, naming the variable and what
// it accepts. Unknown command-line options are problems too.
//
// Not thread-safe: used during start-up only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mambogo::runtime {

class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::string& what) : std::runtime_error(what) {}
};

class Config {
 public:
  // env: the environment ("NAME=value" entries, as environ). args: argv without argv[0].
  Config(const std::vector<std::string>& env, const std::vector<std::string>& args);
  static Config from_process(int argc, char** argv);

  std::string string(const std::string& name, const std::string& fallback, const std::string& help);
  std::int64_t integer(const std::string& name, std::int64_t fallback, std::int64_t min,
                       std::int64_t max, const std::string& help);
  double number(const std::string& name, double fallback, double min, double max,
                const std::string& help);
  bool boolean(const std::string& name, bool fallback, const std::string& help);
  // Accepts "250ms", "30s", "10m", "1h" or a bare number of milliseconds.
  std::chrono::milliseconds duration(const std::string& name, std::chrono::milliseconds fallback,
                                     std::chrono::milliseconds min, std::chrono::milliseconds max,
                                     const std::string& help);
  // One of the listed values (compared case-insensitively, returned as listed).
  std::string choice(const std::string& name, const std::string& fallback,
                     const std::vector<std::string>& allowed, const std::string& help);

  // Records a problem no single declaration can see (one value constrained by another).
  void report_invalid(const std::string& name, const std::string& value, const std::string& accepted);

  bool help_requested() const { return help_requested_; }
  // The declared variables with their current values and help, one per line.
  std::string usage() const;
  // Throws ConfigError listing every invalid value and unknown option, one per line.
  void finish() const;

  // "server-port" <-> "SERVER_PORT".
  static std::string option_to_variable(const std::string& option);
  static std::string variable_to_option(const std::string& variable);

 private:
  std::optional<std::string> raw(const std::string& name);
  void declare(const std::string& name, const std::string& value, const std::string& help);

  std::map<std::string, std::string> env_;
  std::map<std::string, std::string> overrides_;  // from the command line, by variable name
  std::map<std::string, bool> override_used_;
  std::vector<std::string> problems_;
  std::vector<std::string> usage_lines_;
  bool help_requested_ = false;
};

// Where a path inside the container really is. Under mambogo-cluster a pod's volumes are host
// directories and the kubelet lists them in MAMBOGO_MOUNTS, one "<mountPath>=<host path>" a
// line; a path under a mountPath (the longest that matches) is moved to its host directory.
// Elsewhere (mounts empty, or no mount covers the path) the path is returned as it is.
std::string mounted_path(const std::string& container_path, const std::string& mounts);

}  // namespace mambogo::runtime
