#include "pods/chaos.h"

#include "objects/names.h"
#include "objects/selector.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <random>

namespace mambogo::sim {

namespace {

const char* const kPodChaos = "podchaos.chaos-mesh.org";
const char* const kStressChaos = "stresschaos.chaos-mesh.org";

std::string str(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text) {
  std::tm tm{};
  if (!::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

std::mt19937& rng() {
  thread_local std::mt19937 engine{std::random_device{}()};
  return engine;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_go_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t used = 0;
    double number;
    try {
      number = std::stod(text.substr(i), &used);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (number < 0 || text[i] == '+' || text[i] == '-') return std::nullopt;
    i += used;
    std::size_t end = i;
    while (end < text.size() && std::isalpha(static_cast<unsigned char>(text[end]))) ++end;
    const std::string unit = text.substr(i, end - i);
    i = end;
    static const std::map<std::string, double> units = {{"ns", 1e-6}, {"us", 1e-3}, {"µs", 1e-3}, {"ms", 1},
                                                        {"s", 1e3},   {"m", 6e4},   {"h", 3.6e6}};
    auto it = units.find(unit);
    if (it == units.end()) return std::nullopt;
    total_ms += number * it->second;
  }
  return std::chrono::milliseconds(static_cast<long long>(std::llround(total_ms)));
}

std::size_t chaos_target_count(const std::string& mode, const std::string& value, std::size_t candidates,
                               int random_percent) {
  auto number = [&]() -> long {
    try {
      std::size_t used = 0;
      const long n = std::stol(value, &used);
      if (used != value.size() || n < 0) throw std::invalid_argument("");
      return n;
    } catch (const std::exception&) {
      throw std::invalid_argument("chaos mode " + mode + ": value \"" + value + "\" is not a non-negative integer");
    }
  };
  const auto percent_of = [&](long percent) {
    if (percent > 100) throw std::invalid_argument("chaos mode " + mode + ": value " + value + " is over 100");
    return static_cast<std::size_t>(std::floor(static_cast<double>(candidates) * static_cast<double>(percent) / 100.0));
  };
  if (mode == "one") return std::min<std::size_t>(1, candidates);
  if (mode == "all" || mode.empty()) return candidates;
  if (mode == "fixed") return std::min<std::size_t>(static_cast<std::size_t>(number()), candidates);
  if (mode == "fixed-percent") return percent_of(number());
  if (mode == "random-max-percent") {
    const long max = number();
    percent_of(max);
    return percent_of(std::min<long>(random_percent, max));
  }
  throw std::invalid_argument("unknown chaos mode \"" + mode + "\" (one, all, fixed, fixed-percent, random-max-percent)");
}

PodChaosController::PodChaosController(Store& store, Kubelet& kubelet, ChaosOptions options)
    : store_(store), kubelet_(kubelet), options_(options) {}

PodChaosController::~PodChaosController() { stop(); }

void PodChaosController::start() {
  {
    std::lock_guard lock(mutex_);
    if (running_) return;
    running_ = true;
  }
  for (const char* resource : {kPodChaos, kStressChaos}) {
    watch_ids_.push_back(store_.watch(resource, "", 0, [this](const WatchEvent& e) {
      std::lock_guard lock(mutex_);
      events_.push_back({e.type, e.resource, e.object});
      wake_.notify_all();
    }));
    std::lock_guard lock(mutex_);
    for (auto& object : store_.list(resource).items) events_.push_back({EventType::added, resource, std::move(object)});
  }
  thread_ = std::thread([this] { loop(); });
}

void PodChaosController::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_ || stopping_) return;
    stopping_ = true;
    wake_.notify_all();
  }
  for (auto id : watch_ids_) store_.unwatch(id);
  if (thread_.joinable()) thread_.join();
  for (auto& [uid, e] : experiments_) recover(e, false);
}

void PodChaosController::loop() {
  while (true) {
    std::deque<Event> events;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.period, [&] { return stopping_ || !events_.empty(); });
      if (stopping_) return;
      events.swap(events_);
    }
    for (const auto& e : events) handle(e);
    const auto now = std::chrono::system_clock::now();
    for (auto& [uid, e] : experiments_)
      if (!e.recovered && e.deadline && now >= *e.deadline) recover(e, true);
  }
}

void PodChaosController::handle(const Event& event) {
  const std::string uid = str(metadata_of(event.object), "uid");
  auto it = experiments_.find(uid);
  if (event.type == EventType::deleted) {
    if (it != experiments_.end()) {
      recover(it->second, false);
      experiments_.erase(it);
    }
    return;
  }
  if (it == experiments_.end()) begin(event.resource, event.object);
}

void PodChaosController::begin(const std::string& resource, const Json& object) {
  Experiment e;
  e.resource = resource;
  e.ns = namespace_of(object);
  e.name = name_of(object);
  e.uid = str(metadata_of(object), "uid");
  e.spec = object.value("spec", Json::object());
  if (auto duration = str(e.spec, "duration"); !duration.empty()) {
    const auto created = parse_rfc3339(str(metadata_of(object), "creationTimestamp"));
    if (auto d = parse_go_duration(duration))
      e.deadline = created.value_or(std::chrono::system_clock::now()) + *d;
  }
  const Json experiment = object.value("status", Json::object()).value("experiment", Json::object());
  const Json records = experiment.value("containerRecords", Json::array());
  if (!records.empty()) {
    // Seen before (a restarted mambogo-cluster): keep the recorded targets; re-apply what
    // lives only in the node (failures, burners), never repeat a kill.
    e.recovered = str(experiment, "desiredPhase") == "Stop";
    for (const auto& r : records) {
      const std::string id = str(r, "id");
      const auto slash = id.find('/');
      if (slash == std::string::npos) continue;
      Target t{id.substr(0, slash), id.substr(slash + 1), "", str(r, "phase") == "Recovered"};
      const std::string action = str(e.spec, "action");
      if (!e.recovered && !t.recovered && (resource == kStressChaos || action == "pod-failure")) inject(e, t);
      e.targets.push_back(t);
    }
    experiments_[e.uid] = std::move(e);
    return;
  }
  try {
    e.targets = select(e);
  } catch (const std::invalid_argument& error) {
    experiments_[e.uid] = e;
    try {
      store_.mutate({resource, e.ns, e.name}, [&](Json& o) {
        o["status"]["conditions"] = Json::array({{{"type", "Selected"}, {"status", "False"}, {"reason", "Failed"},
                                                 {"message", error.what()}}});
      });
    } catch (const StoreError&) {
    }
    return;
  }
  if (e.deadline && std::chrono::system_clock::now() >= *e.deadline) e.recovered = true;
  else
    for (auto& t : e.targets) inject(e, t);
  write_status(e);
  experiments_[e.uid] = std::move(e);
}

std::vector<PodChaosController::Target> PodChaosController::select(const Experiment& e) {
  const Json selector = e.spec.value("selector", Json::object());
  std::vector<Json> candidates;
  auto usable = [](const Json& pod) {
    const std::string phase = str(pod.value("status", Json::object()), "phase");
    return str(pod.value("spec", Json::object()), "nodeName") == kNodeName &&
           !metadata_of(pod).contains("deletionTimestamp") && phase != "Succeeded" && phase != "Failed";
  };
  if (selector.contains("pods") && selector["pods"].is_object()) {
    for (auto it = selector["pods"].begin(); it != selector["pods"].end(); ++it)
      for (const auto& name : it.value())
        if (auto pod = store_.get({"pods", it.key(), name.get<std::string>()}); pod && usable(*pod))
          candidates.push_back(*pod);
  } else {
    std::vector<std::string> namespaces;
    for (const auto& ns : selector.value("namespaces", Json::array())) namespaces.push_back(ns.get<std::string>());
    if (namespaces.empty()) namespaces.push_back(e.ns);
    const LabelSelector labels = LabelSelector::from_json(
        {{"matchLabels", selector.value("labelSelectors", Json::object())},
         {"matchExpressions", selector.value("expressionSelectors", Json::array())}});
    for (const auto& ns : namespaces)
      for (auto& pod : store_.list("pods", ns).items)
        if (usable(pod) && labels.matches(metadata_of(pod).value("labels", Json::object())))
          candidates.push_back(std::move(pod));
  }
  const std::string value = e.spec.contains("value") ? (e.spec["value"].is_string() ? e.spec["value"].get<std::string>()
                                                                                      : e.spec["value"].dump())
                                                     : "";
  std::uniform_int_distribution<int> percent(0, 100);
  const std::size_t count = chaos_target_count(str(e.spec, "mode"), value, candidates.size(), percent(rng()));
  std::shuffle(candidates.begin(), candidates.end(), rng());
  candidates.resize(count);
  std::vector<Target> targets;
  for (const auto& pod : candidates)
    targets.push_back({namespace_of(pod), name_of(pod), str(metadata_of(pod), "uid"), false});
  std::sort(targets.begin(), targets.end(), [](const Target& a, const Target& b) {
    return std::tie(a.ns, a.pod) < std::tie(b.ns, b.pod);
  });
  return targets;
}

void PodChaosController::inject(Experiment& e, Target& t) {
  const std::string who = (e.resource == kPodChaos ? "PodChaos " : "StressChaos ") + e.ns + "/" + e.name;
  std::vector<std::string> containers;
  for (const auto& c : e.spec.value("containerNames", Json::array())) containers.push_back(c.get<std::string>());
  if (e.resource == kStressChaos) {
    const Json cpu = e.spec.value("stressors", Json::object()).value("cpu", Json::object());
    const int workers = cpu.value("workers", 1);
    const int load = cpu.value("load", 100);
    if (containers.empty()) containers.push_back("");
    for (const auto& c : containers) kubelet_.set_cpu_stress(t.ns, t.pod, c, workers, load);
    return;
  }
  const std::string action = str(e.spec, "action");
  if (action == "pod-kill") {
    const long grace = e.spec.value("gracePeriod", 0L);
    try {
      if (grace <= 0) {
        store_.remove({"pods", t.ns, t.pod}, t.uid.empty() ? std::nullopt : std::optional<std::string>(t.uid));
      } else {
        store_.mutate({"pods", t.ns, t.pod}, [&](Json& pod) {
          if (metadata_of(pod).contains("deletionTimestamp")) return;
          pod["metadata"]["deletionTimestamp"] = now_rfc3339();
          pod["metadata"]["deletionGracePeriodSeconds"] = grace;
        });
      }
    } catch (const StoreError&) {
      // Already gone.
    }
  } else if (action == "container-kill") {
    kubelet_.kill_containers(t.ns, t.pod, containers);
  } else if (action == "pod-failure") {
    kubelet_.set_pod_failure(t.ns, t.pod, true, "container stopped by " + who + " (pod-failure)");
  }
}

void PodChaosController::recover(Experiment& e, bool status) {
  if (e.recovered) return;
  const std::string action = str(e.spec, "action");
  for (auto& t : e.targets) {
    if (t.recovered) continue;
    if (e.resource == kStressChaos) kubelet_.set_cpu_stress(t.ns, t.pod, "", 0, 0);
    else if (action == "pod-failure") kubelet_.set_pod_failure(t.ns, t.pod, false, "");
    t.recovered = true;
  }
  if (e.resource == kStressChaos) {
    for (const auto& c : e.spec.value("containerNames", Json::array()))
      for (auto& t : e.targets) kubelet_.set_cpu_stress(t.ns, t.pod, c.get<std::string>(), 0, 0);
  }
  e.recovered = true;
  if (status) write_status(e);
}

void PodChaosController::write_status(const Experiment& e) {
  Json records = Json::array();
  for (const auto& t : e.targets)
    records.push_back({{"id", t.ns + "/" + t.pod},
                       {"phase", t.recovered || e.recovered ? "Recovered" : "Injected"},
                       {"selectorKey", "."},
                       {"injectedCount", 1},
                       {"recoveredCount", t.recovered || e.recovered ? 1 : 0}});
  auto condition = [](const char* type, bool value) {
    return Json{{"type", type}, {"status", value ? "True" : "False"}};
  };
  const bool selected = !e.targets.empty();
  Json status = {{"conditions", Json::array({condition("Selected", selected), condition("AllInjected", selected && !e.recovered),
                                             condition("AllRecovered", e.recovered), condition("Paused", false)})},
                 {"experiment", {{"desiredPhase", e.recovered ? "Stop" : "Run"}, {"containerRecords", records}}}};
  try {
    store_.mutate({e.resource, e.ns, e.name}, [&](Json& o) {
      if (str(metadata_of(o), "uid") != e.uid) return;
      o["status"] = status;
    });
  } catch (const StoreError&) {
    // Deleted meanwhile: recovery follows from the DELETED event.
  }
}

}  // namespace mambogo::sim
