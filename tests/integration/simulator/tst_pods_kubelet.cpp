// The kubelet runs pods as real local processes: status, probes (and the readiness probe the
// relist triggers), restarts with back-off, graceful termination, logs, environment and volumes.
#include "tst_pods_fixture.h"
#include "raw_http.h"

#include <signal.h>

#include <fstream>

using namespace podtest;

class KubeletTest : public QObject {
  Q_OBJECT
 private slots:
  void registersTheNode() {
    Cluster c;
    c.start();
    auto node = c.store.get({"nodes", "", "mambogo-local"});
    QVERIFY(node);
    QVERIFY((*node)["status"]["capacity"]["cpu"].get<std::string>() != "0");
    QVERIFY((*node)["status"]["capacity"]["memory"].get<std::string>().ends_with("Ki"));
    QCOMPARE((*node)["status"]["addresses"][0]["address"].get<std::string>(), std::string("127.0.0.1"));
    bool ready = false;
    for (const auto& cond : (*node)["status"]["conditions"]) ready |= cond["type"] == "Ready" && cond["status"] == "True";
    QVERIFY(ready);
  }

  void httpPodBecomesReadyAndServes() {
    Cluster c;
    c.start();
    const int port = free_port();
    c.create_pod("web", Json::array({{{"name", "web"},
                                      {"image", "test/http:1.0"},
                                      {"ports", Json::array({{{"containerPort", port}}})},
                                      {"readinessProbe", {{"httpGet", {{"path", "/"}, {"port", port}}}, {"periodSeconds", 1}}}}}));
    QVERIFY2(wait_for([&] { return c.ready("web"); }), c.dump("web").c_str());
    const Json pod = c.pod("web");
    QCOMPARE(pod["spec"]["nodeName"].get<std::string>(), std::string("mambogo-local"));
    QCOMPARE(pod["status"]["phase"].get<std::string>(), std::string("Running"));
    const std::string ip = pod["status"]["podIP"].get<std::string>();
    QVERIFY2(ip.rfind("127.0.1.", 0) == 0, ip.c_str());
    QCOMPARE(pod["status"]["hostIP"].get<std::string>(), std::string("127.0.0.1"));
    const Json cs = pod["status"]["containerStatuses"][0];
    QVERIFY(cs["ready"].get<bool>());
    QVERIFY(cs["state"].contains("running"));
    QCOMPARE(cs["restartCount"].get<int>(), 0);
    QVERIFY(cs["containerID"].get<std::string>().rfind("mambogo://", 0) == 0);

    auto response = mambogo::test::http_request(ip, port, "GET", "/");
    QVERIFY(response);
    QCOMPARE(response->status, 200);
    // python's http.server logs each request to stderr, which is the container's log.
    auto log = c.kubelet->log_file("default", "web", "web", false);
    QVERIFY(log);
    QVERIFY(wait_for([&] { return read_text(*log).find("\"GET / HTTP/1.1\" 200") != std::string::npos; }));
    QVERIFY(!c.kubelet->log_file("default", "web", "nope", false));
  }

  void readinessOnAMissingPathKeepsThePodUnready() {
    Cluster c;
    c.start();
    const int port = free_port();
    c.create_pod("unready", Json::array({{{"name", "web"},
                                          {"image", "test/http"},
                                          {"ports", Json::array({{{"containerPort", port}, {"name", "http"}}})},
                                          {"readinessProbe", {{"httpGet", {{"path", "/missing"}, {"port", "http"}}},
                                                              {"periodSeconds", 1}}}}}));
    // The server answers (404) while the pod stays Running and not ready.
    QVERIFY(wait_for([&] {
      const auto file = c.kubelet->log_file("default", "unready", "web", false);
      const std::string log = file ? read_text(*file) : "";
      return log.find("\"GET /missing HTTP/1.1\" 404") != std::string::npos;
    }));
    std::this_thread::sleep_for(1500ms);
    QCOMPARE(c.phase("unready"), std::string("Running"));
    QVERIFY(!c.ready("unready"));
    QVERIFY(!c.container_status("unready")["ready"].get<bool>());
    const Json pod = c.pod("unready");
    for (const auto& cond : pod["status"]["conditions"])
      if (cond["type"] == "Ready") QCOMPARE(cond["reason"].get<std::string>(), std::string("ContainersNotReady"));
  }

  // A container that listens a moment after it starts: its first readiness probe (at the
  // start) fails, and the relist that sees the new container syncs the pod, which probes
  // readiness again at once (kubelet's prober manager), not periodSeconds (30 s) later.
  void readinessIsProbedAgainWhenTheRelistSeesTheStart() {
    Cluster c;
    c.start();
    const int port = free_port();
    c.create_pod("slow", Json::array({{{"name", "web"},
                                       {"image", "test/http"},
                                       {"command", Json::array({"/bin/sh", "-c",
                                                                "sleep 0.3; exec /usr/bin/python3 -m http.server "
                                                                "--bind \"$POD_IP\" " + std::to_string(port)})},
                                       {"ports", Json::array({{{"containerPort", port}}})},
                                       {"readinessProbe", {{"tcpSocket", {{"port", port}}}, {"periodSeconds", 30}}}}}));
    QVERIFY(wait_for([&] { return c.phase("slow") == "Running"; }));
    const auto running_at = std::chrono::steady_clock::now();
    QVERIFY2(wait_for([&] { return c.ready("slow"); }, 10s), c.dump("slow").c_str());
    QVERIFY(std::chrono::steady_clock::now() - running_at < 5s);
    // ... and only then: the first probe had failed.
    bool failed_first = false;
    for (const auto& e : c.store.list("events", "default").items)
      failed_first |= e.value("reason", "") == "Unhealthy";
    QVERIFY(failed_first);
  }

  void crashingContainerBacksOffIntoCrashLoopBackOff() {
    Cluster c;
    c.start();
    c.create_pod("crash", Json::array({sh_container("echo boom-$$; exit 1")}));
    bool saw_backoff = false;
    QVERIFY2(wait_for([&] {
               const Json cs = c.container_status("crash");
               if (cs.contains("state") && cs["state"].contains("waiting") &&
                   cs["state"]["waiting"].value("reason", "") == "CrashLoopBackOff")
                 saw_backoff = true;
               return saw_backoff && cs.value("restartCount", 0) >= 3;
             }, 20s),
             c.dump("crash").c_str());
    const Json cs = c.container_status("crash");
    QCOMPARE(cs["lastState"]["terminated"]["exitCode"].get<int>(), 1);
    QCOMPARE(cs["lastState"]["terminated"]["reason"].get<std::string>(), std::string("Error"));
    QCOMPARE(c.phase("crash"), std::string("Running"));  // restartPolicy Always
    // The back-off grows: restarts 1..3 need at least 0 + 0.3 + 0.6 s.
    auto previous = c.kubelet->log_file("default", "crash", "main", true);
    QVERIFY(previous);
    QVERIFY(read_text(*previous).find("boom-") != std::string::npos);
  }

  void restartPolicyNeverEndsInFailed() {
    Cluster c;
    c.start();
    c.create_pod("once", Json::array({sh_container("exit 3")}), {{"restartPolicy", "Never"}});
    c.create_pod("done", Json::array({sh_container("exit 0")}), {{"restartPolicy", "OnFailure"}});
    QVERIFY2(wait_for([&] { return c.phase("once") == "Failed"; }), c.dump("once").c_str());
    QVERIFY2(wait_for([&] { return c.phase("done") == "Succeeded"; }), c.dump("done").c_str());
    QCOMPARE(c.container_status("once")["state"]["terminated"]["exitCode"].get<int>(), 3);
    QCOMPARE(c.container_status("done")["state"]["terminated"]["reason"].get<std::string>(), std::string("Completed"));
    QCOMPARE(c.container_status("once")["restartCount"].get<int>(), 0);
  }

  void livenessFailureRestartsTheContainer() {
    Cluster c;
    c.start();
    c.create_pod("dead", Json::array({sh_container("sleep 1000", {{"livenessProbe", {{"tcpSocket", {{"port", free_port()}}},
                                                                                  {"periodSeconds", 1},
                                                                                  {"failureThreshold", 1}}}})}),
                 {{"terminationGracePeriodSeconds", 1}});
    QVERIFY2(wait_for([&] { return c.container_status("dead").value("restartCount", 0) >= 1; }), c.dump("dead").c_str());
    QCOMPARE(c.container_status("dead")["lastState"]["terminated"]["exitCode"].get<int>(), 128 + SIGTERM);
  }

  void deletionSendsSigtermAndRemovesThePod() {
    Cluster c;
    c.start();
    const std::string marker = c.dir.filePath("terminated").toStdString();
    c.create_pod("graceful", Json::array({sh_container("trap 'echo term > \"$MARKER\"; exit 0' TERM; echo trapped; while :; do sleep 0.1; done",
                                                       {{"env", Json::array({{{"name", "MARKER"}, {"value", marker}}})}})}),
                 {{"terminationGracePeriodSeconds", 30}});
    QVERIFY(wait_for([&] { return c.phase("graceful") == "Running"; }));
    // Signals only after the shell has installed its trap.
    QVERIFY(wait_for([&] { return read_text(*c.kubelet->log_file("default", "graceful", "main", false)) == "trapped\n"; }));
    const pid_t pid = c.pid_of("graceful");
    QVERIFY(pid > 0);
    const auto deleted_at = std::chrono::steady_clock::now();
    c.store.mutate({"pods", "default", "graceful"}, [](Json& p) {
      p["metadata"]["deletionTimestamp"] = mambogo::sim::now_rfc3339();
      p["metadata"]["deletionGracePeriodSeconds"] = 30;
    });
    QVERIFY2(wait_for([&] { return !c.store.get({"pods", "default", "graceful"}); }), c.dump("graceful").c_str());
    QVERIFY(std::chrono::steady_clock::now() - deleted_at < 10s);  // it exited on SIGTERM, not at the grace's end
    QCOMPARE(read_text(marker), std::string("term\n"));
    QVERIFY(group_members(pid).empty());
  }

  void processIgnoringSigtermIsKilledAfterTheGracePeriod() {
    Cluster c;
    c.start();
    c.create_pod("stubborn", Json::array({sh_container("trap '' TERM; echo trapped; while :; do sleep 0.1; done")}));
    QVERIFY(wait_for([&] { return c.phase("stubborn") == "Running"; }));
    QVERIFY(wait_for([&] { return read_text(*c.kubelet->log_file("default", "stubborn", "main", false)) == "trapped\n"; }));
    const pid_t pid = c.pid_of("stubborn");
    const auto deleted_at = std::chrono::steady_clock::now();
    c.store.mutate({"pods", "default", "stubborn"}, [](Json& p) {
      p["metadata"]["deletionTimestamp"] = mambogo::sim::now_rfc3339();
      p["metadata"]["deletionGracePeriodSeconds"] = 1;
    });
    std::this_thread::sleep_for(300ms);
    QVERIFY(c.store.get({"pods", "default", "stubborn"}));  // Terminating during the grace period
    QVERIFY(!group_members(pid).empty());
    QVERIFY(wait_for([&] { return !c.store.get({"pods", "default", "stubborn"}); }));
    QVERIFY(std::chrono::steady_clock::now() - deleted_at >= 900ms);
    QVERIFY(group_members(pid).empty());
  }

  void podRemovedFromTheStoreIsKilledAtOnce() {
    Cluster c;
    c.start();
    c.create_pod("gone", Json::array({sh_container("trap '' TERM; sleep 1000 & wait")}));
    QVERIFY(wait_for([&] { return c.phase("gone") == "Running"; }));
    const pid_t pid = c.pid_of("gone");
    QVERIFY(wait_for([&] { return group_members(pid).size() >= 2; }));
    c.store.remove({"pods", "default", "gone"});
    QVERIFY(wait_for([&] { return group_members(pid).empty(); }, 3s));
  }

  void stopLeavesNoProcessBehind() {
    Cluster c;
    c.start();
    c.create_pod("a", Json::array({sh_container("sleep 1000 & sleep 1000 & wait")}));
    c.create_pod("b", Json::array({sh_container("trap '' TERM; while :; do sleep 0.1; done")}),
                 {{"terminationGracePeriodSeconds", 1}});
    QVERIFY(wait_for([&] { return c.phase("a") == "Running" && c.phase("b") == "Running"; }));
    const pid_t a = c.pid_of("a"), b = c.pid_of("b");
    QVERIFY(wait_for([&] { return group_members(a).size() >= 3; }));
    c.kubelet->stop();
    QVERIFY(group_members(a).empty());
    QVERIFY(group_members(b).empty());
    QVERIFY(c.store.get({"pods", "default", "a"}));  // objects stay for the next start
  }

  void environmentReachesTheProcess() {
    Cluster c;
    c.store.create("services", {{"metadata", {{"name", "payment-service"}, {"namespace", "default"}}},
                                {"spec", {{"clusterIP", "127.0.2.9"}, {"ports", Json::array({{{"port", 8080}}})}}}});
    c.start();
    c.create_pod("env", Json::array({sh_container(
                            "env; sleep 1000",
                            {{"env", Json::array({{{"name", "PAYMENT_URL"},
                                                   {"value", "http://$(PAYMENT_SERVICE_SERVICE_HOST):$(PAYMENT_SERVICE_SERVICE_PORT)"}}})}})}));
    QVERIFY(wait_for([&] { return c.phase("env") == "Running"; }));
    const std::string ip = c.pod("env")["status"]["podIP"].get<std::string>();
    const auto log = *c.kubelet->log_file("default", "env", "main", false);
    QVERIFY(wait_for([&] { return read_text(log).find("PAYMENT_URL=") != std::string::npos; }));
    const std::string text = read_text(log);
    QVERIFY2(text.find("PAYMENT_URL=http://127.0.2.9:8080\n") != std::string::npos, text.c_str());
    QVERIFY(text.find("POD_IP=" + ip + "\n") != std::string::npos);
    QVERIFY(text.find("POD_NAME=env\n") != std::string::npos);
    QVERIFY(text.find("POD_NAMESPACE=default\n") != std::string::npos);
    QVERIFY(text.find("PAYMENT_SERVICE_SERVICE_HOST=127.0.2.9\n") != std::string::npos);
  }

  void volumesAreHostDirectoriesAtTheMountPaths() {
    Cluster c;
    c.store.create("configmaps", {{"metadata", {{"name", "app-config"}, {"namespace", "default"}}},
                                  {"data", {{"greeting", "hello from config"}}}});
    c.start();
    const std::string script =
        "cp \"$CONFIG/greeting\" \"$DATA/copy\"; mkdir -p \"$CLAIM\"; echo written > \"$CLAIM/state\"; sleep 1000";
    Json pod = c.create_pod(
        "db-0",
        Json::array({sh_container(script, {{"env", Json::array({{{"name", "CONFIG"}, {"value", "/etc/app"}},
                                                               {{"name", "DATA"}, {"value", "/scratch"}},
                                                               {{"name", "CLAIM"}, {"value", "/var/lib/db/sub"}}})},
                                           {"volumeMounts", Json::array({{{"name", "config"}, {"mountPath", "/etc/app"}},
                                                                         {{"name", "scratch"}, {"mountPath", "/scratch"}},
                                                                         {{"name", "data"}, {"mountPath", "/var/lib/db"}}})}})}),
        {{"volumes", Json::array({{{"name", "config"}, {"configMap", {{"name", "app-config"}}}},
                                  {{"name", "scratch"}, {"emptyDir", Json::object()}}})}});
    c.store.mutate({"pods", "default", "db-0"}, [](Json& p) {
      p["metadata"]["ownerReferences"] = Json::array({{{"kind", "StatefulSet"}, {"name", "db"}, {"apiVersion", "apps/v1"}}});
    });
    const std::string uid = pod["metadata"]["uid"];
    const std::filesystem::path pod_dir = c.options.state_dir / "pods" / ("default_db-0_" + uid);
    const std::filesystem::path claim = c.options.state_dir / "volumes" / "default" / "data-db-0";
    QVERIFY2(wait_for([&] { return read_text(claim / "sub" / "state") == "written\n"; }), c.dump("db-0").c_str());
    QCOMPARE(read_text(pod_dir / "volumes" / "scratch" / "copy"), std::string("hello from config"));
    QCOMPARE(read_text(pod_dir / "volumes" / "config" / "greeting"), std::string("hello from config"));
    // The claim outlives the pod.
    c.store.remove({"pods", "default", "db-0"});
    QVERIFY(wait_for([&] { return !std::filesystem::exists(pod_dir); }));
    QVERIFY(std::filesystem::exists(claim / "sub" / "state"));
  }

  // As kubelet does: the API server's address in every container's environment, and the service
  // account (token, CA, namespace) at its well-known path, found through MAMBOGO_MOUNTS; a pod
  // that opts out (automountServiceAccountToken: false) gets the address but no credentials.
  void podsGetTheInClusterApiAndTheServiceAccount() {
    Cluster c;
    const std::filesystem::path ca = c.options.state_dir / "ca.crt";
    std::ofstream(ca) << "-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n";
    c.options.in_cluster_api = {"127.0.0.1", 6443, "cluster-token", ca};
    c.start();
    const std::string script =
        "env; account=$(printf '%s\\n' \"$MAMBOGO_MOUNTS\" | sed -n 's|^/var/run/secrets/kubernetes.io/serviceaccount=||p'); "
        "echo \"token=$(cat $account/token 2>/dev/null) ns=$(cat $account/namespace 2>/dev/null)\"; sleep 1000";
    c.create_pod("with", Json::array({sh_container(script)}));
    c.create_pod("without", Json::array({sh_container(script)}), {{"automountServiceAccountToken", false}});
    for (const std::string name : {"with", "without"}) {
      QVERIFY2(wait_for([&] { return c.phase(name) == "Running"; }), c.dump(name).c_str());
      const auto log = *c.kubelet->log_file("default", name, "main", false);
      QVERIFY2(wait_for([&] { return read_text(log).find("token=") != std::string::npos; }), c.dump(name).c_str());
      const std::string text = read_text(log);
      QVERIFY2(text.find("KUBERNETES_SERVICE_HOST=127.0.0.1\n") != std::string::npos, text.c_str());
      QVERIFY(text.find("KUBERNETES_SERVICE_PORT=6443\n") != std::string::npos);
      if (name == "with") {
        QVERIFY2(text.find("token=cluster-token ns=default\n") != std::string::npos, text.c_str());
      } else {
        QVERIFY2(text.find("token= ns=\n") != std::string::npos, text.c_str());
        QVERIFY(text.find("/var/run/secrets/kubernetes.io/serviceaccount=") == std::string::npos);
      }
    }
  }

  void unknownImageWaitsWithErrImagePull() {
    Cluster c;
    c.start();
    c.create_pod("nope", Json::array({{{"name", "x"}, {"image", "registry.example/nope:1"}}}));
    QVERIFY(wait_for([&] {
      const Json cs = c.container_status("nope");
      return cs.contains("state") && cs["state"].contains("waiting") &&
             cs["state"]["waiting"].value("reason", "") == "ErrImagePull";
    }));
    QVERIFY(c.container_status("nope")["state"]["waiting"]["message"].get<std::string>().find("nope") != std::string::npos);
    QCOMPARE(c.phase("nope"), std::string("Pending"));
  }
};

QTEST_GUILESS_MAIN(KubeletTest)
#include "tst_pods_kubelet.moc"
