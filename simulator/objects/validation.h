// Kubernetes validation, as kube-apiserver applies it: pure functions the API server runs on
// every create and update (after defaulting), and controllers may run too. Thread-safe.
//
// validate_object: names (DNS-1123 subdomain; label for namespaces, DNS-1035 label for
//   services), label keys and values, annotation keys, and per kind the required fields and
//   value ranges users get wrong: pod specs (containers, names, images, ports, protocols,
//   env names, resources, probes, restartPolicy, volume mounts), Deployments/ReplicaSets/
//   StatefulSets (selector required and matching the template labels, replicas, strategy),
//   Services (ports, types, targetPort), HPAs (scaleTargetRef, min/max replicas, metrics),
//   ConfigMap keys and the chaos kinds' mode/value/duration.
// validate_update: what may not change (workload selectors, most of a pod's spec, a
//   StatefulSet's fields other than replicas/template/updateStrategy/..., immutable
//   ConfigMaps and Secrets).
// unknown_fields / drop_unknown_fields: fields the kind's schema does not declare (the
//   typos kubectl users make: "containerport", "replica", "matchlabel"), with their paths as
//   kube-apiserver prints them ("spec.template.spec.containers[0].imagee"). Parts of objects
//   without a declared schema (status, volumes, affinity, ...) are accepted as they are.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mambogo::sim {

struct FieldError {
  std::string field;    // "metadata.name", "spec.template.spec.containers[0].image"
  std::string reason;   // FieldValueRequired, FieldValueInvalid, FieldValueNotSupported,
                        // FieldValueDuplicate, FieldValueForbidden
  std::string message;  // "Required value", "Invalid value: \"x\": must be ..."
};

// resource as the Store names it ("pods", "deployments.apps", ...).
std::vector<FieldError> validate_object(const std::string& resource, const nlohmann::json& object);
std::vector<FieldError> validate_update(const std::string& resource, const nlohmann::json& old_object,
                                        const nlohmann::json& new_object);

std::vector<std::string> unknown_fields(const std::string& resource, const nlohmann::json& object);
void drop_unknown_fields(const std::string& resource, nlohmann::json& object);

// Name rules, for callers that build names.
bool is_dns1123_subdomain(const std::string& value);  // ≤253, [a-z0-9.-], alnum at both ends
bool is_dns1123_label(const std::string& value);      // ≤63, [a-z0-9-], alnum at both ends
bool is_dns1035_label(const std::string& value);      // a DNS-1123 label starting with a letter
bool is_label_value(const std::string& value);        // ≤63, empty or [A-Za-z0-9._-] alnum at both ends
bool is_qualified_name(const std::string& value);     // label and annotation keys: [prefix/]name

}  // namespace mambogo::sim
