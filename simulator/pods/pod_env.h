// How a container's process is described to the OS, as pure functions of the pod, the
// container and the objects they refer to: the environment Kubernetes gives a container
// (env, envFrom, valueFrom, service variables, $(VAR) expansion), the expansion of command and
// args, and the translation of in-container mount paths to host directories.
//
// Everything here is pure: no store, no file system. Thread-safe.
#pragma once

#include "store/store.h"

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace mambogo::sim {

using EnvList = std::vector<std::pair<std::string, std::string>>;  // ordered, unique names

// Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion): "$(NAME)" becomes the
// value when `lookup` knows NAME and stays "$(NAME)" otherwise; "$$" is a literal "$"; any
// other "$" is kept.
std::string expand_vars(const std::string& text, const std::map<std::string, std::string>& lookup);

// The service variables kubelet gives every container for the Services of its namespace:
// <NAME>_SERVICE_HOST, <NAME>_SERVICE_PORT, <NAME>_SERVICE_PORT_<PORTNAME>, and the Docker-link
// variables <NAME>_PORT, <NAME>_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]. Services without a
// cluster IP (or "None") are skipped. NAME is the service name upper-cased with '-' → '_'.
std::map<std::string, std::string> service_env(const std::vector<Json>& services);

// A container's environment could not be built (missing ConfigMap/Secret/key): kubelet's
// CreateContainerConfigError.
class EnvError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a container's environment may refer to besides the pod itself.
struct EnvSources {
  std::map<std::string, Json> configmaps;  // by name, the pod's namespace
  std::map<std::string, Json> secrets;     // by name, the pod's namespace
  std::vector<Json> services;              // the Services of the pod's namespace
  std::string pod_ip;
  std::string host_ip = "127.0.0.1";
  double node_cpu_cores = 1;               // resourceFieldRef default for an unset limit
  std::int64_t node_memory_bytes = 0;
  EnvList base;                            // PATH, HOSTNAME, ... (lowest precedence)
  EnvList image_env;                       // the image map's env (below the manifest's)
};

// The environment of `container` in `pod`, in Kubernetes' precedence order: base, image env,
// POD_NAME/POD_NAMESPACE/POD_IP, envFrom, env (each value expanded against what is defined
// before it and the service variables), then the service variables not otherwise defined.
// Throws EnvError for a missing non-optional ConfigMap, Secret or key, or a bad field path.
EnvList container_env(const Json& pod, const Json& container, const EnvSources& sources);

// command + args as the container runs them: the manifest's command replaces the image's
// entrypoint (and its args the image's args); $(VAR) expanded against env.
std::vector<std::string> container_argv(const Json& container, const std::vector<std::string>& image_command,
                                        const std::vector<std::string>& image_args, const EnvList& env);

// In-container mount path → host directory.
using MountMap = std::vector<std::pair<std::string, std::string>>;
// Rewrites `value` when it starts with a mount path (followed by its end or '/'): the longest
// matching mount path is replaced by its host directory. Other values are returned unchanged.
std::string translate_mount_path(const std::string& value, const MountMap& mounts);

// Decodes standard base64 (Secret data); throws EnvError on bad input, naming `what`.
std::string decode_base64(const std::string& text, const std::string& what);

}  // namespace mambogo::sim
