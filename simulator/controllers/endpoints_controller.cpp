#include "controllers/endpoints_controller.h"

#include "controllers/object_util.h"
#include "objects/selector.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

namespace mambogo::sim {
namespace {

constexpr const char* kResource = "endpoints";

// ShouldPodBeInEndpoints: an IP, not terminal, not terminating.
bool serves(const Json& pod) {
  if (ctl::is_deleting(pod)) return false;
  const Json status = pod.value("status", Json::object());
  if (status.value("podIP", "").empty()) return false;
  const std::string phase = status.value("phase", "");
  return phase != "Failed" && phase != "Succeeded";
}

// The pod's port for a Service port: targetPort number, a named container port, or port.
std::optional<int> resolve_port(const Json& service_port, const Json& pod) {
  const Json target = service_port.contains("targetPort") ? service_port["targetPort"] : service_port.value("port", Json());
  if (target.is_number_integer()) return target.get<int>();
  if (target.is_string()) {
    const std::string name = target.get<std::string>();
    try {
      std::size_t used = 0;
      const int number = std::stoi(name, &used);
      if (used == name.size()) return number;
    } catch (const std::exception&) {
    }
    const std::string protocol = service_port.value("protocol", "TCP");
    for (const Json& c : pod.value("spec", Json::object()).value("containers", Json::array()))
      for (const Json& p : c.value("ports", Json::array()))
        if (p.value("name", "") == name && p.value("protocol", "TCP") == protocol) return p.value("containerPort", 0);
  }
  return std::nullopt;
}

Json address_of(const Json& pod, const Json& service) {
  const Json status = pod.value("status", Json::object());
  const Json spec = pod.value("spec", Json::object());
  Json address{{"ip", status.value("podIP", "")},
               {"targetRef",
                {{"kind", "Pod"}, {"namespace", namespace_of(pod)}, {"name", name_of(pod)}, {"uid", ctl::uid_of(pod)}}}};
  if (!spec.value("nodeName", "").empty()) address["nodeName"] = spec["nodeName"];
  if (!spec.value("hostname", "").empty() && spec.value("subdomain", "") == name_of(service))
    address["hostname"] = spec["hostname"];
  return address;
}

}  // namespace

Json endpoints_subsets(const Json& service, const std::vector<Json>& pods) {
  const Json spec = service.value("spec", Json::object());
  const LabelSelector selector = LabelSelector::from_map(spec.value("selector", Json::object()));
  const bool publish_not_ready = spec.value("publishNotReadyAddresses", false);
  // Subsets group the addresses that share one resolved port list (RepackSubsets).
  std::map<std::string, std::pair<Json, std::pair<Json, Json>>> by_ports;  // ports dump → (ports, (ready, not ready))
  for (const Json& pod : pods) {
    if (!selector.matches(metadata_of(pod).value("labels", Json::object())) || !serves(pod)) continue;
    Json ports = Json::array();
    for (const Json& sp : spec.value("ports", Json::array())) {
      auto port = resolve_port(sp, pod);
      if (!port) continue;
      Json p{{"port", *port}, {"protocol", sp.value("protocol", "TCP")}};
      if (sp.contains("name") && !sp["name"].get<std::string>().empty()) p["name"] = sp["name"];
      if (sp.contains("appProtocol")) p["appProtocol"] = sp["appProtocol"];
      ports.push_back(p);
    }
    if (ports.empty() && !spec.value("ports", Json::array()).empty()) continue;
    auto& entry = by_ports[ports.dump()];
    entry.first = ports;
    const bool ready = publish_not_ready || ctl::is_pod_ready(pod);
    Json& list = ready ? entry.second.first : entry.second.second;
    if (list.is_null()) list = Json::array();
    list.push_back(address_of(pod, service));
  }
  Json subsets = Json::array();
  auto by_ip = [](const Json& a, const Json& b) { return a["ip"].get<std::string>() < b["ip"].get<std::string>(); };
  for (auto& [key, entry] : by_ports) {
    Json subset = Json::object();
    auto& [ready, not_ready] = entry.second;
    if (!ready.is_null()) {
      std::sort(ready.begin(), ready.end(), by_ip);
      subset["addresses"] = ready;
    }
    if (!not_ready.is_null()) {
      std::sort(not_ready.begin(), not_ready.end(), by_ip);
      subset["notReadyAddresses"] = not_ready;
    }
    if (!entry.first.empty()) subset["ports"] = entry.first;
    subsets.push_back(subset);
  }
  return subsets;
}

EndpointsController::EndpointsController(Store& store, Options options)
    : store_(store),
      options_(options),
      loop_("endpoints-controller", options.resync, [this] { return list_keys(); },
            [this](const ctl::Key& key) { sync(key); }) {}

EndpointsController::~EndpointsController() { stop(); }

void EndpointsController::start() {
  if (!watches_.empty()) return;
  watches_.push_back(store_.watch("services", "", 0, [this](const WatchEvent& e) { loop_.enqueue(ref_of("services", e.object)); }));
  watches_.push_back(store_.watch(kResource, "", 0, [this](const WatchEvent& e) { loop_.enqueue(ref_of("services", e.object)); }));
  // A pod change may concern any Service of its namespace (old labels are not in the event):
  // one namespace-wide key, expanded by the worker.
  watches_.push_back(store_.watch("pods", "", 0, [this](const WatchEvent& e) { loop_.enqueue({"services", namespace_of(e.object), ""}); }));
  loop_.start();
}

void EndpointsController::stop() {
  for (auto id : watches_) store_.unwatch(id);
  watches_.clear();
  loop_.stop();
}

std::vector<ctl::Key> EndpointsController::list_keys() const {
  std::vector<ctl::Key> keys;
  for (const Json& s : store_.list("services").items) keys.push_back(ref_of("services", s));
  for (const Json& e : store_.list(kResource).items) keys.push_back(ref_of("services", e));  // orphans too
  return keys;
}

void EndpointsController::sync(const ctl::Key& key) {
  if (key.name.empty()) {
    for (const Json& s : store_.list("services", key.ns).items) sync(ref_of("services", s));
    return;
  }
  const ObjectRef endpoints_ref{kResource, key.ns, key.name};
  auto service = store_.get(key);
  if (!service) {
    // The Service is gone: so are its Endpoints (unless someone manages them by hand elsewhere).
    try {
      store_.remove(endpoints_ref);
    } catch (const StoreError& e) {
      if (e.reason() != StoreError::Reason::not_found) throw;
    }
    return;
  }
  const Json selector = service->value("spec", Json::object()).value("selector", Json());
  if (!selector.is_object() || selector.empty()) return;  // endpoints without a selector are user-managed
  Json subsets;
  try {
    subsets = endpoints_subsets(*service, store_.list("pods", key.ns).items);
  } catch (const std::invalid_argument& e) {
    spdlog::warn("endpoints-controller: service {}/{}: {}", key.ns, key.name, e.what());
    return;
  }
  const Json labels = metadata_of(*service).value("labels", Json::object());
  try {
    store_.mutate(endpoints_ref, [&](Json& ep) {
      if (subsets.empty()) ep.erase("subsets");
      else ep["subsets"] = subsets;
      if (!labels.empty()) ep["metadata"]["labels"] = labels;
    });
  } catch (const StoreError& e) {
    if (e.reason() != StoreError::Reason::not_found) throw;
    Json ep{{"apiVersion", "v1"}, {"kind", "Endpoints"}, {"metadata", {{"name", key.name}, {"namespace", key.ns}}}};
    if (!labels.empty()) ep["metadata"]["labels"] = labels;
    if (!subsets.empty()) ep["subsets"] = subsets;
    store_.create(kResource, ep);
  }
}

}  // namespace mambogo::sim
