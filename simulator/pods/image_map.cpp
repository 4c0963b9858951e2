#include "pods/image_map.h"

#include <yaml-cpp/yaml.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>

#ifndef MAMBOGO_SIM_IMAGES_DIR
#define MAMBOGO_SIM_IMAGES_DIR "simulator/images"
#endif

namespace mambogo::sim {

namespace {

int signal_number(const std::string& name, const std::string& where) {
  static const std::map<std::string, int> signals = {
      {"SIGTERM", SIGTERM}, {"SIGINT", SIGINT}, {"SIGQUIT", SIGQUIT}, {"SIGKILL", SIGKILL},
      {"SIGHUP", SIGHUP},   {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}};
  auto it = signals.find(name);
  if (it == signals.end()) throw std::runtime_error(where + ": unknown stopSignal \"" + name + "\"");
  return it->second;
}

std::vector<std::string> string_list(const YAML::Node& node, const std::string& where) {
  std::vector<std::string> out;
  if (!node) return out;
  if (!node.IsSequence()) throw std::runtime_error(where + " must be a list of strings");
  for (const auto& item : node) out.push_back(item.as<std::string>());
  return out;
}

std::string substitute(const std::string& text, const ImageMap::Vars& vars, const ImageMap::Vars& extra) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const auto open = text.find("${", pos);
    if (open == std::string::npos) break;
    const auto close = text.find('}', open + 2);
    if (close == std::string::npos) break;
    const std::string name = text.substr(open + 2, close - open - 2);
    out.append(text, pos, open - pos);
    if (auto it = extra.find(name); it != extra.end()) out += it->second;
    else if (auto jt = vars.find(name); jt != vars.end()) out += jt->second;
    else out.append(text, open, close - open + 1);
    pos = close + 1;
  }
  return out + text.substr(pos);
}

}  // namespace

ImageMap ImageMap::load(const std::filesystem::path& file, Vars vars) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("image map " + file.string() + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  vars.emplace("IMAGES_DIR", std::filesystem::absolute(file).parent_path().string());
  return parse(text.str(), std::move(vars), file.string());
}

ImageMap ImageMap::parse(const std::string& yaml, Vars vars, const std::string& source) {
  ImageMap map;
  map.vars_ = std::move(vars);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error("image map " + source + ": " + e.what());
  }
  const YAML::Node images = root["images"];
  if (!images || !images.IsMap()) throw std::runtime_error("image map " + source + ": no 'images' mapping");
  for (auto it = images.begin(); it != images.end(); ++it) {
    const std::string key = it->first.as<std::string>();
    const std::string where = "image map " + source + ": images." + key;
    const YAML::Node node = it->second;
    if (!node.IsMap()) throw std::runtime_error(where + " must be a mapping");
    try {
      ImageEntry entry;
      entry.command = string_list(node["command"], where + ".command");
      entry.args = string_list(node["args"], where + ".args");
      if (entry.command.empty()) throw std::runtime_error(where + ".command is required");
      if (const auto env = node["env"]) {
        if (!env.IsMap()) throw std::runtime_error(where + ".env must be a mapping");
        for (auto e = env.begin(); e != env.end(); ++e)
          entry.env.emplace_back(e->first.as<std::string>(), e->second.as<std::string>());
      }
      if (node["stopSignal"]) entry.stop_signal = signal_number(node["stopSignal"].as<std::string>(), where);
      if (node["defaultPort"]) entry.default_port = node["defaultPort"].as<int>();
      map.entries_[key] = std::move(entry);
    } catch (const YAML::Exception& e) {
      throw std::runtime_error(where + ": " + e.what());
    }
  }
  return map;
}

std::filesystem::path ImageMap::default_file() { return std::filesystem::path(MAMBOGO_SIM_IMAGES_DIR) / "images.yaml"; }

void ImageMap::add(const std::string& key, ImageEntry entry) { entries_[key] = std::move(entry); }

std::string ImageMap::key_of(const std::string& image) {
  std::string name = image;
  if (auto at = name.find('@'); at != std::string::npos) name.resize(at);
  const auto slash = name.rfind('/');
  if (auto colon = name.rfind(':'); colon != std::string::npos && (slash == std::string::npos || colon > slash))
    name.resize(colon);
  // A first component with '.' or ':' (or "localhost") is a registry host.
  if (auto first = name.find('/'); first != std::string::npos) {
    const std::string head = name.substr(0, first);
    if (head.find('.') != std::string::npos || head.find(':') != std::string::npos || head == "localhost")
      name = name.substr(first + 1);
  }
  if (name.rfind("library/", 0) == 0) name = name.substr(8);
  return name;
}

std::optional<ImageEntry> ImageMap::resolve(const std::string& image, const Vars& extra) const {
  auto it = entries_.find(key_of(image));
  if (it == entries_.end()) return std::nullopt;
  ImageEntry entry = it->second;
  Vars local = extra;
  if (!local.contains("CONTAINER_PORT") && entry.default_port > 0)
    local["CONTAINER_PORT"] = std::to_string(entry.default_port);
  for (auto& c : entry.command) c = substitute(c, vars_, local);
  for (auto& a : entry.args) a = substitute(a, vars_, local);
  for (auto& [k, v] : entry.env) v = substitute(v, vars_, local);
  return entry;
}

}  // namespace mambogo::sim
