// The local image map: what program a container image name stands for on this machine
// (simulator/images/images.yaml). Keys are image names without registry, tag or digest
// ("docker.io/library/redis:7" → "redis", "mambogo/order-service:1.0" → "mambogo/order-service").
//
// An entry is the image's ENTRYPOINT (command), CMD (args), ENV and STOPSIGNAL, with ${NAME}
// placeholders substituted when a container is resolved: the variables given to the map
// (MAMBOGO_BIN_DIR, IMAGES_DIR, ...) and per container CONTAINER_PORT (its first containerPort,
// else the entry's defaultPort). $(VAR) references are left for the kubelet's Kubernetes
// expansion against the container's environment (e.g. $(POD_IP)).
//
// File format:
//   images:
//     redis:
//       command: [redis-server]
//       args: [--bind, "$(POD_IP)", --port, "${CONTAINER_PORT}"]
//       env: {KEY: value}
//       stopSignal: SIGINT        # optional, default SIGTERM
//       defaultPort: 6379         # optional
//
// A value type: copyable; const members are thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mambogo::sim {

struct ImageEntry {
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  int stop_signal = 15;  // SIGTERM
  int default_port = 0;
};

class ImageMap {
 public:
  using Vars = std::map<std::string, std::string>;

  ImageMap() = default;
  // Reads a map file; IMAGES_DIR is set to the file's directory unless given. Throws
  // std::runtime_error naming the file and the bad entry.
  static ImageMap load(const std::filesystem::path& file, Vars vars = {});
  // The same from text; `source` names it in errors.
  static ImageMap parse(const std::string& yaml, Vars vars, const std::string& source = "images.yaml");
  // simulator/images/images.yaml of the source tree this library was built from.
  static std::filesystem::path default_file();

  // Adds or replaces an entry (tests; programs built at run time).
  void add(const std::string& key, ImageEntry entry);
  void set_var(const std::string& name, const std::string& value) { vars_[name] = value; }

  static std::string key_of(const std::string& image);

  // The entry for `image` with ${...} substituted (vars of the map, then `extra`); nullopt
  // for an image the map does not know.
  std::optional<ImageEntry> resolve(const std::string& image, const Vars& extra = {}) const;
  bool empty() const { return entries_.empty(); }

 private:
  std::map<std::string, ImageEntry> entries_;
  Vars vars_;
};

}  // namespace mambogo::sim
