#include "objects/names.h"

#include <random>

namespace mambogo::sim {

std::string random_suffix(int n) {
  static constexpr char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pick(0, sizeof alphabet - 2);
  std::string out;
  for (int i = 0; i < n; ++i) out += alphabet[pick(rng)];
  return out;
}

}  // namespace mambogo::sim
