// The manifests mambogo-cluster runs: a directory with a kustomization.yaml (the subset of
// kustomize that plain resource lists need: `resources` naming files and directories,
// recursively) or, without one, every *.yaml / *.yml / *.json file in it in name order.
//
// Pure file reading; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace mambogo::sim {

struct Manifest {
  nlohmann::json object;
  std::string source;  // "packaging/kubernetes/base/order-service.yaml#2"
};

// Throws std::invalid_argument naming the file (and document) for anything it cannot read:
// a missing resource, malformed YAML, a kustomize field it does not implement, a cycle.
std::vector<Manifest> load_manifests(const std::filesystem::path& dir_or_file);

}  // namespace mambogo::sim
