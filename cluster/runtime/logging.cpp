#include "runtime/logging.h"

#include <chrono>
#include <ctime>
#include <stdexcept>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace mambogo::runtime {

namespace {
spdlog::level::level_enum to_spdlog(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warn: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
    case LogLevel::off: return spdlog::level::off;
  }
  return spdlog::level::info;
}

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    case LogLevel::off: return "off";
  }
  return "info";
}

std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(us % 1'000'000));
  return buf;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& service,
                                            std::shared_ptr<spdlog::sinks::sink> sink,
                                            LogLevel level) {
  // Not registered in spdlog's global registry: each Logger owns its spdlog::logger.
  auto logger = std::make_shared<spdlog::logger>(service, std::move(sink));
  logger->set_pattern("%v");
  logger->set_level(to_spdlog(level));
  logger->flush_on(spdlog::level::warn);
  return logger;
}
}  // namespace

LogLevel parse_log_level(std::string_view name) {
  for (auto l : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error, LogLevel::off})
    if (name == level_name(l)) return l;
  throw std::invalid_argument("unknown log level '" + std::string(name) + "'");
}

Logger::Logger(std::string service, LogLevel level)
    : Logger(std::move(service), std::make_shared<spdlog::sinks::stdout_sink_mt>(), level) {}

Logger::Logger(std::string service, std::shared_ptr<spdlog::sinks::sink> sink, LogLevel level)
    : service_(std::move(service)), out_(make_logger(service_, std::move(sink), level)) {}

Logger::~Logger() { out_->flush(); }

bool Logger::enabled(LogLevel level) const { return out_->should_log(to_spdlog(level)); }

void Logger::set_level(LogLevel level) { out_->set_level(to_spdlog(level)); }

void Logger::flush() { out_->flush(); }

void Logger::log(LogLevel level, std::string_view msg, const nlohmann::json& fields) {
  if (!enabled(level)) return;
  nlohmann::ordered_json line{{"ts", utc_now()}, {"level", level_name(level)}, {"logger", service_},
                      {"msg", msg}};
  if (fields.is_object())
    for (auto it = fields.begin(); it != fields.end(); ++it) line[it.key()] = it.value();
  out_->log(to_spdlog(level), line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace mambogo::runtime
