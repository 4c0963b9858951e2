// Label selectors as Kubernetes evaluates them: metav1.LabelSelector objects (Deployments,
// ReplicaSets, HPAs, Chaos Mesh), plain maps (Service spec.selector) and the query syntax of
// ?labelSelector= ("app=web,tier!=db,env in (a,b),!canary"). Pure; thread-safe once built.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mambogo::sim {

class LabelSelector {
 public:
  enum class Op { equals, not_equals, in, not_in, exists, does_not_exist };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };

  // {"matchLabels": {...}, "matchExpressions": [{key, operator, values}]}. An empty or null
  // selector matches everything (as for a LabelSelector{}); throws std::invalid_argument.
  static LabelSelector from_json(const nlohmann::json& selector);
  // A Service's spec.selector: every pair must match. Throws std::invalid_argument.
  static LabelSelector from_map(const nlohmann::json& labels);
  // The query syntax. Throws std::invalid_argument naming the position.
  static LabelSelector parse(const std::string& text);

  bool matches(const nlohmann::json& labels) const;  // labels: object of strings, or null
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  std::string to_string() const;  // the query syntax, e.g. for status.selector of a Scale

 private:
  std::vector<Requirement> requirements_;
};

// An IntOrString (maxSurge, maxUnavailable, ...) resolved against total: 3 → 3; "25%" of 10 →
// 2.5 rounded up (3) or down (2). Throws std::invalid_argument for anything else.
int resolve_int_or_percent(const nlohmann::json& value, int total, bool round_up);

}  // namespace mambogo::sim
