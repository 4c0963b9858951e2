// The resources the API server serves: the registry every route, discovery document and
// Status message is derived from (internal to apiserver/). Immutable, thread-safe.
#pragma once

#include "store/store.h"

#include <string>
#include <vector>

namespace mambogo::sim::api {

struct ResourceInfo {
  std::string group;      // "" for core
  std::string version;    // "v1", "v1beta1", "v1alpha1", "v2"
  std::string plural;     // "deployments"
  std::string singular;   // "deployment"
  std::string kind;       // "Deployment"
  bool namespaced = true;
  std::vector<std::string> verbs;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool status_subresource = false;
  bool scale_subresource = false;
  bool log_subresource = false;    // pods/log
  bool proxy_subresource = false;  // pods/proxy
  bool stored = true;              // false: computed on request (metrics.k8s.io)

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  // The Store's name for it and the name Status messages use: "pods", "deployments.apps".
  std::string store_name() const { return group.empty() ? plural : plural + "." + group; }
  // The URL prefix of its group/version: "/api/v1" or "/apis/apps/v1".
  std::string prefix() const { return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version; }
};

struct GroupInfo {
  std::string name;                   // "" for core
  std::vector<std::string> versions;  // preferred first
};

const std::vector<ResourceInfo>& all_resources();
const std::vector<GroupInfo>& all_groups();  // every group but core
const ResourceInfo* find_resource(const std::string& group, const std::string& version, const std::string& plural);
// By apiVersion ("apps/v1") and kind ("Deployment"); null when not served.
const ResourceInfo* find_kind(const std::string& api_version, const std::string& kind);

// Discovery documents.
Json version_info();
Json api_versions(const std::string& server_address);  // /api (APIVersions)
Json api_group_list();                                  // /apis (APIGroupList)
Json api_group(const GroupInfo& group);                 // /apis/<group> (APIGroup)
Json api_resource_list(const std::string& group, const std::string& version);  // null when not served
// /openapi/v3 (the list of group/version documents) and one group/version's document: only
// what clients look for — each resource's PATCH operation with its x-kubernetes-group-version-kind
// and the fieldValidation parameter, so kubectl knows the server validates fields itself.
Json openapi_v3_root();
Json openapi_v3_document(const std::string& group, const std::string& version);  // null when not served

}  // namespace mambogo::sim::api
