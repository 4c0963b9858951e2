// Names the simulator gives: the node's, and the random suffixes of generateName.
#pragma once

#include <string>

namespace mambogo::sim {

inline constexpr const char* kNodeName = "mambogo-local";

// n characters from Kubernetes' generateName alphabet (no vowels, no look-alikes).
// Thread-safe.
std::string random_suffix(int n = 5);

}  // namespace mambogo::sim
