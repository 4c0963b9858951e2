#include "netproxy/chaos.h"

#include "store/events.h"

#include <condition_variable>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <variant>

namespace mambogo::sim::netproxy {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kNetworkChaos = "networkchaos.chaos-mesh.org";
constexpr const char* kHttpChaos = "httpchaos.chaos-mesh.org";

std::string rule_key(const std::string& resource, const Json& object) {
  return (resource == kNetworkChaos ? "networkchaos/" : "httpchaos/") + namespace_of(object) + "/" +
         name_of(object);
}

Json condition(const char* type, bool status, const std::string& reason = {}, const std::string& message = {}) {
  Json c{{"type", type}, {"status", status ? "True" : "False"}};
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  return c;
}

// "2026-11-27T10:00:00Z" → system_clock time point; nullopt when unreadable.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text) {
  std::tm tm{};
  if (!strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

struct Experiment {
  std::string resource;
  std::string uid;
  enum class Phase { waiting, injected, recovered, failed } phase = Phase::waiting;
  std::optional<Clock::time_point> deadline;
  std::vector<std::string> pods, targets;
  std::string note;  // the message of AllInjected
};

struct Queued {
  std::string resource;
  EventType type;
  Json object;
  std::uint64_t version;
};
struct SourceNote {
  std::string key;
  std::string address;
};

}  // namespace

class ChaosController::Impl {
 public:
  Impl(Store& store, ServiceProxy& proxy, ChaosControllerOptions options)
      : store_(store), proxy_(proxy), options_(options) {}

  void start();
  void stop();
  void run();

  void handle(const Queued& event);
  void first_sight(const std::string& resource, const Json& object, Experiment& ex);
  void try_inject(const std::string& key, Experiment& ex, const Json& object,
                  const std::optional<std::vector<std::string>>& recorded);
  void recover(const std::string& key, Experiment& ex);
  void write_status(const std::string& resource, const Json& object, const Experiment& ex,
                    const std::string& reason = {}, const std::string& message = {});
  void on_tick();
  void on_note(const SourceNote& note);
  // Chaos Mesh's events on the chaos object (Applied, Recovered, Failed); best effort.
  void event(const std::string& resource, const Json& object, const std::string& type, const std::string& reason,
             const std::string& message) {
    try {
      record_event(store_, resource, object, type, reason, message, "chaos-controller-manager");
    } catch (const std::exception&) {
      // an event is best effort
    }
  }

  // Constant after construction.
  Store& store_;
  ServiceProxy& proxy_;
  const ChaosControllerOptions options_;

  // Owned by the worker thread.
  std::map<std::string, Experiment> experiments_;  // by rule key
  std::mt19937_64 rng_{std::random_device{}()};
  Clock::time_point next_resync_{};

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::variant<Queued, SourceNote>> queue_;  // guarded by mutex_
  bool stopping_ = false;                               // guarded by mutex_
  std::atomic<std::uint64_t> handled_version_{0};
  std::vector<std::uint64_t> watches_;
  std::thread worker_;
  bool started_ = false;  // start()/stop() are called by the owner, not concurrently
};

void ChaosController::Impl::start() {
  if (started_) throw std::logic_error("ChaosController: start() called twice");
  started_ = true;
  proxy_.on_source_assumed([this](const std::string& key, const std::string& address) {
    std::lock_guard lock(mutex_);
    queue_.push_back(SourceNote{key, address});
    wake_.notify_one();
  });
  auto enqueue = [this](const WatchEvent& e) {
    std::lock_guard lock(mutex_);
    queue_.push_back(Queued{e.resource, e.type, e.object, e.resource_version});
    wake_.notify_one();
  };
  for (const char* resource : {kNetworkChaos, kHttpChaos}) {
    auto listed = store_.list(resource);
    {
      std::lock_guard lock(mutex_);
      for (auto& o : listed.items) queue_.push_back(Queued{resource, EventType::added, std::move(o), listed.resource_version});
    }
    watches_.push_back(store_.watch(resource, "", listed.resource_version, enqueue));
  }
  worker_ = std::thread([this] { run(); });
}

void ChaosController::Impl::stop() {
  if (!started_ || !worker_.joinable()) return;
  for (auto id : watches_) store_.unwatch(id);
  watches_.clear();
  proxy_.on_source_assumed(nullptr);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (worker_.joinable()) worker_.join();
  // The rules leave with the controller: a stopped controller injects nothing.
  for (auto& [key, ex] : experiments_)
    if (ex.phase == Experiment::Phase::injected) proxy_.remove_rule(key);
  experiments_.clear();
}

void ChaosController::Impl::run() {
  next_resync_ = Clock::now() + options_.resync;
  while (true) {
    std::optional<std::variant<Queued, SourceNote>> item;
    {
      std::unique_lock lock(mutex_);
      Clock::time_point until = next_resync_;
      for (const auto& [k, ex] : experiments_)
        if (ex.deadline && ex.phase == Experiment::Phase::injected) until = std::min(until, *ex.deadline);
      wake_.wait_until(lock, until, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      if (!queue_.empty()) {
        item = std::move(queue_.front());
        queue_.pop_front();
      }
    }
    try {
      if (item) {
        if (auto* q = std::get_if<Queued>(&*item)) {
          handle(*q);
          handled_version_ = std::max(handled_version_.load(), q->version);
        } else {
          on_note(std::get<SourceNote>(*item));
        }
      }
      on_tick();
    } catch (const std::exception&) {
      // A store race (object removed under us) is settled by the next event; keep running.
    }
  }
}

void ChaosController::Impl::handle(const Queued& event) {
  const std::string key = rule_key(event.resource, event.object);
  const std::string uid = metadata_of(event.object).value("uid", std::string{});
  auto it = experiments_.find(key);
  if (event.type == EventType::deleted) {
    if (it != experiments_.end() && it->second.uid == uid) {
      if (it->second.phase == Experiment::Phase::injected) proxy_.remove_rule(key);
      experiments_.erase(it);
    }
    return;
  }
  if (it != experiments_.end() && it->second.uid == uid) return;  // seen: later spec changes are not re-applied
  if (it != experiments_.end()) {  // re-created under the same name
    if (it->second.phase == Experiment::Phase::injected) proxy_.remove_rule(key);
    experiments_.erase(it);
  }
  Experiment& ex = experiments_[key];
  ex.resource = event.resource;
  ex.uid = uid;
  first_sight(event.resource, event.object, ex);
}

void ChaosController::Impl::first_sight(const std::string& resource, const Json& object, Experiment& ex) {
  const std::string key = rule_key(resource, object);
  const Json status = object.value("status", Json::object());
  const Json experiment = status.value("experiment", Json::object());
  if (experiment.value("desiredPhase", std::string{}) == "Stop") {  // finished before a restart
    ex.phase = Experiment::Phase::recovered;
    return;
  }
  std::optional<std::vector<std::string>> recorded;
  for (const auto& r : experiment.value("containerRecords", Json::array()))
    if (r.value("phase", std::string{}) == "Injected" && r.value("selectorKey", std::string(".")) == ".") {
      if (!recorded) recorded.emplace();
      recorded->push_back(r.value("id", std::string{}));
    }
  try_inject(key, ex, object, recorded);
  if (ex.phase == Experiment::Phase::injected && recorded && ex.deadline) {
    // Resumed after a restart: the duration counts from creation, as in Chaos Mesh.
    if (auto created = parse_rfc3339(metadata_of(object).value("creationTimestamp", std::string{}))) {
      const auto left = std::chrono::duration_cast<Clock::duration>(*ex.deadline - Clock::now());
      const std::string duration = object.value("spec", Json::object()).value("duration", std::string{});
      const auto end = *created + std::chrono::duration_cast<std::chrono::system_clock::duration>(parse_duration(duration));
      const auto remaining = std::chrono::duration_cast<Clock::duration>(end - std::chrono::system_clock::now());
      ex.deadline = Clock::now() + std::min(left, remaining);
    }
  }
}

void ChaosController::Impl::try_inject(const std::string& key, Experiment& ex, const Json& object,
                                       const std::optional<std::vector<std::string>>& recorded) {
  const std::string& resource = ex.resource;
  const Json spec = object.value("spec", Json::object());
  const std::string ns = namespace_of(object);
  std::optional<std::chrono::nanoseconds> duration;
  std::optional<NetworkRule> network;
  std::optional<HttpRule> http;
  std::vector<Json> pods;
  try {
    if (auto d = spec.find("duration"); d != spec.end() && !d->is_null()) {
      if (!d->is_string()) throw std::invalid_argument("spec.duration must be a string like \"30s\"");
      try {
        duration = parse_duration(d->get<std::string>());
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string("spec.duration: ") + e.what());
      }
    }
    if (resource == kNetworkChaos) network = parse_network_rule(spec);
    else http = parse_http_rule(spec);
    pods = store_.list("pods").items;
    ex.pods = recorded ? *recorded
                       : pick_pods(spec.value("selector", Json::object()), spec.value("mode", std::string("one")),
                                   spec.value("value", Json(nullptr)), ns, pods, rng_);
    ex.targets.clear();
    if (network && spec.contains("target") && spec["target"].is_object()) {
      const Json& target = spec["target"];
      ex.targets = pick_pods(target.value("selector", Json::object()), target.value("mode", std::string("all")),
                             target.value("value", Json(nullptr)), ns, pods, rng_);
    }
  } catch (const std::invalid_argument& e) {
    ex.phase = Experiment::Phase::failed;
    write_status(resource, object, ex, "InvalidSpec", e.what());
    event(resource, object, "Warning", "Failed", e.what());
    return;
  }
  if (ex.pods.empty()) {
    ex.phase = Experiment::Phase::waiting;
    write_status(resource, object, ex, "NoPodSelected", "no pod is selected");
    return;
  }
  if (network) {
    network->key = key;
    network->pods = {ex.pods.begin(), ex.pods.end()};
    if (spec.contains("target") && spec["target"].is_object())
      network->targets = std::set<std::string>(ex.targets.begin(), ex.targets.end());
    proxy_.set_network_rule(std::move(*network));
  } else {
    http->key = key;
    http->pods = {ex.pods.begin(), ex.pods.end()};
    proxy_.set_http_rule(std::move(*http));
  }
  ex.phase = Experiment::Phase::injected;
  if (duration) ex.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(*duration);
  write_status(resource, object, ex);
  for (const auto& id : ex.pods) event(resource, object, "Normal", "Applied", "Successfully apply chaos for " + id);
}

void ChaosController::Impl::recover(const std::string& key, Experiment& ex) {
  proxy_.remove_rule(key);
  ex.phase = Experiment::Phase::recovered;
  ex.deadline.reset();
  const auto slash = key.find('/'), second = key.find('/', slash + 1);
  if (auto object = store_.get({ex.resource, key.substr(slash + 1, second - slash - 1), key.substr(second + 1)})) {
    write_status(ex.resource, *object, ex);
    for (const auto& id : ex.pods)
      event(ex.resource, *object, "Normal", "Recovered", "Successfully recover chaos for " + id);
  }
}

void ChaosController::Impl::write_status(const std::string& resource, const Json& object, const Experiment& ex,
                                         const std::string& reason, const std::string& message) {
  using Phase = Experiment::Phase;
  Json records = Json::array();
  const bool injected = ex.phase == Phase::injected;
  const bool recovered = ex.phase == Phase::recovered;
  auto add = [&](const std::vector<std::string>& ids, const char* selector_key) {
    for (const auto& id : ids)
      records.push_back({{"id", id},
                         {"phase", injected ? "Injected" : "Recovered"},
                         {"selectorKey", selector_key},
                         {"injectedCount", 1},
                         {"recoveredCount", recovered ? 1 : 0}});
  };
  if (injected || recovered) {
    add(ex.pods, ".");
    add(ex.targets, ".Target");
  }
  Json conditions = Json::array();
  if (ex.phase == Phase::failed) {
    conditions = {condition("Selected", false, reason, message), condition("AllInjected", false, reason, message),
                  condition("AllRecovered", false), condition("Paused", false)};
  } else if (ex.phase == Phase::waiting) {
    conditions = {condition("Selected", false, reason, message), condition("AllInjected", false),
                  condition("AllRecovered", false), condition("Paused", false)};
  } else {
    conditions = {condition("Selected", true), condition("AllInjected", injected, {}, injected ? ex.note : ""),
                  condition("AllRecovered", recovered), condition("Paused", false)};
  }
  const Json status{{"conditions", conditions},
                    {"experiment", {{"desiredPhase", recovered || ex.phase == Phase::failed ? "Stop" : "Run"},
                                    {"containerRecords", records}}}};
  const std::string uid = ex.uid;
  try {
    store_.mutate(ref_of(resource, object), [&](Json& o) {
      if (metadata_of(o).value("uid", std::string{}) != uid) throw std::runtime_error("replaced");
      o["status"] = status;
    });
  } catch (const std::exception&) {
    // deleted or replaced meanwhile: its DELETED event follows
  }
}

void ChaosController::Impl::on_tick() {
  const auto now = Clock::now();
  for (auto& [key, ex] : experiments_)
    if (ex.phase == Experiment::Phase::injected && ex.deadline && *ex.deadline <= now) recover(key, ex);
  if (now < next_resync_) return;
  next_resync_ = now + options_.resync;
  for (auto& [key, ex] : experiments_) {
    if (ex.phase != Experiment::Phase::waiting) continue;
    const auto slash = key.find('/'), second = key.find('/', slash + 1);
    if (auto object = store_.get({ex.resource, key.substr(slash + 1, second - slash - 1), key.substr(second + 1)}))
      try_inject(key, ex, *object, std::nullopt);
  }
}

void ChaosController::Impl::on_note(const SourceNote& note) {
  auto it = experiments_.find(note.key);
  if (it == experiments_.end() || it->second.phase != Experiment::Phase::injected) return;
  Experiment& ex = it->second;
  ex.note = "the source pod of connections from " + note.address +
            " is unknown (no pod has that IP): the rule acts on all traffic to the selected pods";
  const auto slash = note.key.find('/'), second = note.key.find('/', slash + 1);
  if (auto object = store_.get({ex.resource, note.key.substr(slash + 1, second - slash - 1), note.key.substr(second + 1)}))
    write_status(ex.resource, *object, ex);
}

ChaosController::ChaosController(Store& store, ServiceProxy& proxy, ChaosControllerOptions options)
    : impl_(std::make_unique<Impl>(store, proxy, options)) {}
ChaosController::~ChaosController() { stop(); }
void ChaosController::start() { impl_->start(); }
void ChaosController::stop() { impl_->stop(); }
std::uint64_t ChaosController::handled_version() const { return impl_->handled_version_.load(); }

}  // namespace mambogo::sim::netproxy
