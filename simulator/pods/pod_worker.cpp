#include "pods/pod_worker.h"

#include "objects/quantity.h"
#include "pods/pod_env.h"
#include "pods/process.h"
#include "store/events.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace mambogo::sim {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// Thrown from a store mutation when the stored pod is another object with the same name.
struct NotOurPod {};

// A terminated state of a container that succeeded.
bool completed(const Json& terminated) { return terminated.is_object() && terminated.value("exitCode", 1) == 0; }

std::string str(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string restart_policy(const Json& pod) {
  std::string policy = str(pod.value("spec", Json::object()), "restartPolicy");
  return policy.empty() ? "Always" : policy;
}

milliseconds grace_period(const Json& pod) {
  const Json& meta = metadata_of(pod);
  if (meta.contains("deletionGracePeriodSeconds") && meta["deletionGracePeriodSeconds"].is_number())
    return milliseconds(1000L * meta["deletionGracePeriodSeconds"].get<long>());
  const Json spec = pod.value("spec", Json::object());
  if (spec.contains("terminationGracePeriodSeconds") && spec["terminationGracePeriodSeconds"].is_number())
    return milliseconds(1000L * spec["terminationGracePeriodSeconds"].get<long>());
  return milliseconds(30'000);
}

std::int64_t cpu_limit_millis(const Json& container) {
  try {
    const Json r = container.value("resources", Json::object());
    if (r.contains("limits") && r["limits"].contains("cpu")) return cpu_millis(r["limits"]["cpu"]);
  } catch (const std::invalid_argument&) {
  }
  return 0;
}

void write_file_atomically(const fs::path& file, const std::string& content, int mode) {
  fs::create_directories(file.parent_path());
  const fs::path tmp = file.parent_path() / ("." + file.filename().string() + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::permissions(tmp, static_cast<fs::perms>(mode & 0777));
  fs::rename(tmp, file);
}

}  // namespace

struct PodWorker::Container {
  enum class State { waiting, running, terminated };

  std::string name;
  Json spec;
  bool init = false;  // an init container: runs to completion before the app containers
  State state = State::waiting;
  std::string reason = "ContainerCreating";
  std::string message;
  pid_t pid = 0;
  std::string container_id;
  std::string image_id;
  std::string started_at;
  Clock::time_point started_tp{};
  Json terminated;              // the current terminated state
  Json last_state = Json::object();
  int restart_count = 0;
  bool ever_started = false;
  int stop_signal = SIGTERM;

  bool has_startup = false, has_liveness = false, has_readiness = false;
  ProbeTracker startup, liveness, readiness;
  bool started = false;  // startup probe passed (or none)

  // kubelet's flowcontrol.Backoff entry for this container.
  bool backoff_entry = false;
  milliseconds backoff{0};
  Clock::time_point backoff_updated{};
  Clock::time_point finished_tp{};
  Clock::time_point start_at{};  // when waiting: earliest next start attempt
  bool restart_wanted = true;    // false: stays terminated (restart policy)

  std::optional<Clock::time_point> kill_deadline;
  bool failure_injected = false;
  std::string failure_message;
  int stress_workers = 0, stress_load = 0;
  std::vector<pid_t> burners;
  std::optional<ContainerCgroup> cgroup;
  fs::path log;
  EnvList env;
  MountMap mounts;
  fs::path cwd;
};

struct PodWorker::Control {
  std::optional<Json> pod;
  bool removed = false;
  std::optional<milliseconds> shutdown_grace;
  std::vector<std::vector<std::string>> kills;
  std::optional<std::pair<bool, std::string>> failure;
  std::map<std::string, std::pair<int, int>> stress;
};

PodWorker::PodWorker(const NodeContext& context, Json pod, std::string pod_ip,
                     std::function<void(const std::string&)> on_done)
    : ctx_(context),
      uid_(str(metadata_of(pod), "uid")),
      ns_(namespace_of(pod)),
      name_(name_of(pod)),
      pod_ip_(std::move(pod_ip)),
      on_done_(std::move(on_done)),
      pod_(std::move(pod)) {
  pod_dir_ = ctx_.options.state_dir / "pods" / (ns_ + "_" + name_ + "_" + uid_);
  const Json status = pod_.value("status", Json::object());
  // A pod that ran before (a restarted mambogo-cluster) keeps its counts and start time.
  std::map<std::string, Json> previous;
  for (const char* list : {"initContainerStatuses", "containerStatuses"})
    for (const auto& cs : status.value(list, Json::array())) previous[str(cs, "name")] = cs;
  start_time_ = str(status, "startTime");
  const Json init_specs = pod_["spec"].value("initContainers", Json::array());
  // kubelet's default waiting reason: PodInitializing in a pod with init containers.
  const std::string first_reason = init_specs.empty() ? "ContainerCreating" : "PodInitializing";
  for (const char* list : {"initContainers", "containers"}) {
    const bool init = std::string(list) == "initContainers";
    for (const auto& spec : pod_["spec"].value(list, Json::array())) {
      auto c = std::make_unique<Container>();
      c->name = str(spec, "name");
      c->spec = spec;
      c->init = init;
      c->reason = first_reason;
      c->log = pod_dir_ / (c->name + ".log");
      if (auto it = previous.find(c->name); it != previous.end()) {
        c->restart_count = it->second.value("restartCount", 0);
        c->ever_started = it->second.contains("containerID");
      }
      // Probes belong to app containers (the API rejects them on init containers).
      if (!init) {
        if (spec.contains("startupProbe")) c->has_startup = true, c->startup = ProbeTracker(ProbeKind::startup, ProbeSettings::from_json(spec["startupProbe"], ctx_.options.probe_time_scale));
        if (spec.contains("livenessProbe")) c->has_liveness = true, c->liveness = ProbeTracker(ProbeKind::liveness, ProbeSettings::from_json(spec["livenessProbe"], ctx_.options.probe_time_scale));
        if (spec.contains("readinessProbe")) c->has_readiness = true, c->readiness = ProbeTracker(ProbeKind::readiness, ProbeSettings::from_json(spec["readinessProbe"], ctx_.options.probe_time_scale));
      }
      logs_[c->name] = c->log;
      (init ? init_containers_ : containers_).push_back(std::move(c));
    }
  }
  initialized_ = init_containers_.empty();
  thread_ = std::thread([this] { run(); });
}

PodWorker::~PodWorker() {
  if (thread_.joinable()) thread_.join();
}

void PodWorker::update(Json pod) {
  std::lock_guard lock(mutex_);
  pending_pod_ = std::move(pod);
  wake_.notify_all();
}

void PodWorker::removed() {
  std::lock_guard lock(mutex_);
  removed_ = true;
  wake_.notify_all();
}

void PodWorker::shutdown(milliseconds grace_cap) {
  std::lock_guard lock(mutex_);
  shutdown_grace_ = grace_cap;
  wake_.notify_all();
}

bool PodWorker::kill_containers(const std::vector<std::string>& names) {
  std::lock_guard lock(mutex_);
  kill_requests_.push_back(names);
  wake_.notify_all();
  return true;
}

void PodWorker::set_failure(bool failing, const std::string& message) {
  std::lock_guard lock(mutex_);
  failure_request_ = {failing, message};
  wake_.notify_all();
}

bool PodWorker::set_stress(const std::string& container, int workers, int load_percent) {
  std::lock_guard lock(mutex_);
  if (!container.empty() && !logs_.contains(container)) return false;
  stress_requests_[container] = {workers, load_percent};
  wake_.notify_all();
  return true;
}

std::optional<fs::path> PodWorker::log_file(const std::string& container, bool previous) const {
  std::lock_guard lock(mutex_);
  auto it = logs_.find(container);
  if (it == logs_.end()) return std::nullopt;
  fs::path file = previous ? fs::path(it->second.string() + ".previous") : it->second;
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  return file;
}

std::vector<PodWorker::UsageTarget> PodWorker::usage_targets() const {
  std::lock_guard lock(mutex_);
  return usage_snapshot_;
}

PodWorker::Control PodWorker::take_control(Clock::time_point wake_by) {
  std::unique_lock lock(mutex_);
  // At least a few milliseconds: a deadline already passed never makes the worker spin.
  const auto now = Clock::now();
  wake_.wait_until(lock, std::max(std::min(wake_by, now + ctx_.options.worker_tick), now + milliseconds(5)), [&] {
    return pending_pod_ || removed_ || (shutdown_grace_ && !terminating_) || !kill_requests_.empty() ||
           failure_request_ || !stress_requests_.empty();
  });
  Control c;
  c.pod = std::exchange(pending_pod_, std::nullopt);
  c.removed = removed_;
  c.shutdown_grace = shutdown_grace_;
  c.kills = std::exchange(kill_requests_, {});
  c.failure = std::exchange(failure_request_, std::nullopt);
  c.stress = std::exchange(stress_requests_, {});
  return c;
}

void PodWorker::run() {
  try {
    prepare_pod_dir();
  } catch (const std::exception& e) {
    for (Container* c : all_containers()) c->message = std::string("cannot prepare the pod directory: ") + e.what();
  }
  if (start_time_.empty()) start_time_ = now_rfc3339();
  publish();
  while (true) {
    Control control = take_control(next_deadline());
    if (control.removed) {
      gone_ = true;
      kill_everything();
      break;
    }
    apply(control);
    reap_containers();
    if (terminating_) {
      if (step_termination()) break;
    } else {
      enforce_kill_deadlines();
      start_due_containers();
      run_probes();
    }
    refresh_snapshot();
    publish();
  }
  cleanup();
  on_done_(uid_);
}

Clock::time_point PodWorker::next_deadline() const {
  auto at = Clock::time_point::max();
  if (terminating_) return at;
  if (sync_now_) return Clock::now();
  if (sync_at_) at = std::min(at, *sync_at_);
  // The next start: the current init container's, else (initialized) the app containers'.
  auto startable = [&](const Container& c) {
    if (c.state != Container::State::running && c.restart_wanted && !c.failure_injected)
      at = std::min(at, std::max(c.start_at, init_step_at_));
  };
  if (!initialized_) {
    for (const auto& c : init_containers_)
      if (!(c->state == Container::State::terminated && completed(c->terminated))) {
        startable(*c);
        break;
      }
  }
  for (Container* c : all_containers()) {
    if (c->state != Container::State::running) {
      if (initialized_ && !c->init) startable(*c);
      continue;
    }
    if (c->kill_deadline) {
      at = std::min(at, *c->kill_deadline);
      continue;
    }
    if (c->init) continue;  // no probes
    if (c->has_startup && !c->started) {  // liveness and readiness wait for it
      at = std::min(at, c->startup.next_due());
      continue;
    }
    if (c->has_liveness) at = std::min(at, c->liveness.next_due());
    if (c->has_readiness) at = std::min(at, c->readiness.next_due());
  }
  return at;
}

// PLEG relists the containers every relist_period (from the kubelet's start); a change is seen
// at the next relist, which syncs the pod.
Clock::time_point PodWorker::next_relist() const {
  const auto period = std::max(ctx_.options.relist_period, milliseconds(1));
  const auto elapsed = Clock::now() - ctx_.epoch;
  return ctx_.epoch + (elapsed / period + 1) * period;
}

void PodWorker::container_changed() {
  // The relist after the latest change (one that has passed has seen the earlier ones).
  sync_at_ = next_relist();
}

void PodWorker::prepare_pod_dir() {
  fs::create_directories(pod_dir_);
  fs::permissions(pod_dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
}

void PodWorker::apply(Control& control) {
  if (control.pod) {
    pod_ = std::move(*control.pod);
    if (!terminating_ && metadata_of(pod_).contains("deletionTimestamp")) {
      terminating_ = deleting_ = true;
      terminate_deadline_ = Clock::now() + grace_period(pod_);
      for (Container* c : all_containers()) kill_container(*c, grace_period(pod_), "Stopping container " + c->name);
    }
  }
  if (control.shutdown_grace && !terminating_) {
    terminating_ = true;
    const milliseconds grace = std::min(grace_period(pod_), *control.shutdown_grace);
    terminate_deadline_ = Clock::now() + grace;
    for (Container* c : all_containers()) kill_container(*c, grace, "Stopping container " + c->name);
  }
  for (const auto& names : control.kills)
    for (Container* c : all_containers())
      if ((names.empty() || std::find(names.begin(), names.end(), c->name) != names.end()) && c->pid > 0) {
        event("Normal", "Killing", "Stopping container " + c->name + " (container-kill chaos)");
        signal_group(c->pid, SIGKILL);
      }
  if (control.failure) {
    for (auto& c : containers_) {
      c->failure_injected = control.failure->first;
      c->failure_message = control.failure->second;
      if (c->failure_injected) {
        if (c->pid > 0) signal_group(c->pid, SIGKILL);
      } else if (c->state != Container::State::running) {
        c->start_at = Clock::now();
        c->restart_wanted = true;
      }
    }
  }
  for (const auto& [name, request] : control.stress) {
    Container* target = nullptr;
    for (auto& c : containers_)
      if (name.empty() ? !target : c->name == name) target = c.get();
    if (!target) continue;
    stop_burners(*target);
    target->stress_workers = request.first;
    target->stress_load = request.second;
    if (target->pid > 0 && !terminating_) start_burners(*target);
  }
}

std::vector<PodWorker::Container*> PodWorker::all_containers() const {
  std::vector<Container*> all;
  for (const auto& c : init_containers_) all.push_back(c.get());
  for (const auto& c : containers_) all.push_back(c.get());
  return all;
}

void PodWorker::start_due_containers() {
  const auto now = Clock::now();
  // Init containers one at a time, in order, each to completion; the app containers only
  // once all have completed (kubelet's computeInitContainerActions). What follows an init
  // container's exit starts at the relist that sees it (the pod sync that acts on it).
  if (now < init_step_at_) return;
  if (!initialized_) {
    for (auto& c : init_containers_) {
      if (c->state == Container::State::terminated && completed(c->terminated)) continue;
      if (c->state != Container::State::running && c->restart_wanted && now >= c->start_at) start_container(*c);
      return;
    }
    initialized_ = true;
  }
  for (auto& c : containers_)
    if (c->state != Container::State::running && c->restart_wanted && !c->failure_injected && now >= c->start_at)
      start_container(*c);
}

// The service-account volume kubelet mounts into every container of a pod that does not opt out
// (see KubeletOptions::in_cluster_api), unless the container mounts something there itself.
void PodWorker::add_service_account(Container& c) {
  static const std::string kPath = "/var/run/secrets/kubernetes.io/serviceaccount";
  const auto& api = ctx_.options.in_cluster_api;
  if (api.port == 0) return;
  const Json& spec = pod_.contains("spec") ? pod_["spec"] : Json::object();
  if (const auto it = spec.find("automountServiceAccountToken"); it != spec.end() && it->is_boolean() && !it->get<bool>())
    return;
  for (const auto& [inside, host] : c.mounts)
    if (inside == kPath) return;
  const fs::path dir = pod_dir_ / "serviceaccount";
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::ofstream(dir / "token", std::ios::trunc) << api.token;
  std::ofstream(dir / "namespace", std::ios::trunc) << ns_;
  fs::copy_file(api.ca_file, dir / "ca.crt", fs::copy_options::overwrite_existing, ec);
  fs::permissions(dir / "token", fs::perms::owner_read | fs::perms::owner_write, ec);
  c.mounts.emplace_back(kPath, dir.string());
}

fs::path PodWorker::volume_dir(const Json& mount, std::string& error) {
  const std::string name = str(mount, "name");
  const Json volumes = pod_["spec"].value("volumes", Json::array());
  const Json* volume = nullptr;
  for (const auto& v : volumes)
    if (str(v, "name") == name) volume = &v;
  if (!volume) {
    // A StatefulSet's volumeClaimTemplates: the claim is "<template>-<pod>".
    for (const auto& owner : metadata_of(pod_).value("ownerReferences", Json::array()))
      if (str(owner, "kind") == "StatefulSet") return ctx_.options.state_dir / "volumes" / ns_ / (name + "-" + name_);
    error = "volume \"" + name + "\" is not defined in the pod";
    return {};
  }
  const fs::path dir = pod_dir_ / "volumes" / name;
  if (volume->contains("emptyDir")) return dir;
  // The node is this machine seen through the state dir: a hostPath lives under <state>/node,
  // so clusters side by side (and a user without root) never share or touch real host paths.
  if (volume->contains("hostPath"))
    return ctx_.options.state_dir / "node" / fs::path(str((*volume)["hostPath"], "path")).relative_path();
  if (volume->contains("persistentVolumeClaim"))
    return ctx_.options.state_dir / "volumes" / ns_ / str((*volume)["persistentVolumeClaim"], "claimName");
  const bool secret = volume->contains("secret");
  if (!secret && !volume->contains("configMap")) {
    error = "volume \"" + name + "\": unsupported volume type (emptyDir, hostPath, configMap, secret, persistentVolumeClaim)";
    return {};
  }
  const Json& source = secret ? (*volume)["secret"] : (*volume)["configMap"];
  const std::string object_name = str(source, secret ? "secretName" : "name");
  const auto object = ctx_.store.get({secret ? "secrets" : "configmaps", ns_, object_name});
  if (!object) {
    if (source.value("optional", false)) return dir;
    error = "MountVolume.SetUp failed for volume \"" + name + "\" : " + (secret ? "secret" : "configmap") + " \"" +
            object_name + "\" not found";
    return {};
  }
  const int default_mode = source.value("defaultMode", 0644);
  auto value_of = [&](const std::string& key) -> std::optional<std::string> {
    if (secret) {
      if (object->contains("stringData") && (*object)["stringData"].contains(key))
        return (*object)["stringData"][key].get<std::string>();
      if (object->contains("data") && (*object)["data"].contains(key))
        return decode_base64((*object)["data"][key].get<std::string>(), "secret " + object_name);
      return std::nullopt;
    }
    if (object->contains("data") && (*object)["data"].contains(key)) return (*object)["data"][key].get<std::string>();
    if (object->contains("binaryData") && (*object)["binaryData"].contains(key))
      return decode_base64((*object)["binaryData"][key].get<std::string>(), "configmap " + object_name);
    return std::nullopt;
  };
  try {
    if (source.contains("items")) {
      for (const auto& item : source["items"]) {
        auto value = value_of(str(item, "key"));
        if (!value) {
          error = "MountVolume.SetUp failed for volume \"" + name + "\" : key \"" + str(item, "key") + "\" not found";
          return {};
        }
        write_file_atomically(dir / str(item, "path"), *value, item.value("mode", default_mode));
      }
    } else {
      for (const char* field : {"data", "binaryData", "stringData"})
        if (object->contains(field) && (*object)[field].is_object())
          for (auto it = (*object)[field].begin(); it != (*object)[field].end(); ++it)
            if (auto value = value_of(it.key())) write_file_atomically(dir / it.key(), *value, default_mode);
    }
  } catch (const std::exception& e) {
    error = "MountVolume.SetUp failed for volume \"" + name + "\" : " + e.what();
    return {};
  }
  return dir;
}

void PodWorker::start_container(Container& c) {
  const auto retry_later = [&](const std::string& reason, const std::string& message, milliseconds after) {
    if (c.reason != reason || c.message != message) event("Warning", "Failed", "Error: " + message);
    c.state = Container::State::waiting;
    c.reason = reason;
    c.message = message;
    c.start_at = Clock::now() + after;
  };
  if (c.init && str(c.spec, "restartPolicy") == "Always")
    return retry_later("CreateContainerConfigError",
                       "sidecar containers (an init container with restartPolicy Always) are not supported by "
                       "mambogo-cluster",
                       ctx_.options.backoff_max);
  const std::string image = str(c.spec, "image");
  ImageMap::Vars vars = {{"POD_IP", pod_ip_}, {"POD_NAME", name_}, {"POD_NAMESPACE", ns_}};
  const Json ports = c.spec.value("ports", Json::array());
  if (!ports.empty() && ports[0].contains("containerPort"))
    vars["CONTAINER_PORT"] = std::to_string(ports[0]["containerPort"].get<int>());
  auto entry = ctx_.options.images.resolve(image, vars);
  if (!entry) {
    const bool first = c.reason != "ErrImagePull" && c.reason != "ImagePullBackOff";
    retry_later(first ? "ErrImagePull" : "ImagePullBackOff",
                first ? "mambogo: image \"" + image + "\" (key \"" + ImageMap::key_of(image) +
                            "\") is not in the local image map"
                      : "Back-off pulling image \"" + image + "\"",
                first ? milliseconds(1000) : ctx_.options.backoff_initial);
    return;
  }

  // Volumes first: what the environment and the command line refer to.
  c.mounts.clear();
  for (const auto& m : c.spec.value("volumeMounts", Json::array())) {
    std::string error;
    fs::path dir = volume_dir(m, error);
    if (!error.empty()) return retry_later("ContainerCreating", error, milliseconds(1000));
    if (auto sub = str(m, "subPath"); !sub.empty()) dir /= sub;
    std::error_code ec;
    fs::create_directories(dir, ec);
    c.mounts.emplace_back(str(m, "mountPath"), dir.string());
  }

  add_service_account(c);

  EnvSources sources;
  // The name first: `map[name_of(x)] = std::move(x)` moves x into operator='s by-value
  // parameter before the key is computed (C++17 sequences the right operand first).
  for (auto& cm : ctx_.store.list("configmaps", ns_).items) {
    const std::string name = name_of(cm);
    sources.configmaps[name] = std::move(cm);
  }
  for (auto& s : ctx_.store.list("secrets", ns_).items) {
    const std::string name = name_of(s);
    sources.secrets[name] = std::move(s);
  }
  sources.services = ctx_.store.list("services", ns_).items;
  sources.pod_ip = pod_ip_;
  sources.node_cpu_cores = ctx_.cpu_cores;
  sources.node_memory_bytes = static_cast<std::int64_t>(ctx_.memory_bytes);
  sources.base = {{"PATH", ctx_.path_env}, {"HOSTNAME", name_}, {"HOME", ctx_.home_env}};
  if (const auto& api = ctx_.options.in_cluster_api; api.port != 0) {  // as kubelet's service env
    const std::string port = std::to_string(api.port);
    sources.base.emplace_back("KUBERNETES_SERVICE_HOST", api.host);
    sources.base.emplace_back("KUBERNETES_SERVICE_PORT", port);
    sources.base.emplace_back("KUBERNETES_SERVICE_PORT_HTTPS", port);
    sources.base.emplace_back("KUBERNETES_PORT", "tcp://" + api.host + ":" + port);
  }
  sources.image_env = entry->env;
  try {
    c.env = container_env(pod_, c.spec, sources);
  } catch (const EnvError& e) {
    return retry_later("CreateContainerConfigError", e.what(), milliseconds(1000));
  }
  for (auto& [k, v] : c.env) v = translate_mount_path(v, c.mounts);
  // Where each mount really is ("<mountPath>=<host path>" a line), for image scripts that look
  // in well-known container paths (the postgres image's /docker-entrypoint-initdb.d).
  std::string mounts;
  for (const auto& [inside, host] : c.mounts) mounts += inside + "=" + host + "\n";
  c.env.emplace_back("MAMBOGO_MOUNTS", mounts);
  std::vector<std::string> argv = container_argv(c.spec, entry->command, entry->args, c.env);
  for (auto& a : argv) a = translate_mount_path(a, c.mounts);
  c.cwd = pod_dir_;
  if (auto wd = str(c.spec, "workingDir"); !wd.empty()) c.cwd = translate_mount_path(wd, c.mounts);
  c.stop_signal = entry->stop_signal;
  c.image_id = "mambogo://" + ImageMap::key_of(image) + "@" + (entry->command.empty() ? "" : entry->command[0]);

  if (c.ever_started) {
    std::error_code ec;
    if (fs::exists(c.log, ec)) fs::rename(c.log, c.log.string() + ".previous", ec);
  }
  const std::int64_t limit = cpu_limit_millis(c.spec);
  c.cgroup.reset();
  if (ctx_.cgroups) {
    try {
      c.cgroup = ctx_.cgroups->create(uid_, c.name, limit);
    } catch (const std::exception& e) {
      event("Warning", "CgroupFailed", std::string("CPU cgroup not created: ") + e.what());
    }
  }
  cpu_limit_unenforced_ = cpu_limit_unenforced_ || (limit > 0 && !(c.cgroup && c.cgroup->quota_set));

  SpawnSpec spawn;
  spawn.argv = argv;
  for (const auto& [k, v] : c.env) spawn.env.push_back(k + "=" + v);
  spawn.cwd = c.cwd;
  spawn.log = c.log;
  if (c.cgroup) spawn.cgroup_procs = c.cgroup->procs_files;

  const bool restart = c.ever_started;
  if (restart) {
    ++c.restart_count;
    if (!c.terminated.is_null()) c.last_state = {{"terminated", c.terminated}};
  }
  c.ever_started = true;
  c.started_at = now_rfc3339();
  c.started_tp = Clock::now();
  try {
    c.pid = spawn_process(spawn);
  } catch (const SpawnError& e) {
    c.pid = 0;
    c.container_id = "mambogo://failed-" + std::to_string(c.restart_count);
    event("Warning", "Failed", std::string("Error: ") + e.what());
    on_exit(c, 128, "StartError", e.what());
    return;
  }
  c.container_id = "mambogo://" + std::to_string(c.pid);
  container_changed();
  c.state = Container::State::running;
  c.reason.clear();
  c.message.clear();
  c.terminated = nullptr;
  c.kill_deadline.reset();
  c.started = !c.has_startup;
  if (c.has_startup) c.startup.reset(c.started_tp);
  if (c.has_liveness) c.liveness.reset(c.started_tp);
  if (c.has_readiness) c.readiness.reset(c.started_tp);
  if (!restart) event("Normal", "Pulled", "Container image \"" + image + "\" already present on machine");
  event("Normal", "Created", "Created container " + c.name);
  event("Normal", "Started", "Started container " + c.name);
  if (c.stress_workers > 0) start_burners(c);
}

void PodWorker::reap_containers() {
  for (Container* c : all_containers()) {
    if (c->pid <= 0) continue;
    auto status = try_reap(c->pid);
    if (!status) continue;
    const pid_t pid = c->pid;
    signal_group(pid, SIGKILL);  // the container's other processes end with it
    if (c->cgroup)
      for (pid_t p : CpuCgroups::pids(*c->cgroup)) ::kill(p, SIGKILL);
    c->pid = 0;
    stop_burners(*c);
    const int code = exit_code_of(*status);
    on_exit(*c, code, code == 0 ? "Completed" : "Error", "");
  }
}

void PodWorker::on_exit(Container& c, int exit_code, const std::string& reason, const std::string& message) {
  container_changed();
  c.state = Container::State::terminated;
  c.finished_tp = Clock::now();
  c.kill_deadline.reset();
  c.terminated = {{"exitCode", exit_code}, {"reason", reason}, {"startedAt", c.started_at},
                  {"finishedAt", now_rfc3339()}, {"containerID", c.container_id}};
  if (!message.empty()) c.terminated["message"] = message;
  if (terminating_) {
    c.restart_wanted = false;
    return;
  }
  const std::string policy = restart_policy(pod_);
  if (c.init) {
    init_step_at_ = next_relist();
    // An init container that succeeded is done; one that failed runs again unless the pod's
    // policy is Never (the pod then fails), with the app containers' back-off.
    c.restart_wanted = exit_code != 0 && policy != "Never";
    if (c.restart_wanted) schedule_restart(c);
    return;
  }
  c.restart_wanted = policy == "Always" || (policy == "OnFailure" && exit_code != 0);
  if (c.failure_injected) {
    c.last_state = {{"terminated", c.terminated}};
    c.state = Container::State::waiting;
    c.reason = "CreateContainerError";
    c.message = c.failure_message.empty() ? "pod-failure chaos injected" : c.failure_message;
    return;
  }
  if (c.restart_wanted) schedule_restart(c);
}

// kubelet's doBackOff with flowcontrol.Backoff: the first restart is immediate, then the
// container waits `backoff` after it finished, doubling up to the maximum; an entry not
// updated for backoff_reset is forgotten.
void PodWorker::schedule_restart(Container& c) {
  const auto& o = ctx_.options;
  const bool expired = !c.backoff_entry || c.finished_tp - c.backoff_updated > o.backoff_reset;
  if (expired) {
    c.backoff_entry = true;
    c.backoff = o.backoff_initial;
    c.backoff_updated = Clock::now();
    c.start_at = Clock::now();
    return;
  }
  c.start_at = c.finished_tp + c.backoff;
  c.last_state = {{"terminated", c.terminated}};
  c.state = Container::State::waiting;
  c.reason = "CrashLoopBackOff";
  const auto secs = std::chrono::duration<double>(c.backoff).count();
  std::ostringstream text;
  text << secs;
  c.message = "back-off " + text.str() + "s restarting failed container=" + c.name + " pod=" + name_ + "_" + ns_ +
              "(" + uid_ + ")";
  event("Warning", "BackOff", "Back-off restarting failed container " + c.name + " in pod " + name_ + "_" + ns_ +
                                  "(" + uid_ + ")");
  c.backoff = std::min(c.backoff * 2, o.backoff_max);
  c.backoff_updated = Clock::now();
}

ProbeOutcome PodWorker::run_probe(Container& c, const Json& probe) {
  const ProbeSettings settings = ProbeSettings::from_json(probe, ctx_.options.probe_time_scale);
  auto port_of = [&](const Json& port) -> int {
    if (port.is_number()) return port.get<int>();
    for (const auto& p : c.spec.value("ports", Json::array()))
      if (str(p, "name") == port.get<std::string>()) return p.value("containerPort", 0);
    return 0;
  };
  if (probe.contains("httpGet")) {
    const Json& h = probe["httpGet"];
    if (str(h, "scheme") == "HTTPS") return {false, "HTTPS probes are not supported by mambogo-cluster"};
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& hdr : h.value("httpHeaders", Json::array())) headers.emplace_back(str(hdr, "name"), str(hdr, "value"));
    const std::string host = str(h, "host").empty() ? pod_ip_ : str(h, "host");
    const int port = port_of(h.value("port", Json(0)));
    if (port <= 0) return {false, "probe port " + h.value("port", Json()).dump() + " is not a container port"};
    return http_get(host, port, str(h, "path").empty() ? "/" : str(h, "path"), headers, settings.timeout);
  }
  if (probe.contains("tcpSocket")) {
    const Json& t = probe["tcpSocket"];
    const int port = port_of(t.value("port", Json(0)));
    if (port <= 0) return {false, "probe port " + t.value("port", Json()).dump() + " is not a container port"};
    return tcp_connect(str(t, "host").empty() ? pod_ip_ : str(t, "host"), port, settings.timeout);
  }
  if (probe.contains("exec")) {
    SpawnSpec spec;
    // kubelet expands $(VAR) in an exec probe's command against the container's environment.
    const std::map<std::string, std::string> vars(c.env.begin(), c.env.end());
    for (const auto& a : probe["exec"].value("command", Json::array()))
      spec.argv.push_back(translate_mount_path(expand_vars(a.get<std::string>(), vars), c.mounts));
    for (const auto& [k, v] : c.env) spec.env.push_back(k + "=" + v);
    spec.cwd = c.cwd;
    try {
      auto code = run_to_completion(spec, settings.timeout);
      if (!code) return {false, "command timed out"};
      if (*code != 0) return {false, "command exited with code " + std::to_string(*code)};
      return {true, {}};
    } catch (const SpawnError& e) {
      return {false, e.what()};
    }
  }
  return {false, "probe type not supported by mambogo-cluster (httpGet, tcpSocket, exec)"};
}

void PodWorker::run_probes() {
  // A pod sync (a relist saw a container change, or a probe result changed) runs the readiness
  // probe of every started container that is not ready at once: kubelet's prober manager
  // triggers it from UpdatePodStatus ("Trigger an immediate run of the readinessProbe to update
  // ready state"), past initialDelaySeconds, without moving the periodic schedule.
  const auto now = Clock::now();
  const bool sync = sync_now_ || (sync_at_ && now >= *sync_at_);
  if (sync) sync_at_.reset(), sync_now_ = false;
  bool changed = false;
  for (auto& cp : containers_) {
    Container& c = *cp;
    if (c.state != Container::State::running || c.kill_deadline) continue;
    auto probe = [&](ProbeTracker& tracker, const char* field, const char* label, bool triggered = false) {
      const bool periodic = tracker.due(Clock::now());
      if (!periodic && !(triggered && tracker.may_run(Clock::now()))) return false;
      const ProbeOutcome outcome = run_probe(c, c.spec[field]);
      if (!outcome.success) event("Warning", "Unhealthy", std::string(label) + " probe failed: " + outcome.message);
      const bool result_changed = tracker.record(outcome.success, Clock::now(), periodic);
      changed |= result_changed;
      return result_changed;
    };
    if (c.has_startup && !c.started) {
      if (probe(c.startup, "startupProbe", "Startup")) {
        // Liveness and readiness run once the container has started (their initial delay
        // counts from the container's start, as in kubelet).
        if (c.startup.result()) {
          c.started = true;
        } else {
          kill_container(c, grace_period(pod_), "Container " + c.name + " failed startup probe, will be restarted");
        }
      }
      continue;
    }
    if (c.has_liveness && probe(c.liveness, "livenessProbe", "Liveness") && !c.liveness.result())
      kill_container(c, grace_period(pod_), "Container " + c.name + " failed liveness probe, will be restarted");
    if (c.has_readiness && c.state == Container::State::running && !c.kill_deadline)
      probe(c.readiness, "readinessProbe", "Readiness", sync && !c.readiness.result());
  }
  // A changed result syncs the pod again (kubelet's handleProbeSync).
  if (changed) sync_now_ = true;
}

void PodWorker::kill_container(Container& c, milliseconds grace, const std::string& why) {
  stop_burners(c);
  if (c.pid <= 0) {
    if (c.state == Container::State::waiting && terminating_) c.restart_wanted = false;
    return;
  }
  event("Normal", "Killing", why);
  signal_group(c.pid, c.stop_signal);
  c.kill_deadline = Clock::now() + grace;
}

void PodWorker::enforce_kill_deadlines() {
  for (Container* c : all_containers())
    if (c->pid > 0 && c->kill_deadline && Clock::now() >= *c->kill_deadline) signal_group(c->pid, SIGKILL);
}

bool PodWorker::step_termination() {
  bool alive = false;
  for (Container* c : all_containers()) alive |= c->pid > 0;
  if (alive && Clock::now() < terminate_deadline_) return false;
  kill_everything();
  return true;
}

void PodWorker::kill_everything() {
  for (Container* c : all_containers()) {
    stop_burners(*c);
    if (c->pid <= 0) continue;
    signal_group(c->pid, SIGKILL);
    if (c->cgroup)
      for (pid_t p : CpuCgroups::pids(*c->cgroup)) ::kill(p, SIGKILL);
    int status = 0;
    ::waitpid(c->pid, &status, 0);
    c->pid = 0;
    if (!gone_) on_exit(*c, exit_code_of(status), "Error", "");
  }
}

void PodWorker::start_burners(Container& c) {
  std::vector<fs::path> cgroups;
  if (c.cgroup) cgroups = c.cgroup->procs_files;
  for (int i = 0; i < c.stress_workers; ++i) {
    try {
      c.burners.push_back(spawn_cpu_burner(c.stress_load > 0 ? c.stress_load : 100, cgroups));
    } catch (const SpawnError& e) {
      event("Warning", "StressFailed", e.what());
      break;
    }
  }
}

void PodWorker::stop_burners(Container& c) {
  for (pid_t pid : c.burners) {
    ::kill(pid, SIGKILL);
    int status;
    ::waitpid(pid, &status, 0);
  }
  c.burners.clear();
}

void PodWorker::refresh_snapshot() {
  std::vector<UsageTarget> targets;
  for (Container* c : all_containers())
    if (c->pid > 0) targets.push_back({c->name, c->pid, c->burners, c->cgroup});
  std::lock_guard lock(mutex_);
  usage_snapshot_ = std::move(targets);
}

Json PodWorker::build_status() {
  const std::string now = now_rfc3339();
  auto state_of = [](const Container& c) {
    Json state;
    switch (c.state) {
      case Container::State::running:
        state = {{"running", {{"startedAt", c.started_at}}}};
        break;
      case Container::State::terminated:
        state = {{"terminated", c.terminated}};
        break;
      case Container::State::waiting:
        state = {{"waiting", {{"reason", c.reason}}}};
        if (!c.message.empty()) state["waiting"]["message"] = c.message;
        break;
    }
    return state;
  };
  auto status_of = [&](const Container& c, bool ready, bool started) {
    Json cs = {{"name", c.name},
               {"state", state_of(c)},
               {"lastState", c.last_state},
               {"ready", ready},
               {"restartCount", c.restart_count},
               {"image", str(c.spec, "image")},
               {"imageID", c.image_id},
               {"started", started}};
    if (!c.container_id.empty()) cs["containerID"] = c.container_id;
    return cs;
  };

  // Init containers, as kubelet's getPhase and GeneratePodInitializedCondition see them.
  int pending_init = 0, failed_init = 0;
  std::vector<std::string> incomplete;
  Json init_statuses = Json::array();
  for (auto& c : init_containers_) {
    const bool done = c->state == Container::State::terminated && completed(c->terminated);
    switch (c->state) {
      case Container::State::running:
        ++pending_init;
        break;
      case Container::State::terminated:
        if (!done) ++failed_init;
        break;
      case Container::State::waiting:
        if (c->last_state.contains("terminated")) {
          if (!completed(c->last_state["terminated"])) ++failed_init;
        } else {
          ++pending_init;
        }
        break;
    }
    if (!done) incomplete.push_back(c->name);
    // An init container is ready once it has completed.
    init_statuses.push_back(status_of(*c, done, c->state == Container::State::running));
  }

  int running = 0, waiting = 0, stopped = 0, succeeded = 0;
  bool any_started = false;  // kubelet's HasAnyRegularContainerStarted
  bool all_ready = !containers_.empty();
  std::vector<std::string> unready;
  Json statuses = Json::array();
  for (auto& c : containers_) {
    switch (c->state) {
      case Container::State::running:
        ++running;
        any_started = true;
        break;
      case Container::State::terminated:
        ++stopped;
        any_started = true;
        if (c->terminated.value("exitCode", 1) == 0) ++succeeded;
        break;
      case Container::State::waiting:
        (c->last_state.contains("terminated") ? stopped : waiting)++;
        any_started |= c->last_state.contains("terminated");
        break;
    }
    const bool running_now = c->state == Container::State::running;
    const bool ready = running_now && c->started && !c->kill_deadline && (!c->has_readiness || c->readiness.result());
    if (!ready) all_ready = false, unready.push_back(c->name);
    statuses.push_back(status_of(*c, ready, running_now && c->started));
  }
  const std::string policy = restart_policy(pod_);
  std::string phase = "Pending";
  if (failed_init > 0 && policy == "Never") phase = "Failed";
  else if (pending_init > 0 && !any_started) phase = "Pending";
  else if (waiting > 0) phase = "Pending";
  else if (running > 0) phase = "Running";
  else if (stopped > 0) {
    if (policy == "Always") phase = "Running";
    else if (stopped == succeeded) phase = "Succeeded";
    else if (policy == "Never") phase = "Failed";
    else phase = "Running";
  }
  if (phase == "Succeeded" || phase == "Failed") all_ready = false;

  auto condition = [&](const std::string& type, bool value, const std::string& reason, const std::string& message) {
    const std::string status = value ? "True" : "False";
    auto& [last, time] = condition_times_[type];
    if (last != status) last = status, time = now;
    Json c = {{"type", type}, {"status", status}, {"lastProbeTime", nullptr}, {"lastTransitionTime", time}};
    if (!value && !reason.empty()) c["reason"] = reason, c["message"] = message;
    return c;
  };
  auto bracketed = [](const std::vector<std::string>& names) {  // Go's %s of a []string
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : " ") + n;
    return "[" + list + "]";
  };
  // GeneratePodInitializedCondition: no init containers, a started app container or every
  // init container completed.
  const bool initialized = init_containers_.empty() || phase == "Succeeded" || any_started || incomplete.empty();
  Json initialized_condition = condition("Initialized", initialized, "ContainersNotInitialized",
                                         "containers with incomplete status: " + bracketed(incomplete));
  if (!init_containers_.empty() && initialized && (phase == "Succeeded" || !any_started))
    initialized_condition["reason"] = "PodCompleted";
  const std::string reason = phase == "Succeeded" || phase == "Failed" ? "PodCompleted" : "ContainersNotReady";
  const std::string message = "containers with unready status: " + bracketed(unready);
  Json status = {{"phase", phase},
                 {"conditions", Json::array({initialized_condition,
                                             condition("Ready", all_ready, reason, message),
                                             condition("ContainersReady", all_ready, reason, message),
                                             condition("PodScheduled", true, "", "")})},
                 {"hostIP", "127.0.0.1"},
                 {"hostIPs", Json::array({{{"ip", "127.0.0.1"}}})},
                 {"podIP", pod_ip_},
                 {"podIPs", Json::array({{{"ip", pod_ip_}}})},
                 {"startTime", start_time_},
                 {"containerStatuses", statuses}};
  if (!init_containers_.empty()) status["initContainerStatuses"] = init_statuses;
  // QoS class as kubelet derives it from requests and limits.
  bool any = false, guaranteed = true;
  for (Container* c : all_containers()) {
    const Json r = c->spec.value("resources", Json::object());
    const Json limits = r.value("limits", Json::object()), requests = r.value("requests", Json::object());
    any |= !limits.empty() || !requests.empty();
    for (const char* res : {"cpu", "memory"}) {
      if (!limits.contains(res)) guaranteed = false;
      else if (requests.contains(res) && requests[res] != limits[res]) guaranteed = false;
    }
  }
  status["qosClass"] = !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
  return status;
}

void PodWorker::publish() {
  if (gone_) return;
  Json status = build_status();
  if (status == last_status_) return;
  try {
    ctx_.store.mutate({"pods", ns_, name_}, [&](Json& pod) {
      if (str(metadata_of(pod), "uid") != uid_) throw NotOurPod{};
      Json& s = pod["status"];
      if (!s.is_object()) s = Json::object();
      // Conditions other components set (e.g. readiness gates) are kept.
      Json conditions = status["conditions"];
      for (const auto& c : s.value("conditions", Json::array())) {
        bool ours = false;
        for (const auto& mine : status["conditions"]) ours |= mine["type"] == c.value("type", "");
        if (!ours) conditions.push_back(c);
      }
      for (auto it = status.begin(); it != status.end(); ++it) s[it.key()] = it.value();
      s["conditions"] = conditions;
      if (cpu_limit_unenforced_) pod["metadata"]["annotations"]["mambogo.io/cpu-limit-enforced"] = "false";
    });
    last_status_ = std::move(status);
  } catch (const NotOurPod&) {
    gone_ = true;
  } catch (const StoreError& e) {
    if (e.reason() == StoreError::Reason::not_found) gone_ = true;
  }
  if (gone_) removed();  // the next loop kills at once
}

void PodWorker::event(const std::string& type, const std::string& reason, const std::string& message) {
  if (!ctx_.options.record_events || gone_) return;
  try {
    Json involved = pod_;
    involved.erase("status");
    record_event(ctx_.store, "pods", involved, type, reason, message, "kubelet");
  } catch (const std::exception&) {
    // Events are best effort.
  }
}

void PodWorker::cleanup() {
  if (ctx_.cgroups) ctx_.cgroups->remove_pod(uid_);
  if (deleting_ && !gone_) {
    try {
      ctx_.store.remove({"pods", ns_, name_}, uid_);
    } catch (const StoreError&) {
      // Already removed, or replaced by a pod with the same name: nothing of ours is left.
    }
    gone_ = true;
  }
  if (gone_) {
    std::error_code ec;
    fs::remove_all(pod_dir_, ec);
    std::lock_guard lock(mutex_);
    logs_.clear();
  }
  std::lock_guard lock(mutex_);
  usage_snapshot_.clear();
}

}  // namespace mambogo::sim
