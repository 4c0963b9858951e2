// Kubernetes resource quantities (resource.Quantity): "500m", "1", "0.5", "2Gi", "128M", "1e3".
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace mambogo::sim {

// The quantity in base units (cores, bytes). Throws std::invalid_argument naming the text.
double parse_quantity(const std::string& text);

// CPU in millicores: "250m" → 250, "1" → 1000, 1 (a JSON number) → 1000, "0.1" → 100.
// Throws std::invalid_argument for anything else (null included).
std::int64_t cpu_millis(const nlohmann::json& quantity);
// Memory in bytes: "128Mi", "1G", 1048576. Throws std::invalid_argument.
std::int64_t memory_bytes(const nlohmann::json& quantity);

std::string format_cpu_millis(std::int64_t millis);  // 250 → "250m", 2000 → "2"
std::string format_cpu_nanos(std::uint64_t nanos);   // metrics-server's "123456789n"
std::string format_memory(std::int64_t bytes);       // metrics-server's "123456Ki"

}  // namespace mambogo::sim
