#include "pods/pod_env.h"

#include "objects/quantity.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>

namespace mambogo::sim {

namespace {

// Sets name=value, replacing an earlier definition in place (the process gets one of each).
void set_env(EnvList& env, const std::string& name, const std::string& value) {
  for (auto& [n, v] : env)
    if (n == name) {
      v = value;
      return;
    }
  env.emplace_back(name, value);
}

std::string string_or_empty(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string env_name_of_service(const std::string& name) {
  std::string out;
  for (char c : name) out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string port_string(const Json& port) {
  auto it = port.find("port");
  if (it == port.end()) return {};
  return it->is_number() ? std::to_string(it->get<long>()) : it->is_string() ? it->get<std::string>() : "";
}

// The value of an object's data key: ConfigMaps keep text in data and base64 in binaryData;
// Secrets keep base64 in data (and text in stringData when written without an API server).
std::optional<std::string> object_value(const Json& object, const std::string& key, bool secret,
                                        const std::string& what) {
  const Json empty = Json::object();
  const Json& data = object.contains("data") && object["data"].is_object() ? object["data"] : empty;
  if (secret) {
    if (object.contains("stringData") && object["stringData"].contains(key))
      return object["stringData"][key].get<std::string>();
    if (data.contains(key)) return decode_base64(data[key].get<std::string>(), what + " key " + key);
    return std::nullopt;
  }
  if (data.contains(key)) return data[key].is_string() ? data[key].get<std::string>() : data[key].dump();
  if (object.contains("binaryData") && object["binaryData"].contains(key))
    return decode_base64(object["binaryData"][key].get<std::string>(), what + " key " + key);
  return std::nullopt;
}

std::vector<std::string> object_keys(const Json& object, bool secret) {
  std::vector<std::string> keys;
  for (const char* field : {"data", secret ? "stringData" : "binaryData"})
    if (object.contains(field) && object[field].is_object())
      for (auto it = object[field].begin(); it != object[field].end(); ++it) keys.push_back(it.key());
  return keys;
}

const Json* find_source(const std::map<std::string, Json>& objects, const std::string& name) {
  auto it = objects.find(name);
  return it == objects.end() ? nullptr : &it->second;
}

std::string key_ref_value(const Json& ref, const EnvSources& sources, const std::string& ns, bool secret,
                          bool& skip) {
  const std::string kind = secret ? "secret" : "configmap";
  const std::string name = string_or_empty(ref, "name");
  const std::string key = string_or_empty(ref, "key");
  const bool optional = ref.value("optional", false);
  const Json* object = find_source(secret ? sources.secrets : sources.configmaps, name);
  if (!object) {
    if (optional) return skip = true, std::string();
    throw EnvError(kind + " \"" + name + "\" not found");
  }
  auto value = object_value(*object, key, secret, kind + " " + ns + "/" + name);
  if (!value) {
    if (optional) return skip = true, std::string();
    throw EnvError("couldn't find key " + key + " in " + (secret ? "Secret " : "ConfigMap ") + ns + "/" + name);
  }
  return *value;
}

std::string field_ref_value(const Json& pod, const std::string& path, const EnvSources& sources) {
  const Json& meta = metadata_of(pod);
  static const std::regex map_key(R"(^metadata\.(labels|annotations)\['([^']*)'\]$)");
  std::smatch m;
  if (std::regex_match(path, m, map_key)) {
    const Json& map = meta.contains(m[1].str()) ? meta[m[1].str()] : Json::object();
    return map.contains(m[2].str()) ? map[m[2].str()].get<std::string>() : "";
  }
  if (path == "metadata.name") return name_of(pod);
  if (path == "metadata.namespace") return namespace_of(pod);
  if (path == "metadata.uid") return string_or_empty(meta, "uid");
  if (path == "spec.nodeName") return string_or_empty(pod.value("spec", Json::object()), "nodeName");
  if (path == "spec.serviceAccountName") {
    auto sa = string_or_empty(pod.value("spec", Json::object()), "serviceAccountName");
    return sa.empty() ? "default" : sa;
  }
  if (path == "status.podIP" || path == "status.podIPs") return sources.pod_ip;
  if (path == "status.hostIP" || path == "status.hostIPs") return sources.host_ip;
  throw EnvError("unsupported fieldRef.fieldPath \"" + path + "\"");
}

const Json* find_container(const Json& pod, const std::string& name) {
  const Json& spec = pod.contains("spec") ? pod["spec"] : Json::object();
  if (!spec.contains("containers")) return nullptr;
  for (const auto& c : spec["containers"])
    if (c.value("name", "") == name) return &c;
  return nullptr;
}

std::string resource_field_value(const Json& pod, const Json& container, const Json& ref,
                                 const EnvSources& sources) {
  const std::string resource = string_or_empty(ref, "resource");
  const Json* target = &container;
  if (auto name = string_or_empty(ref, "containerName"); !name.empty()) {
    target = find_container(pod, name);
    if (!target) throw EnvError("resourceFieldRef: no container named \"" + name + "\"");
  }
  const auto dot = resource.find('.');
  if (dot == std::string::npos) throw EnvError("unsupported resourceFieldRef.resource \"" + resource + "\"");
  const std::string kind = resource.substr(0, dot);  // limits | requests
  const std::string what = resource.substr(dot + 1);
  const Json resources = target->value("resources", Json::object());
  Json quantity;
  if (resources.contains(kind) && resources[kind].contains(what)) quantity = resources[kind][what];
  else if (kind == "requests" && resources.contains("limits") && resources["limits"].contains(what))
    quantity = resources["limits"][what];
  try {
    if (what == "cpu") {
      const double divisor_millis = ref.contains("divisor") ? static_cast<double>(cpu_millis(ref["divisor"])) : 1000.0;
      double millis = quantity.is_null() ? (kind == "limits" ? sources.node_cpu_cores * 1000 : 0)
                                         : static_cast<double>(cpu_millis(quantity));
      return std::to_string(static_cast<std::int64_t>(std::ceil(millis / divisor_millis)));
    }
    if (what == "memory" || what == "ephemeral-storage") {
      const double divisor = ref.contains("divisor") ? static_cast<double>(memory_bytes(ref["divisor"])) : 1.0;
      double bytes = quantity.is_null() ? (kind == "limits" ? static_cast<double>(sources.node_memory_bytes) : 0)
                                        : static_cast<double>(memory_bytes(quantity));
      return std::to_string(static_cast<std::int64_t>(std::ceil(bytes / divisor)));
    }
  } catch (const std::invalid_argument& e) {
    throw EnvError(std::string("resourceFieldRef ") + resource + ": " + e.what());
  }
  throw EnvError("unsupported resourceFieldRef.resource \"" + resource + "\"");
}

}  // namespace

std::string expand_vars(const std::string& input, const std::map<std::string, std::string>& lookup) {
  std::string out;
  std::size_t checkpoint = 0;
  for (std::size_t cursor = 0; cursor < input.size(); ++cursor) {
    if (input[cursor] != '$' || cursor + 1 >= input.size()) continue;
    out.append(input, checkpoint, cursor - checkpoint);
    const char next = input[cursor + 1];
    std::size_t advance = 1;
    if (next == '$') {
      out += '$';
    } else if (next == '(') {
      const auto close = input.find(')', cursor + 2);
      if (close == std::string::npos) {
        out += "$(";
      } else {
        const std::string name = input.substr(cursor + 2, close - cursor - 2);
        auto it = lookup.find(name);
        out += it != lookup.end() ? it->second : "$(" + name + ")";
        advance = close - cursor;
      }
    } else {
      out += '$';
      out += next;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  out.append(input, std::min(checkpoint, input.size()), std::string::npos);
  return out;
}

std::map<std::string, std::string> service_env(const std::vector<Json>& services) {
  std::map<std::string, std::string> env;
  for (const auto& svc : services) {
    const Json spec = svc.value("spec", Json::object());
    const std::string ip = string_or_empty(spec, "clusterIP");
    if (ip.empty() || ip == "None") continue;
    const std::string prefix = env_name_of_service(name_of(svc));
    env[prefix + "_SERVICE_HOST"] = ip;
    const Json ports = spec.value("ports", Json::array());
    if (ports.empty()) continue;
    env[prefix + "_SERVICE_PORT"] = port_string(ports[0]);
    for (std::size_t i = 0; i < ports.size(); ++i) {
      const Json& p = ports[i];
      const std::string number = port_string(p);
      if (auto name = string_or_empty(p, "name"); !name.empty())
        env[prefix + "_SERVICE_PORT_" + env_name_of_service(name)] = number;
      std::string proto = string_or_empty(p, "protocol");
      if (proto.empty()) proto = "TCP";
      std::string lower = proto;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      const std::string url = lower + "://" + ip + ":" + number;
      if (i == 0) env[prefix + "_PORT"] = url;
      const std::string base = prefix + "_PORT_" + number + "_" + proto;
      env[base] = url;
      env[base + "_PROTO"] = lower;
      env[base + "_PORT"] = number;
      env[base + "_ADDR"] = ip;
    }
  }
  return env;
}

EnvList container_env(const Json& pod, const Json& container, const EnvSources& sources) {
  const std::string ns = namespace_of(pod);
  const auto services = service_env(sources.services);
  EnvList env = sources.base;

  std::map<std::string, std::string> pod_vars = {
      {"POD_NAME", name_of(pod)}, {"POD_NAMESPACE", ns}, {"POD_IP", sources.pod_ip}};
  for (const auto& [name, value] : sources.image_env) set_env(env, name, expand_vars(value, pod_vars));

  // What $(VAR) may refer to: the pod variables, then what envFrom/env define, then services.
  std::map<std::string, std::string> defined = pod_vars;
  for (const auto& [name, value] : pod_vars) set_env(env, name, value);
  auto define = [&](const std::string& name, const std::string& value) {
    defined[name] = value;
    set_env(env, name, value);
  };
  auto mapping = [&] {
    auto m = defined;
    for (const auto& [k, v] : services) m.emplace(k, v);
    return m;
  };

  for (const auto& from : container.value("envFrom", Json::array())) {
    const bool secret = from.contains("secretRef");
    const Json ref = secret ? from["secretRef"] : from.value("configMapRef", Json::object());
    const std::string name = string_or_empty(ref, "name");
    const std::string prefix = string_or_empty(from, "prefix");
    const Json* object = find_source(secret ? sources.secrets : sources.configmaps, name);
    if (!object) {
      if (ref.value("optional", false)) continue;
      throw EnvError(std::string(secret ? "secret" : "configmap") + " \"" + name + "\" not found");
    }
    for (const auto& key : object_keys(*object, secret)) {
      if (key.find('=') != std::string::npos) continue;  // kubelet skips invalid names too
      define(prefix + key, *object_value(*object, key, secret, name));
    }
  }

  for (const auto& item : container.value("env", Json::array())) {
    const std::string name = string_or_empty(item, "name");
    if (name.empty()) throw EnvError("env entry without a name");
    if (item.contains("value")) {
      define(name, expand_vars(item["value"].is_string() ? item["value"].get<std::string>() : item["value"].dump(),
                               mapping()));
      continue;
    }
    const Json from = item.value("valueFrom", Json::object());
    bool skip = false;
    std::string value;
    if (from.contains("configMapKeyRef")) value = key_ref_value(from["configMapKeyRef"], sources, ns, false, skip);
    else if (from.contains("secretKeyRef")) value = key_ref_value(from["secretKeyRef"], sources, ns, true, skip);
    else if (from.contains("fieldRef")) value = field_ref_value(pod, string_or_empty(from["fieldRef"], "fieldPath"), sources);
    else if (from.contains("resourceFieldRef")) value = resource_field_value(pod, container, from["resourceFieldRef"], sources);
    else if (!item.contains("valueFrom")) value = "";
    else throw EnvError("env " + name + ": unsupported valueFrom " + from.dump());
    if (!skip) define(name, value);
  }

  for (const auto& [name, value] : services)
    if (!defined.contains(name)) set_env(env, name, value);
  return env;
}

std::vector<std::string> container_argv(const Json& container, const std::vector<std::string>& image_command,
                                        const std::vector<std::string>& image_args, const EnvList& env) {
  auto strings = [](const Json& list) {
    std::vector<std::string> out;
    for (const auto& v : list) out.push_back(v.is_string() ? v.get<std::string>() : v.dump());
    return out;
  };
  const bool has_command = container.contains("command") && !container["command"].empty();
  const bool has_args = container.contains("args") && !container["args"].empty();
  std::vector<std::string> argv = has_command ? strings(container["command"]) : image_command;
  const std::vector<std::string> args = has_args ? strings(container["args"]) : has_command ? std::vector<std::string>{} : image_args;
  argv.insert(argv.end(), args.begin(), args.end());
  std::map<std::string, std::string> lookup(env.begin(), env.end());
  for (auto& a : argv) a = expand_vars(a, lookup);
  return argv;
}

std::string translate_mount_path(const std::string& value, const MountMap& mounts) {
  const std::pair<std::string, std::string>* best = nullptr;
  for (const auto& m : mounts) {
    std::string path = m.first;
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (value.compare(0, path.size(), path) != 0) continue;
    if (value.size() != path.size() && value[path.size()] != '/' && path != "/") continue;
    if (!best || path.size() > best->first.size()) best = &m;
  }
  if (!best) return value;
  std::string path = best->first;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return best->second + value.substr(path == "/" ? 0 : path.size());
}

std::string decode_base64(const std::string& text, const std::string& what) {
  auto sextet = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] != '='; ++i) {
    if (text[i] == '\n' || text[i] == '\r') continue;
    const int v = sextet(text[i]);
    if (v < 0) throw EnvError(what + ": invalid base64 at offset " + std::to_string(i));
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  for (; i < text.size(); ++i)
    if (text[i] != '=' && text[i] != '\n') throw EnvError(what + ": invalid base64 padding at offset " + std::to_string(i));
  return out;
}

}  // namespace mambogo::sim
