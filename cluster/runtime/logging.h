// Structured logs: one JSON object per line on stdout, through spdlog (its sinks, levels and
// locking). Every line has ts (UTC, ISO 8601 with microseconds), level, logger (the
// service), msg, and the caller's fields.
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace spdlog {
class logger;
namespace sinks { class sink; }
}  // namespace spdlog

namespace mambogo::runtime {

enum class LogLevel { debug, info, warn, error, off };

// "debug" | "info" | "warn" | "error" | "off"; throws std::invalid_argument otherwise.
LogLevel parse_log_level(std::string_view name);

class Logger {
 public:
  // Writes to stdout.
  explicit Logger(std::string service, LogLevel level = LogLevel::info);
  // Writes to the given sink (tests use an ostream sink).
  Logger(std::string service, std::shared_ptr<spdlog::sinks::sink> sink, LogLevel level);
  ~Logger();

  bool enabled(LogLevel level) const;
  void set_level(LogLevel level);

  // fields must be a JSON object (or null); its keys are merged into the line.
  void log(LogLevel level, std::string_view msg, const nlohmann::json& fields = nullptr);
  void debug(std::string_view msg, const nlohmann::json& fields = nullptr) { log(LogLevel::debug, msg, fields); }
  void info(std::string_view msg, const nlohmann::json& fields = nullptr) { log(LogLevel::info, msg, fields); }
  void warn(std::string_view msg, const nlohmann::json& fields = nullptr) { log(LogLevel::warn, msg, fields); }
  void error(std::string_view msg, const nlohmann::json& fields = nullptr) { log(LogLevel::error, msg, fields); }
  void flush();

  const std::string& service() const { return service_; }

 private:
  const std::string service_;
  std::shared_ptr<spdlog::logger> out_;
};

}  // namespace mambogo::runtime
