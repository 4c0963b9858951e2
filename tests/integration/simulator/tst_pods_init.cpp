// Init containers as the kubelet runs them, with real processes: each runs to completion, in
// order, before any app container starts; their status (initContainerStatuses, the
// Initialized condition, phase Pending) and the STATUS column kubectl prints (Init:1/2,
// Init:Error, Init:CrashLoopBackOff); restart back-off, restartPolicy Never; logs per init
// container; not run again when only an app container restarts, run again when the node does.
#include "tst_pods_fixture.h"

#include "apiserver/table.h"

using namespace podtest;

namespace {

Json init_status(const Json& pod, std::size_t i) {
  const Json statuses = pod.value("status", Json::object()).value("initContainerStatuses", Json::array());
  return statuses.size() > i ? statuses[i] : Json::object();
}

Json condition(const Json& pod, const std::string& type) {
  for (const auto& c : pod.value("status", Json::object()).value("conditions", Json::array()))
    if (c.value("type", "") == type) return c;
  return Json::object();
}

std::string status_column(const Json& pod) { return pod.is_null() ? "" : mambogo::sim::api::pod_status_text(pod); }

std::string log_of(const Cluster& c, const std::string& pod, const std::string& container, bool previous = false) {
  const auto file = c.kubelet->log_file("default", pod, container, previous);
  return file ? read_text(*file) : std::string("<no log>");
}

// A shell init container on the test/sh image (its entrypoint `/bin/sh -c`, the script as args).
Json sh_init(const std::string& name, const std::string& script, const Json& extra = Json::object()) {
  Json c = sh_container(script, extra);
  c["name"] = name;
  return c;
}

const Json kWorkMount = Json::array({{{"name", "work"}, {"mountPath", "/work"}}});
const Json kWorkEnv = Json::array({{{"name", "OUT"}, {"value", "/work/out"}}});
const Json kWorkVolume = {{"volumes", Json::array({{{"name", "work"}, {"emptyDir", Json::object()}}})}};

Json with_init(Json spec_extra, const Json& init_containers) {
  spec_extra["initContainers"] = init_containers;
  return spec_extra;
}

}  // namespace

class InitContainersTest : public QObject {
  Q_OBJECT
 private slots:
  void runInOrderBeforeTheAppContainer() {
    Cluster c;
    c.start();
    const std::string go = c.dir.filePath("go").toStdString();
    const Json mounts = {{"env", kWorkEnv}, {"volumeMounts", kWorkMount}};
    // first writes into the emptyDir; second checks it ran, then holds until the test says go
    // (bounded: 20 s); the app container prints what both left.
    Json second_extra = mounts;
    second_extra["env"].push_back({{"name", "GO"}, {"value", go}});
    second_extra["env"].push_back({{"name", "GREETING"}, {"value", "second in $(POD_NAME)"}});
    c.create_pod("ordered", Json::array({sh_container("cat \"$OUT\"; sleep 1000", mounts)}),
                 with_init(kWorkVolume,
                           Json::array({sh_init("first", "echo one > \"$OUT\"; echo first-ran", mounts),
                                        sh_init("second",
                                                "test \"$(cat \"$OUT\")\" = one || exit 7; echo \"$GREETING\"; "
                                                "echo two >> \"$OUT\"; "
                                                "for i in $(seq 1 400); do [ -e \"$GO\" ] && exit 0; sleep 0.05; done; exit 1",
                                                second_extra)})));

    // While the second runs: Pending, Initialized False, the app container not started.
    QVERIFY2(wait_for([&] { return init_status(c.pod("ordered"), 1).value("state", Json::object()).contains("running"); }),
             c.dump("ordered").c_str());
    Json pod = c.pod("ordered");
    QCOMPARE(pod["status"]["phase"].get<std::string>(), std::string("Pending"));
    QCOMPARE(status_column(pod), std::string("Init:1/2"));
    const Json first = init_status(pod, 0);
    QCOMPARE(first["name"].get<std::string>(), std::string("first"));
    QCOMPARE(first["state"]["terminated"]["exitCode"].get<int>(), 0);
    QCOMPARE(first["state"]["terminated"]["reason"].get<std::string>(), std::string("Completed"));
    QVERIFY(first["ready"].get<bool>());
    QCOMPARE(first["restartCount"].get<int>(), 0);
    QVERIFY(!init_status(pod, 1)["ready"].get<bool>());
    const Json initialized = condition(pod, "Initialized");
    QCOMPARE(initialized["status"].get<std::string>(), std::string("False"));
    QCOMPARE(initialized["reason"].get<std::string>(), std::string("ContainersNotInitialized"));
    QCOMPARE(initialized["message"].get<std::string>(), std::string("containers with incomplete status: [second]"));
    const Json app = c.container_status("ordered");
    QCOMPARE(app["state"]["waiting"]["reason"].get<std::string>(), std::string("PodInitializing"));
    QVERIFY(!app.contains("containerID"));
    // Each init container has its own log, with its environment expanded.
    QCOMPARE(log_of(c, "ordered", "first"), std::string("first-ran\n"));
    QVERIFY(wait_for([&] { return log_of(c, "ordered", "second") == "second in ordered\n"; }));
    QVERIFY(!c.kubelet->log_file("default", "ordered", "main", false));

    std::ofstream(go) << "go\n";
    QVERIFY2(wait_for([&] { return c.phase("ordered") == "Running"; }), c.dump("ordered").c_str());
    QVERIFY(wait_for([&] { return log_of(c, "ordered", "main") == "one\ntwo\n"; }));
    pod = c.pod("ordered");
    QCOMPARE(condition(pod, "Initialized")["status"].get<std::string>(), std::string("True"));
    QCOMPARE(init_status(pod, 1)["state"]["terminated"]["reason"].get<std::string>(), std::string("Completed"));
    QVERIFY(init_status(pod, 1)["ready"].get<bool>());
    QCOMPARE(status_column(pod), std::string("Running"));
    QVERIFY(c.ready("ordered"));
  }

  void failureWithRestartPolicyNeverFailsThePod() {
    Cluster c;
    c.start();
    c.create_pod("never", Json::array({sh_container("echo app-ran; sleep 1000")}),
                 with_init({{"restartPolicy", "Never"}}, Json::array({sh_init("check", "echo cannot-init; exit 3")})));
    QVERIFY2(wait_for([&] { return c.phase("never") == "Failed"; }), c.dump("never").c_str());
    std::this_thread::sleep_for(500ms);  // several worker ticks: the app container stays unstarted
    const Json pod = c.pod("never");
    QCOMPARE(pod["status"]["phase"].get<std::string>(), std::string("Failed"));
    const Json check = init_status(pod, 0);
    QCOMPARE(check["state"]["terminated"]["exitCode"].get<int>(), 3);
    QCOMPARE(check["state"]["terminated"]["reason"].get<std::string>(), std::string("Error"));
    QCOMPARE(check["restartCount"].get<int>(), 0);
    QCOMPARE(status_column(pod), std::string("Init:Error"));
    QCOMPARE(condition(pod, "Initialized")["status"].get<std::string>(), std::string("False"));
    QVERIFY(!c.container_status("never").contains("containerID"));
    QVERIFY(!c.kubelet->log_file("default", "never", "main", false));
    QCOMPARE(log_of(c, "never", "check"), std::string("cannot-init\n"));
  }

  void failureBacksOffAndTheAppNeverStarts() {
    Cluster c;
    c.start();
    c.create_pod("looping", Json::array({sh_container("echo app-ran; sleep 1000")}),
                 with_init(Json::object(), Json::array({sh_init("check", "echo attempt-$$; exit 1")})));
    bool saw_backoff = false;
    QVERIFY2(wait_for([&] {
               const Json pod = c.pod("looping");
               if (status_column(pod) == "Init:CrashLoopBackOff") saw_backoff = true;
               return saw_backoff && init_status(pod, 0).value("restartCount", 0) >= 2;
             }, 20s),
             c.dump("looping").c_str());
    const Json pod = c.pod("looping");
    QCOMPARE(pod["status"]["phase"].get<std::string>(), std::string("Pending"));
    const Json check = init_status(pod, 0);
    QCOMPARE(check["lastState"]["terminated"]["exitCode"].get<int>(), 1);
    QCOMPARE(check["lastState"]["terminated"]["reason"].get<std::string>(), std::string("Error"));
    QVERIFY(!c.container_status("looping").contains("containerID"));
    QVERIFY(!c.kubelet->log_file("default", "looping", "main", false));
    QVERIFY(log_of(c, "looping", "check", true).find("attempt-") != std::string::npos);
  }

  void appRestartsDoNotRerunThemButANodeRestartDoes() {
    Cluster c;
    c.start();
    const Json mounts = {{"env", kWorkEnv}, {"volumeMounts", kWorkMount}};
    // The app container exits after a moment: restartPolicy Always restarts it (with back-off).
    c.create_pod("rerun", Json::array({sh_container("sleep 0.2; exit 1", mounts)}),
                 with_init(kWorkVolume, Json::array({sh_init("count", "echo ran >> \"$OUT\"", mounts)})));
    QVERIFY2(wait_for([&] { return c.container_status("rerun").value("restartCount", 0) >= 2; }, 20s),
             c.dump("rerun").c_str());
    const std::string uid = c.pod("rerun")["metadata"]["uid"];
    const auto out = c.options.state_dir / "pods" / ("default_rerun_" + uid) / "volumes" / "work" / "out";
    QCOMPARE(read_text(out), std::string("ran\n"));
    Json pod = c.pod("rerun");
    QCOMPARE(init_status(pod, 0)["restartCount"].get<int>(), 0);
    QCOMPARE(condition(pod, "Initialized")["status"].get<std::string>(), std::string("True"));

    // A node restart is a new sandbox: the init container runs again before the app.
    c.kubelet->stop();
    c.kubelet.reset();
    c.start();
    QVERIFY2(wait_for([&] { return read_text(out) == "ran\nran\n"; }), c.dump("rerun").c_str());
    QVERIFY2(wait_for([&] { return init_status(c.pod("rerun"), 0).value("restartCount", 0) == 1; }),
             c.dump("rerun").c_str());
  }
};

QTEST_GUILESS_MAIN(InitContainersTest)
#include "tst_pods_init.moc"
