#include "apiserver/table.h"

#include "objects/selector.h"

#include <ctime>
#include <sstream>

namespace mambogo::sim::api {

namespace {

using Clock = std::chrono::system_clock;

struct Column {
  std::string name;
  std::string type;  // string, integer, date
  std::string format;
  int priority = 0;  // 1: only with -o wide
};

std::optional<Clock::time_point> parse_time(const Json& value) {
  if (!value.is_string()) return std::nullopt;
  std::tm tm{};
  std::istringstream in(value.get<std::string>());
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return std::nullopt;
  return Clock::from_time_t(timegm(&tm));
}

std::string age(const Json& timestamp, Clock::time_point now) {
  auto t = parse_time(timestamp);
  if (!t) return "<unknown>";
  return human_duration(std::chrono::duration_cast<std::chrono::seconds>(now - *t));
}

std::string object_age(const Json& o, Clock::time_point now) {
  return age(metadata_of(o).value("creationTimestamp", Json()), now);
}

const Json& at(const Json& o, std::initializer_list<const char*> path) {
  static const Json null;
  const Json* node = &o;
  for (const char* key : path) {
    if (!node->is_object()) return null;
    auto it = node->find(key);
    if (it == node->end()) return null;
    node = &*it;
  }
  return *node;
}

std::int64_t integer(const Json& v, std::int64_t fallback = 0) { return v.is_number() ? v.get<std::int64_t>() : fallback; }
std::string text(const Json& v, const std::string& fallback = "") { return v.is_string() ? v.get<std::string>() : fallback; }
std::string or_none(const std::string& s) { return s.empty() ? "<none>" : s; }

std::string join(const std::vector<std::string>& parts, const std::string& sep = ",") {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::pair<std::string, std::string> containers_and_images(const Json& pod_spec) {
  std::vector<std::string> names, images;
  for (const auto& c : at(pod_spec, {"containers"}).is_array() ? at(pod_spec, {"containers"}) : Json::array()) {
    names.push_back(c.value("name", ""));
    images.push_back(c.value("image", ""));
  }
  return {join(names), join(images)};
}

std::string selector_text(const Json& selector) {
  if (!selector.is_object()) return "<none>";
  try {
    auto s = LabelSelector::from_json(selector);
    return s.empty() ? "<none>" : s.to_string();
  } catch (const std::exception&) {
    return "<error>";
  }
}

std::string map_selector_text(const Json& selector) {
  if (!selector.is_object() || selector.empty()) return "<none>";
  std::vector<std::string> parts;
  for (const auto& [k, v] : selector.items()) parts.push_back(k + "=" + text(v));
  return join(parts);
}

bool condition_true(const Json& status, const std::string& type) {
  for (const auto& cond : at(status, {"conditions"}).is_array() ? at(status, {"conditions"}) : Json::array())
    if (cond.value("type", "") == type && cond.value("status", "") == "True") return true;
  return false;
}

// An init container with restartPolicy Always (a sidecar).
bool restartable_init(const Json& pod, const std::string& name) {
  const Json& list = at(pod, {"spec", "initContainers"});
  if (!list.is_array()) return false;
  for (const auto& c : list)
    if (c.value("name", "") == name) return text(c.value("restartPolicy", Json())) == "Always";
  return false;
}

struct PodSummary {
  std::string reason;
  int ready = 0, total = 0;
  std::int64_t restarts = 0;
  std::optional<Clock::time_point> last_restart;
};

// printPod (kubectl's printers, v1.30): the status reason from the phase, then the init
// containers' (Init:N/M, Init:<reason>), then, once initialized, the containers' reasons.
PodSummary summarize_pod(const Json& pod) {
  PodSummary out;
  const auto& status = at(pod, {"status"});
  std::string& reason = out.reason;
  reason = text(at(status, {"phase"}), "Pending");
  if (!text(at(status, {"reason"})).empty()) reason = text(at(status, {"reason"}));
  out.total = at(pod, {"spec", "containers"}).is_array() ? int(at(pod, {"spec", "containers"}).size()) : 0;
  const Json& init_specs = at(pod, {"spec", "initContainers"});
  const int init_total = init_specs.is_array() ? int(init_specs.size()) : 0;
  if (init_specs.is_array())
    for (const auto& c : init_specs)
      if (text(c.value("restartPolicy", Json())) == "Always") ++out.total;
  auto finished_at = [](const Json& c) { return parse_time(at(c, {"lastState", "terminated", "finishedAt"})); };

  std::int64_t sidecar_restarts = 0;
  std::optional<Clock::time_point> sidecar_last_restart;
  bool initializing = false;
  const auto& init_statuses = at(status, {"initContainerStatuses"});
  if (init_statuses.is_array()) {
    for (std::size_t i = 0; i < init_statuses.size(); ++i) {
      const auto& c = init_statuses[i];
      const std::string name = c.value("name", "");
      const bool sidecar = restartable_init(pod, name);
      out.restarts += integer(c.value("restartCount", Json()));
      if (auto t = finished_at(c); t && (!out.last_restart || *t > *out.last_restart)) out.last_restart = t;
      if (sidecar) {
        sidecar_restarts += integer(c.value("restartCount", Json()));
        if (auto t = finished_at(c); t && (!sidecar_last_restart || *t > *sidecar_last_restart)) sidecar_last_restart = t;
      }
      const auto& terminated = at(c, {"state", "terminated"});
      const auto& waiting = at(c, {"state", "waiting"});
      if (terminated.is_object() && integer(terminated.value("exitCode", Json())) == 0) continue;
      if (sidecar && c.value("started", false)) {
        if (c.value("ready", false)) ++out.ready;
        continue;
      }
      if (terminated.is_object()) {
        // initialization failed
        if (text(terminated.value("reason", Json())).empty()) {
          const auto signal = integer(terminated.value("signal", Json()));
          reason = signal != 0 ? "Init:Signal:" + std::to_string(signal)
                               : "Init:ExitCode:" + std::to_string(integer(terminated.value("exitCode", Json())));
        } else {
          reason = "Init:" + text(terminated["reason"]);
        }
      } else if (waiting.is_object() && !text(waiting.value("reason", Json())).empty() &&
                 text(waiting["reason"]) != "PodInitializing") {
        reason = "Init:" + text(waiting["reason"]);
      } else {
        reason = "Init:" + std::to_string(i) + "/" + std::to_string(init_total);
      }
      initializing = true;
      break;
    }
  }

  if (!initializing || condition_true(status, "Initialized")) {
    out.restarts = sidecar_restarts;
    out.last_restart = sidecar_last_restart;
    bool running = false;
    const auto& statuses = at(status, {"containerStatuses"});
    if (statuses.is_array()) {
      for (auto it = statuses.rbegin(); it != statuses.rend(); ++it) {
        const auto& c = *it;
        out.restarts += integer(c.value("restartCount", Json()));
        if (auto t = finished_at(c); t && (!out.last_restart || *t > *out.last_restart)) out.last_restart = t;
        const auto& waiting = at(c, {"state", "waiting"});
        const auto& terminated = at(c, {"state", "terminated"});
        if (!text(at(waiting, {"reason"})).empty()) {
          reason = text(at(waiting, {"reason"}));
        } else if (!text(at(terminated, {"reason"})).empty()) {
          reason = text(at(terminated, {"reason"}));
        } else if (terminated.is_object()) {
          const auto signal = integer(terminated.value("signal", Json()));
          reason = signal != 0 ? "Signal:" + std::to_string(signal)
                               : "ExitCode:" + std::to_string(integer(terminated.value("exitCode", Json())));
        } else if (c.value("ready", false) && at(c, {"state", "running"}).is_object()) {
          running = true;
          ++out.ready;
        }
      }
    }
    if (reason == "Completed" && running) reason = condition_true(status, "Ready") ? "Running" : "NotReady";
  }
  if (!metadata_of(pod).value("deletionTimestamp", Json()).is_null())
    reason = text(at(status, {"reason"})) == "NodeLost" ? "Unknown" : "Terminating";
  return out;
}

Json pod_row(const Json& pod, Clock::time_point now) {
  const PodSummary s = summarize_pod(pod);
  const auto& status = at(pod, {"status"});
  Json restarts_cell = s.restarts;
  if (s.restarts > 0 && s.last_restart)
    restarts_cell = std::to_string(s.restarts) + " (" +
                    human_duration(std::chrono::duration_cast<std::chrono::seconds>(now - *s.last_restart)) + " ago)";
  return {name_of(pod),
          std::to_string(s.ready) + "/" + std::to_string(s.total),
          s.reason,
          restarts_cell,
          object_age(pod, now),
          or_none(text(at(status, {"podIP"}))),
          or_none(text(at(pod, {"spec", "nodeName"}))),
          or_none(text(at(status, {"nominatedNodeName"}))),
          "<none>"};
}

std::string service_ports(const Json& svc) {
  std::vector<std::string> parts;
  for (const auto& p : at(svc, {"spec", "ports"}).is_array() ? at(svc, {"spec", "ports"}) : Json::array()) {
    std::string part = std::to_string(integer(p.value("port", Json())));
    if (p.contains("nodePort")) part += ":" + std::to_string(integer(p["nodePort"]));
    parts.push_back(part + "/" + p.value("protocol", "TCP"));
  }
  return parts.empty() ? "<none>" : join(parts);
}

std::string external_ip(const Json& svc) {
  const std::string type = text(at(svc, {"spec", "type"}), "ClusterIP");
  std::vector<std::string> ips;
  for (const auto& ip : at(svc, {"spec", "externalIPs"}).is_array() ? at(svc, {"spec", "externalIPs"}) : Json::array())
    ips.push_back(text(ip));
  if (type == "LoadBalancer") {
    for (const auto& i : at(svc, {"status", "loadBalancer", "ingress"}).is_array()
                             ? at(svc, {"status", "loadBalancer", "ingress"})
                             : Json::array())
      ips.push_back(i.contains("ip") ? text(i["ip"]) : text(i.value("hostname", Json())));
    return ips.empty() ? "<pending>" : join(ips);
  }
  if (type == "ExternalName") return text(at(svc, {"spec", "externalName"}));
  return ips.empty() ? "<none>" : join(ips);
}

std::string endpoints_text(const Json& ep) {
  std::vector<std::string> all;
  std::size_t count = 0;
  for (const auto& subset : at(ep, {"subsets"}).is_array() ? at(ep, {"subsets"}) : Json::array()) {
    const Json& ports = subset.value("ports", Json::array());
    for (const auto& a : subset.value("addresses", Json::array())) {
      if (ports.empty()) {
        ++count;
        if (all.size() < 3) all.push_back(a.value("ip", ""));
      }
      for (const auto& p : ports) {
        ++count;
        if (all.size() < 3) all.push_back(a.value("ip", "") + ":" + std::to_string(integer(p.value("port", Json()))));
      }
    }
  }
  if (all.empty()) return "<none>";
  std::string out = join(all);
  if (count > all.size()) out += " + " + std::to_string(count - all.size()) + " more...";
  return out;
}

std::string hpa_targets(const Json& hpa) {
  const auto& metrics = at(hpa, {"spec", "metrics"});
  const auto& current = at(hpa, {"status", "currentMetrics"});
  if (!metrics.is_array() || metrics.empty()) return "<none>";
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    const auto& m = metrics[i];
    const std::string type = m.value("type", "");
    if (type != "Resource" && type != "ContainerResource") {
      parts.push_back(type + ": <unsupported>");
      continue;
    }
    const char* source = type == "Resource" ? "resource" : "containerResource";
    const auto& target = at(m, {source, "target"});
    const Json* cur = nullptr;
    if (current.is_array() && i < current.size()) cur = &at(current[i], {source, "current"});
    std::string have = "<unknown>", want;
    if (target.value("type", "") == "Utilization") {
      want = std::to_string(integer(target.value("averageUtilization", Json()))) + "%";
      if (cur && cur->contains("averageUtilization")) have = std::to_string(integer((*cur)["averageUtilization"])) + "%";
    } else {
      const char* field = target.value("type", "") == "Value" ? "value" : "averageValue";
      want = text(target.value(field, Json()), target.value(field, Json()).dump());
      if (cur && cur->contains(field)) have = text((*cur)[field], (*cur)[field].dump());
    }
    parts.push_back(text(at(m, {source, "name"})) + ": " + have + "/" + want);
  }
  std::string out;
  for (std::size_t i = 0; i < parts.size() && i < 2; ++i) out += (i ? ", " : "") + parts[i];
  if (parts.size() > 2) out += " + " + std::to_string(parts.size() - 2) + " more...";
  return out;
}

std::string node_status(const Json& node) {
  std::string ready = "Unknown";
  for (const auto& c : at(node, {"status", "conditions"}).is_array() ? at(node, {"status", "conditions"}) : Json::array())
    if (c.value("type", "") == "Ready") ready = c.value("status", "") == "True" ? "Ready" : "NotReady";
  if (at(node, {"spec", "unschedulable"}) == true) ready += ",SchedulingDisabled";
  return ready;
}

std::string node_roles(const Json& node) {
  std::vector<std::string> roles;
  const auto& labels = at(node, {"metadata", "labels"});
  if (labels.is_object())
    for (const auto& [k, v] : labels.items())
      if (k.rfind("node-role.kubernetes.io/", 0) == 0) roles.push_back(k.substr(24));
  return roles.empty() ? "<none>" : join(roles);
}

std::string node_address(const Json& node, const std::string& type) {
  for (const auto& a : at(node, {"status", "addresses"}).is_array() ? at(node, {"status", "addresses"}) : Json::array())
    if (a.value("type", "") == type) return a.value("address", "");
  return "<none>";
}

std::string event_object(const Json& ev) {
  std::string kind = text(at(ev, {"involvedObject", "kind"}));
  for (auto& ch : kind) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return kind + "/" + text(at(ev, {"involvedObject", "name"}));
}

Json event_time(const Json& ev, const char* field) {
  const Json& t = at(ev, {field});
  if (t.is_string()) return t;
  return at(ev, {"eventTime"});
}

struct Printer {
  std::vector<Column> columns;
  std::function<Json(const Json&, Clock::time_point)> row;
};

Printer printer_for(const ResourceInfo& r) {
  const Column name{"Name", "string", "name", 0};
  const Column age_col{"Age", "string", "", 0};
  const std::string res = r.store_name();
  if (res == "pods")
    return {{name, {"Ready", "string", "", 0}, {"Status", "string", "", 0}, {"Restarts", "string", "", 0}, age_col,
             {"IP", "string", "", 1}, {"Node", "string", "", 1}, {"Nominated Node", "string", "", 1},
             {"Readiness Gates", "string", "", 1}},
            pod_row};
  if (res == "deployments.apps")
    return {{name, {"Ready", "string", "", 0}, {"Up-to-date", "integer", "", 0}, {"Available", "integer", "", 0},
             age_col, {"Containers", "string", "", 1}, {"Images", "string", "", 1}, {"Selector", "string", "", 1}},
            [](const Json& d, Clock::time_point now) {
              auto [containers, images] = containers_and_images(at(d, {"spec", "template", "spec"}));
              return Json{name_of(d),
                          std::to_string(integer(at(d, {"status", "readyReplicas"}))) + "/" +
                              std::to_string(integer(at(d, {"spec", "replicas"}), 1)),
                          integer(at(d, {"status", "updatedReplicas"})), integer(at(d, {"status", "availableReplicas"})),
                          object_age(d, now), containers, images, selector_text(at(d, {"spec", "selector"}))};
            }};
  if (res == "replicasets.apps")
    return {{name, {"Desired", "integer", "", 0}, {"Current", "integer", "", 0}, {"Ready", "integer", "", 0}, age_col,
             {"Containers", "string", "", 1}, {"Images", "string", "", 1}, {"Selector", "string", "", 1}},
            [](const Json& d, Clock::time_point now) {
              auto [containers, images] = containers_and_images(at(d, {"spec", "template", "spec"}));
              return Json{name_of(d), integer(at(d, {"spec", "replicas"}), 1), integer(at(d, {"status", "replicas"})),
                          integer(at(d, {"status", "readyReplicas"})), object_age(d, now), containers, images,
                          selector_text(at(d, {"spec", "selector"}))};
            }};
  if (res == "statefulsets.apps")
    return {{name, {"Ready", "string", "", 0}, age_col, {"Containers", "string", "", 1}, {"Images", "string", "", 1}},
            [](const Json& d, Clock::time_point now) {
              auto [containers, images] = containers_and_images(at(d, {"spec", "template", "spec"}));
              return Json{name_of(d),
                          std::to_string(integer(at(d, {"status", "readyReplicas"}))) + "/" +
                              std::to_string(integer(at(d, {"spec", "replicas"}), 1)),
                          object_age(d, now), containers, images};
            }};
  if (res == "services")
    return {{name, {"Type", "string", "", 0}, {"Cluster-IP", "string", "", 0}, {"External-IP", "string", "", 0},
             {"Port(s)", "string", "", 0}, age_col, {"Selector", "string", "", 1}},
            [](const Json& s, Clock::time_point now) {
              return Json{name_of(s), text(at(s, {"spec", "type"}), "ClusterIP"),
                          or_none(text(at(s, {"spec", "clusterIP"}))), external_ip(s), service_ports(s),
                          object_age(s, now), map_selector_text(at(s, {"spec", "selector"}))};
            }};
  if (res == "endpoints")
    return {{name, {"Endpoints", "string", "", 0}, age_col}, [](const Json& e, Clock::time_point now) {
              return Json{name_of(e), endpoints_text(e), object_age(e, now)};
            }};
  if (res == "horizontalpodautoscalers.autoscaling")
    return {{name, {"Reference", "string", "", 0}, {"Targets", "string", "", 0}, {"MinPods", "string", "", 0},
             {"MaxPods", "string", "", 0}, {"Replicas", "string", "", 0}, age_col},
            [](const Json& h, Clock::time_point now) {
              const auto& ref = at(h, {"spec", "scaleTargetRef"});
              return Json{name_of(h),
                          text(at(ref, {"kind"})) + "/" + text(at(ref, {"name"})),
                          hpa_targets(h),
                          integer(at(h, {"spec", "minReplicas"}), 1),
                          integer(at(h, {"spec", "maxReplicas"})),
                          integer(at(h, {"status", "currentReplicas"})),
                          object_age(h, now)};
            }};
  if (res == "events")
    return {{{"Last Seen", "string", "", 0}, {"Type", "string", "", 0}, {"Reason", "string", "", 0},
             {"Object", "string", "", 0}, {"Subobject", "string", "", 1}, {"Source", "string", "", 1},
             {"Message", "string", "", 0}, {"First Seen", "string", "", 1}, {"Count", "integer", "", 1},
             {"Name", "string", "name", 1}},
            [](const Json& e, Clock::time_point now) {
              const std::string component = text(at(e, {"source", "component"}), text(at(e, {"reportingComponent"})));
              return Json{age(event_time(e, "lastTimestamp"), now),
                          text(at(e, {"type"})),
                          text(at(e, {"reason"})),
                          event_object(e),
                          text(at(e, {"involvedObject", "fieldPath"})),
                          component,
                          text(at(e, {"message"})),
                          age(event_time(e, "firstTimestamp"), now),
                          integer(at(e, {"count"}), 1),
                          name_of(e)};
            }};
  if (res == "configmaps")
    return {{name, {"Data", "integer", "", 0}, age_col}, [](const Json& c, Clock::time_point now) {
              std::size_t n = (at(c, {"data"}).is_object() ? at(c, {"data"}).size() : 0) +
                              (at(c, {"binaryData"}).is_object() ? at(c, {"binaryData"}).size() : 0);
              return Json{name_of(c), n, object_age(c, now)};
            }};
  if (res == "secrets")
    return {{name, {"Type", "string", "", 0}, {"Data", "integer", "", 0}, age_col},
            [](const Json& s, Clock::time_point now) {
              std::size_t n = at(s, {"data"}).is_object() ? at(s, {"data"}).size() : 0;
              return Json{name_of(s), text(at(s, {"type"}), "Opaque"), n, object_age(s, now)};
            }};
  if (res == "namespaces")
    return {{name, {"Status", "string", "", 0}, age_col}, [](const Json& n, Clock::time_point now) {
              return Json{name_of(n), text(at(n, {"status", "phase"}), "Active"), object_age(n, now)};
            }};
  if (res == "nodes")
    return {{name, {"Status", "string", "", 0}, {"Roles", "string", "", 0}, age_col, {"Version", "string", "", 0},
             {"Internal-IP", "string", "", 1}, {"External-IP", "string", "", 1}, {"OS-Image", "string", "", 1},
             {"Kernel-Version", "string", "", 1}, {"Container-Runtime", "string", "", 1}},
            [](const Json& n, Clock::time_point now) {
              const auto& info = at(n, {"status", "nodeInfo"});
              return Json{name_of(n),
                          node_status(n),
                          node_roles(n),
                          object_age(n, now),
                          text(at(info, {"kubeletVersion"})),
                          node_address(n, "InternalIP"),
                          node_address(n, "ExternalIP"),
                          or_none(text(at(info, {"osImage"}))),
                          or_none(text(at(info, {"kernelVersion"}))),
                          or_none(text(at(info, {"containerRuntimeVersion"})))};
            }};
  if (r.group == "chaos-mesh.org")
    return {{name, {"Action", "string", "", 0}, {"Duration", "string", "", 0}, age_col},
            [](const Json& c, Clock::time_point now) {
              return Json{name_of(c), text(at(c, {"spec", "action"})), text(at(c, {"spec", "duration"})),
                          object_age(c, now)};
            }};
  return {{name, {"Created At", "date", "", 0}}, [](const Json& o, Clock::time_point) {
            return Json{name_of(o), metadata_of(o).value("creationTimestamp", Json())};
          }};
}

}  // namespace

std::string human_duration(std::chrono::seconds elapsed) {
  const long long seconds = elapsed.count();
  auto f = [](long long a, const char* ua, long long b = 0, const char* ub = "") {
    return std::to_string(a) + ua + (b != 0 ? std::to_string(b) + ub : "");
  };
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return f(seconds, "s");
  const long long minutes = seconds / 60;
  if (minutes < 10) return f(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return f(minutes, "m");
  const long long hours = seconds / 3600;
  if (hours < 8) return f(hours, "h", minutes % 60, "m");
  if (hours < 48) return f(hours, "h");
  if (hours < 24 * 8) return f(hours / 24, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return f(hours / 24, "d");
  if (hours < 24 * 365 * 8) return f(hours / 24 / 365, "y", (hours / 24) % 365, "d");
  return f(hours / 24 / 365, "y");
}

Json partial_metadata(const Json& object, const std::string& meta_version) {
  return {{"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/" + meta_version},
          {"metadata", metadata_of(object)}};
}

Json build_table(const ResourceInfo& r, const std::vector<Json>& objects, const std::string& meta_version,
                 IncludeObject include, Clock::time_point now) {
  const Printer p = printer_for(r);
  Json columns = Json::array();
  for (const auto& c : p.columns)
    columns.push_back({{"name", c.name}, {"type", c.type}, {"format", c.format}, {"description", ""},
                       {"priority", c.priority}});
  Json rows = Json::array();
  for (const auto& o : objects) {
    Json row{{"cells", p.row(o, now)}};
    if (include == IncludeObject::metadata) row["object"] = partial_metadata(o, meta_version);
    else if (include == IncludeObject::object) row["object"] = o;
    rows.push_back(std::move(row));
  }
  return {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/" + meta_version}, {"metadata", Json::object()},
          {"columnDefinitions", columns}, {"rows", rows}};
}

std::string pod_status_text(const Json& pod) { return summarize_pod(pod).reason; }

}  // namespace mambogo::sim::api
