// Usage measurement (metrics.k8s.io's source), CPU limits, and the node's chaos: PodChaos
// pod-kill / container-kill / pod-failure and StressChaos cpu.
#include "pods/chaos.h"
#include "tst_pods_fixture.h"

using namespace podtest;

namespace {

double cores(const mambogo::sim::Kubelet& k, const std::string& pod) {
  auto usage = k.pod_usage("default", pod);
  if (!usage) return -1;
  std::uint64_t total = 0;
  for (const auto& c : usage->containers) total += c.cpu_nanocores;
  return static_cast<double>(total) / 1e9;
}

Json chaos(const std::string& name, const Json& spec) {
  return {{"apiVersion", "chaos-mesh.org/v1alpha1"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", spec}};
}

bool condition(const Json& object, const std::string& type, const std::string& status) {
  for (const auto& c : object.value("status", Json::object()).value("conditions", Json::array()))
    if (c.value("type", "") == type) return c.value("status", "") == status;
  return false;
}

}  // namespace

class PodChaosTest : public QObject {
  Q_OBJECT
 private slots:
  // The machine may be shared, so a busy loop gets what the scheduler gives it: the measured
  // usage is compared with the process's own CPU time over the same span, read from /proc.
  static void checkUsageMatchesTheProcess(Cluster& c, const std::string& pod) {
    QVERIFY(wait_for([&] { return c.phase(pod) == "Running"; }));
    const pid_t pid = c.pid_of(pod);
    std::this_thread::sleep_for(2s);  // a full usage window of the burning process
    const double before = group_cpu_seconds(pid);
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(1500ms);
    const double reference = (group_cpu_seconds(pid) - before) /
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double measured = cores(*c.kubelet, pod);
    const std::string detail = "measured " + std::to_string(measured) + " cores, /proc says " + std::to_string(reference);
    QVERIFY2(reference > 0.05, detail.c_str());
    QVERIFY2(measured > reference * 0.6 && measured < reference * 1.6 + 0.05, detail.c_str());
    auto usage = c.kubelet->pod_usage("default", pod);
    QCOMPARE(usage->containers[0].name, std::string("main"));
    QVERIFY(usage->containers[0].memory_bytes > 0);
    QVERIFY(usage->window_seconds > 0.5);
    QVERIFY(c.kubelet->node_usage().cpu_nanocores >= usage->containers[0].cpu_nanocores / 2);
  }

  void burningPodUsageIsMeasured() {
    Cluster c;
    c.start();
    c.create_pod("burn", Json::array({{{"name", "main"}, {"image", "test/burn"}}}));
    checkUsageMatchesTheProcess(c, "burn");
  }

  void withoutCgroupsUsageComesFromProcAndLimitsAreMarkedUnenforced() {
    Cluster c(false);
    c.start();
    QVERIFY(!c.kubelet->cpu_limits_enforced());
    c.create_pod("burn", Json::array({{{"name", "main"}, {"image", "test/burn"},
                                       {"resources", {{"limits", {{"cpu", "200m"}}}}}}}));
    checkUsageMatchesTheProcess(c, "burn");
    QCOMPARE(c.pod("burn")["metadata"]["annotations"]["mambogo.io/cpu-limit-enforced"].get<std::string>(),
             std::string("false"));
  }

  void cpuLimitIsEnforcedByTheCgroup() {
    Cluster c;
    c.start();
    if (!c.kubelet->cpu_limits_enforced()) QSKIP(("cgroups not usable here: " + c.kubelet->cpu_limits_reason()).c_str());
    Json pod = c.create_pod("capped", Json::array({{{"name", "main"}, {"image", "test/burn"},
                                                    {"resources", {{"limits", {{"cpu", "100m"}}}}}}}));
    QVERIFY(wait_for([&] { return c.phase("capped") == "Running"; }));
    std::this_thread::sleep_for(2500ms);  // a full usage window under the quota
    const double measured = cores(*c.kubelet, "capped");
    QVERIFY2(measured > 0.01 && measured < 0.2, std::to_string(measured).c_str());
    // The kernel throttled it (cgroup v1 cpu.stat, or v2's nr_throttled alike).
    const auto stat = read_text(c.options.cgroup_root / "cpu" / c.options.cgroup_parent /
                                pod["metadata"]["uid"].get<std::string>() / "main" / "cpu.stat");
    QVERIFY2(stat.find("nr_throttled 0\n") == std::string::npos && stat.find("nr_throttled") != std::string::npos,
             stat.c_str());
    QVERIFY(!c.pod("capped")["metadata"].value("annotations", Json::object()).contains("mambogo.io/cpu-limit-enforced"));
  }

  void podKillDeletesTheSelectedPod() {
    Cluster c;
    c.start();
    mambogo::sim::PodChaosController chaos_controller(c.store, *c.kubelet, {200ms});
    chaos_controller.start();
    c.create_pod("victim", Json::array({sh_container("sleep 1000")}), {}, {{"app", "victim"}});
    c.create_pod("bystander", Json::array({sh_container("sleep 1000")}), {}, {{"app", "other"}});
    QVERIFY(wait_for([&] { return c.phase("victim") == "Running" && c.phase("bystander") == "Running"; }));
    const pid_t pid = c.pid_of("victim");
    c.store.create("podchaos.chaos-mesh.org",
                   chaos("kill", {{"action", "pod-kill"}, {"mode", "one"}, {"selector", {{"labelSelectors", {{"app", "victim"}}}}}}));
    QVERIFY(wait_for([&] { return !c.store.get({"pods", "default", "victim"}); }));
    QVERIFY(wait_for([&] { return group_members(pid).empty(); }, 3s));
    QVERIFY(c.store.get({"pods", "default", "bystander"}));
    const Json status = c.store.get({"podchaos.chaos-mesh.org", "default", "kill"}).value()["status"];
    QCOMPARE(status["experiment"]["containerRecords"].size(), std::size_t(1));
    QCOMPARE(status["experiment"]["containerRecords"][0]["id"].get<std::string>(), std::string("default/victim"));
    QCOMPARE(status["experiment"]["containerRecords"][0]["phase"].get<std::string>(), std::string("Injected"));
  }

  void containerKillRestartsTheContainer() {
    Cluster c;
    c.start();
    mambogo::sim::PodChaosController chaos_controller(c.store, *c.kubelet, {200ms});
    chaos_controller.start();
    c.create_pod("target", Json::array({sh_container("sleep 1000")}), {}, {{"app", "target"}});
    QVERIFY(wait_for([&] { return c.phase("target") == "Running"; }));
    const pid_t before = c.pid_of("target");
    c.store.create("podchaos.chaos-mesh.org",
                   chaos("ck", {{"action", "container-kill"}, {"mode", "all"}, {"containerNames", {"main"}},
                                {"selector", {{"labelSelectors", {{"app", "target"}}}}}}));
    QVERIFY2(wait_for([&] { return c.container_status("target").value("restartCount", 0) == 1 &&
                                   c.container_status("target")["state"].contains("running"); }),
             c.dump("target").c_str());
    QVERIFY(c.pid_of("target") != before);
    QCOMPARE(c.container_status("target")["lastState"]["terminated"]["exitCode"].get<int>(), 137);
  }

  void podFailureKeepsThePodUnreadyUntilRecovered() {
    Cluster c;
    c.start();
    mambogo::sim::PodChaosController chaos_controller(c.store, *c.kubelet, {200ms});
    chaos_controller.start();
    c.create_pod("frail", Json::array({sh_container("sleep 1000")}), {}, {{"app", "frail"}});
    QVERIFY(wait_for([&] { return c.ready("frail"); }));
    c.store.create("podchaos.chaos-mesh.org",
                   chaos("fail", {{"action", "pod-failure"}, {"mode", "one"}, {"duration", "3s"},
                                  {"selector", {{"pods", {{"default", {"frail"}}}}}}}));
    QVERIFY(wait_for([&] { return !c.ready("frail") && c.container_status("frail")["state"].contains("waiting"); }));
    QVERIFY(wait_for([&] {
      const auto chaos_object = c.store.get({"podchaos.chaos-mesh.org", "default", "fail"});
      return chaos_object && condition(*chaos_object, "AllRecovered", "True");
    }, 10s));
    QVERIFY(wait_for([&] { return c.ready("frail"); }));
    QCOMPARE(c.container_status("frail")["restartCount"].get<int>(), 1);
    const Json experiment = c.store.get({"podchaos.chaos-mesh.org", "default", "fail"}).value()["status"]["experiment"];
    QCOMPARE(experiment["desiredPhase"].get<std::string>(), std::string("Stop"));
    QCOMPARE(experiment["containerRecords"][0]["phase"].get<std::string>(), std::string("Recovered"));
  }

  void stressChaosRaisesTheMeasuredCpu() {
    Cluster c;
    c.start();
    mambogo::sim::PodChaosController chaos_controller(c.store, *c.kubelet, {200ms});
    chaos_controller.start();
    c.create_pod("calm", Json::array({sh_container("sleep 1000")}), {}, {{"app", "calm"}});
    QVERIFY(wait_for([&] { return cores(*c.kubelet, "calm") >= 0; }));
    std::this_thread::sleep_for(1500ms);
    const double idle = cores(*c.kubelet, "calm");
    QVERIFY2(idle < 0.05, std::to_string(idle).c_str());
    c.store.create("stresschaos.chaos-mesh.org",
                   chaos("burn", {{"mode", "all"}, {"selector", {{"labelSelectors", {{"app", "calm"}}}}},
                                  {"stressors", {{"cpu", {{"workers", 2}, {"load", 100}}}}}}));
    // Two full-load workers get a good share even of a busy machine.
    double measured = -1;
    QVERIFY2(wait_for([&] { return (measured = cores(*c.kubelet, "calm")) > 0.15; }, 20s),
             std::to_string(measured).c_str());
    QVERIFY(wait_for([&] {
      const auto object = c.store.get({"stresschaos.chaos-mesh.org", "default", "burn"});
      return object && condition(*object, "AllInjected", "True");
    }));
    c.store.remove({"stresschaos.chaos-mesh.org", "default", "burn"});
    QVERIFY2(wait_for([&] { return (measured = cores(*c.kubelet, "calm")) < 0.05; }, 20s),
             std::to_string(measured).c_str());
  }
};

QTEST_GUILESS_MAIN(PodChaosTest)
#include "tst_pods_chaos.moc"
