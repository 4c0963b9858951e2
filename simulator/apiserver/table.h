// meta.k8s.io Tables (internal to apiserver/): the columns `kubectl get` prints, built the way
// kube-apiserver's printers build them (pods, deployments, replicasets, statefulsets,
// services, endpoints, horizontalpodautoscalers, events, configmaps, secrets, nodes,
// namespaces, the chaos kinds; NAME and CREATED AT for the rest). Pure functions of the
// objects and the current time.
#pragma once

#include "apiserver/resources.h"

#include <chrono>
#include <string>
#include <vector>

namespace mambogo::sim::api {

enum class IncludeObject { none, metadata, object };

// kubectl's duration format: "45s", "3m20s", "5h", "2d3h", ...
std::string human_duration(std::chrono::seconds elapsed);

Json build_table(const ResourceInfo& r, const std::vector<Json>& objects, const std::string& meta_version,
                 IncludeObject include, std::chrono::system_clock::time_point now);

// A pod's STATUS column as `kubectl get pods` prints it: "Running", "Init:0/1",
// "Init:CrashLoopBackOff", "PodInitializing", "CrashLoopBackOff", "Terminating", ...
std::string pod_status_text(const Json& pod);

// PartialObjectMetadata of an object (kind, apiVersion meta.k8s.io/<version>, metadata).
Json partial_metadata(const Json& object, const std::string& meta_version);

}  // namespace mambogo::sim::api
