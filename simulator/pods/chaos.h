// Chaos Mesh experiments that only the node can carry out, on the pods of this node:
//   PodChaos (podchaos.chaos-mesh.org): action pod-kill (delete the selected pods, grace
//     spec.gracePeriod, default 0; their controllers replace them), pod-failure (stop the
//     containers and keep them waiting/not ready until recovery), container-kill (SIGKILL
//     spec.containerNames; the restart policy restarts them).
//   StressChaos (stresschaos.chaos-mesh.org): spec.stressors.cpu {workers, load}: burner
//     processes accounted to the selected pods' containers (spec.containerNames, else the
//     first), so metrics.k8s.io and the HPA see the load; stopped on recovery.
// Common Chaos Mesh fields: spec.selector {namespaces, labelSelectors, expressionSelectors,
// pods: {ns: [names]}}, spec.mode one|all|fixed|fixed-percent|random-max-percent, spec.value,
// spec.duration ("30s"; absent: until deleted). Targets are picked when the object is first
// seen and recorded in status.experiment.containerRecords (id "ns/pod", phase Injected or
// Recovered) with conditions Selected/AllInjected/AllRecovered/Paused; deleting the object or
// reaching its duration recovers (desiredPhase "Stop").
//
// Threads: one controller thread; start()/stop() from any thread. The Store and the Kubelet
// must outlive the controller. stop() recovers what is injected (burners stopped, failures
// lifted) without changing the objects' status.
#pragma once

#include "pods/kubelet.h"
#include "store/store.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mambogo::sim {

// Go's time.ParseDuration subset Chaos Mesh uses ("30s", "1m30s", "500ms", "2h"). nullopt for
// anything else.
std::optional<std::chrono::milliseconds> parse_go_duration(const std::string& text);

// The number of targets a Chaos Mesh mode picks out of `candidates`. Throws
// std::invalid_argument for an unknown mode or a bad value. `random_percent` is the draw
// random-max-percent uses (0..max).
std::size_t chaos_target_count(const std::string& mode, const std::string& value, std::size_t candidates,
                               int random_percent);

struct ChaosOptions {
  std::chrono::milliseconds period{1000};  // how often durations are checked
};

class PodChaosController {
 public:
  PodChaosController(Store& store, Kubelet& kubelet, ChaosOptions options = {});
  ~PodChaosController();
  PodChaosController(const PodChaosController&) = delete;
  PodChaosController& operator=(const PodChaosController&) = delete;

  void start();
  void stop();

 private:
  struct Target {
    std::string ns, pod, uid;
    bool recovered = false;
  };
  struct Experiment {
    std::string resource, ns, name, uid;
    Json spec;
    std::vector<Target> targets;
    std::optional<std::chrono::system_clock::time_point> deadline;
    bool recovered = false;
  };
  struct Event {
    EventType type;
    std::string resource;
    Json object;
  };

  void loop();
  void handle(const Event& event);
  void begin(const std::string& resource, const Json& object);
  std::vector<Target> select(const Experiment& e);
  void inject(Experiment& e, Target& t);
  void recover(Experiment& e, bool write_status);
  void write_status(const Experiment& e);

  Store& store_;
  Kubelet& kubelet_;
  const ChaosOptions options_;

  std::mutex mutex_;  // guards events_, stopping_
  std::condition_variable wake_;
  std::deque<Event> events_;
  bool stopping_ = false;
  bool running_ = false;

  // Owned by the controller thread.
  std::map<std::string, Experiment> experiments_;  // by uid

  std::vector<std::uint64_t> watch_ids_;
  std::thread thread_;
};

}  // namespace mambogo::sim
