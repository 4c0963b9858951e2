// Kubernetes defaulting, as kube-apiserver applies it before storing an object: pure
// functions the API server runs on every create and update, and controllers may run on
// objects they build. Idempotent; fields already set are kept. Thread-safe.
//
// Pods and pod templates: restartPolicy Always, terminationGracePeriodSeconds 30, dnsPolicy
//   ClusterFirst, schedulerName default-scheduler, enableServiceLinks true; containers:
//   imagePullPolicy (Always for ":latest" or no tag, else IfNotPresent), ports protocol TCP,
//   terminationMessagePath/Policy, resources.requests copied from limits when absent, probes
//   periodSeconds 10, timeoutSeconds 1, successThreshold 1, failureThreshold 3, httpGet path "/"
//   and scheme HTTP; env fieldRef apiVersion v1.
// Deployments: replicas 1, strategy RollingUpdate 25%/25%, revisionHistoryLimit 10,
//   progressDeadlineSeconds 600 (minReadySeconds absent means 0).
// ReplicaSets: replicas 1. StatefulSets: replicas 1, podManagementPolicy OrderedReady,
//   updateStrategy RollingUpdate (partition 0), revisionHistoryLimit 10, PVC retention Retain.
// Services: type ClusterIP, sessionAffinity None, internalTrafficPolicy Cluster, ports
//   protocol TCP and targetPort = port.
// HorizontalPodAutoscalers (autoscaling/v2): minReplicas 1, metrics CPU 80% when none, and a
//   given behavior completed with Kubernetes' default rules.
// Secrets: type Opaque, stringData folded into data (base64).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace mambogo::sim {

// resource as the Store names it ("pods", "deployments.apps", ...); others are left alone.
void apply_defaults(const std::string& resource, nlohmann::json& object);

void default_pod_spec(nlohmann::json& spec);
void default_pod_template(nlohmann::json& template_spec);  // {metadata, spec}

}  // namespace mambogo::sim
