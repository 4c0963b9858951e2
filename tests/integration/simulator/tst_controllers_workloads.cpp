// ReplicaSet, Deployment, Endpoints and garbage collector over a real Store, with the test as
// kubelet: what a user of kubectl would see — pods appear, scale, roll over within the
// RollingUpdate bounds, endpoints follow readiness, and deleting a Deployment leaves nothing.
#include <QtTest>

#include "controllers/deployment_controller.h"
#include "controllers/endpoints_controller.h"
#include "controllers/garbage_collector.h"
#include "controllers/replicaset_controller.h"
#include "tst_controllers_fixture.h"

using namespace mambogo::sim;
using namespace controllers_test;
using namespace std::chrono_literals;

namespace {

std::vector<Json> pods_of(Store& store, const std::string& app, bool include_terminating = false) {
  return store.list("pods", "default", [&](const Json& p) {
    return metadata_of(p).value("labels", Json::object()).value("app", "") == app &&
           (include_terminating || !ctl::is_deleting(p));
  }).items;
}

int ready_count(const std::vector<Json>& pods) {
  int n = 0;
  for (const Json& p : pods) n += ctl::is_pod_ready(p) ? 1 : 0;
  return n;
}

std::vector<Json> replica_sets(Store& store) { return store.list("replicasets.apps", "default").items; }

Json get(Store& store, const std::string& resource, const std::string& name) {
  auto o = store.get({resource, "default", name});
  return o ? *o : Json();
}

Json status_of(Store& store, const std::string& resource, const std::string& name) {
  auto o = store.get({resource, "default", name});
  return o ? o->value("status", Json::object()) : Json::object();
}

std::vector<std::string> event_messages(Store& store, const std::string& reason) {
  std::vector<std::string> out;
  for (const Json& e : store.list("events", "default").items)
    if (e.value("reason", "") == reason) out.push_back(e.value("message", ""));
  return out;
}

// Service "web" selecting app=web, port 80 → the container port named "http".
Json web_service() {
  Json port{{"name", "http"}, {"port", 80}, {"targetPort", "http"}};
  Json spec{{"selector", {{"app", "web"}}}, {"ports", Json::array({port})}};
  Json meta{{"name", "web"}, {"namespace", "default"}, {"labels", {{"tier", "front"}}}};
  return Json{{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", meta}, {"spec", spec}};
}

Json cache_pod(const std::string& name) {
  Json meta{{"name", name}, {"namespace", "default"}, {"labels", {{"app", "cache"}}}};
  Json spec{{"containers", Json::array({container("cache:1")})}};
  return Json{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", meta}, {"spec", spec}};
}

Json cache_replica_set(int replicas) {
  Json tmpl{{"metadata", {{"labels", {{"app", "cache"}}}}}, {"spec", {{"containers", Json::array({container("cache:1")})}}}};
  Json spec{{"replicas", replicas}, {"selector", {{"matchLabels", {{"app", "cache"}}}}}, {"template", tmpl}};
  Json meta{{"name", "cache"}, {"namespace", "default"}};
  return Json{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"metadata", meta}, {"spec", spec}};
}

}  // namespace

class TestControllersWorkloads : public QObject {
  Q_OBJECT

  std::unique_ptr<Store> store_;
  std::unique_ptr<ReplicaSetController> rs_;
  std::unique_ptr<DeploymentController> deploy_;
  std::unique_ptr<EndpointsController> endpoints_;
  std::unique_ptr<GarbageCollector> gc_;
  std::unique_ptr<FakeKubelet> kubelet_;

 private slots:
  void init() {
    store_ = std::make_unique<Store>();
    rs_ = std::make_unique<ReplicaSetController>(*store_, ReplicaSetController::Options{1s});
    deploy_ = std::make_unique<DeploymentController>(*store_, DeploymentController::Options{1s});
    endpoints_ = std::make_unique<EndpointsController>(*store_, EndpointsController::Options{1s});
    GarbageCollector::Options gc_options;
    gc_options.resync = 1s;
    gc_ = std::make_unique<GarbageCollector>(*store_, gc_options);
    kubelet_ = std::make_unique<FakeKubelet>(*store_);
    rs_->start();
    deploy_->start();
    endpoints_->start();
    gc_->start();
  }

  void cleanup() {
    gc_.reset();
    endpoints_.reset();
    deploy_.reset();
    rs_.reset();
    kubelet_.reset();
    store_.reset();
  }

  void deploymentCreatesReplicaSetAndPods() {
    Json d = store_->create("deployments.apps", deployment("web", 3, "web:1"));
    QVERIFY(eventually([&] { return ready_count(pods_of(*store_, "web")) == 3; }, [&] { kubelet_->tick(); }));
    auto rss = replica_sets(*store_);
    QCOMPARE(rss.size(), std::size_t(1));
    const std::string hash = metadata_of(rss[0])["labels"]["pod-template-hash"];
    QCOMPARE(name_of(rss[0]), "web-" + hash);
    QVERIFY(ctl::controlled_by(rss[0], ctl::uid_of(d)));
    QCOMPARE(metadata_of(rss[0])["annotations"]["deployment.kubernetes.io/revision"].get<std::string>(), std::string("1"));
    for (const Json& pod : pods_of(*store_, "web")) {
      QVERIFY(name_of(pod).starts_with("web-" + hash + "-"));
      QCOMPARE(name_of(pod).size(), ("web-" + hash + "-").size() + 5);
      QCOMPARE(pod["spec"]["nodeName"].get<std::string>(), std::string("mambogo-local"));
      QCOMPARE(metadata_of(pod)["labels"]["pod-template-hash"].get<std::string>(), hash);
      QVERIFY(ctl::controlled_by(pod, ctl::uid_of(rss[0])));
    }
    // kubectl rollout status reads these.
    QVERIFY(eventually([&] {
      Json s = status_of(*store_, "deployments.apps", "web");
      return s.value("availableReplicas", 0) == 3 && s.value("updatedReplicas", 0) == 3 && s.value("replicas", 0) == 3 &&
             s.value("observedGeneration", 0) == 1;
    }));
    Json status = status_of(*store_, "deployments.apps", "web");
    std::map<std::string, std::string> reasons;
    for (const Json& c : status["conditions"]) reasons[c["type"]] = c["reason"];
    QCOMPARE(reasons["Available"], std::string("MinimumReplicasAvailable"));
    QCOMPARE(reasons["Progressing"], std::string("NewReplicaSetAvailable"));
    QCOMPARE(get(*store_, "deployments.apps", "web")["metadata"]["annotations"]["deployment.kubernetes.io/revision"].get<std::string>(),
             std::string("1"));
    auto scaled = event_messages(*store_, "ScalingReplicaSet");
    QVERIFY(std::find(scaled.begin(), scaled.end(), "Scaled up replica set web-" + hash + " to 3") != scaled.end());
    QCOMPARE(get(*store_, "replicasets.apps", "web-" + hash)["status"]["readyReplicas"].get<int>(), 3);
  }

  void scalingUpAndDownPrefersNotReadyPods() {
    store_->create("deployments.apps", deployment("web", 3, "web:1"));
    QVERIFY(eventually([&] { return ready_count(pods_of(*store_, "web")) == 3; }, [&] { kubelet_->tick(); }));
    store_->mutate({"deployments.apps", "default", "web"}, [](Json& d) { d["spec"]["replicas"] = 5; });
    QVERIFY(eventually([&] { return pods_of(*store_, "web").size() == 5 && ready_count(pods_of(*store_, "web")) == 5; },
                       [&] { kubelet_->tick(); }));
    // One pod goes unready; scaling down to 2 removes it among the three.
    const std::string sick = name_of(pods_of(*store_, "web")[2]);
    kubelet_->held_unready.insert(sick);
    kubelet_->set_ready({"pods", "default", sick}, false);
    QVERIFY(eventually([&] { return status_of(*store_, "deployments.apps", "web").value("readyReplicas", 0) == 4; }));
    store_->mutate({"deployments.apps", "default", "web"}, [](Json& d) { d["spec"]["replicas"] = 2; });
    QVERIFY(eventually([&] { return pods_of(*store_, "web").size() == 2; }));
    QVERIFY(ctl::is_deleting(get(*store_, "pods", sick)) || get(*store_, "pods", sick).is_null());
    QVERIFY(eventually([&] { return pods_of(*store_, "web", true).size() == 2; }, [&] { kubelet_->tick(); }));
    QVERIFY(eventually([&] {
      Json s = status_of(*store_, "deployments.apps", "web");
      return s.value("replicas", 0) == 2 && s.value("availableReplicas", 0) == 2;
    }));
    QCOMPARE(replica_sets(*store_).size(), std::size_t(1));  // scaling makes no new ReplicaSet
  }

  void rollingUpdateStaysWithinSurgeAndUnavailable() {
    Json strategy{{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 1}, {"maxUnavailable", 1}}}};
    store_->create("deployments.apps", deployment("web", 4, "web:1", strategy));
    QVERIFY(eventually([&] { return ready_count(pods_of(*store_, "web")) == 4; }, [&] { kubelet_->tick(); }));
    const std::string old_hash = metadata_of(replica_sets(*store_)[0])["labels"]["pod-template-hash"];

    kubelet_->ready_per_tick = 1;  // new pods become ready one at a time
    store_->mutate({"deployments.apps", "default", "web"},
                   [](Json& d) { d["spec"]["template"]["spec"]["containers"][0]["image"] = "web:2"; });
    std::set<std::pair<int, int>> states;  // (old, new) live pods seen
    bool within_bounds = true;
    std::string violation;
    QVERIFY(eventually(
        [&] {
          auto pods = pods_of(*store_, "web");
          int old_pods = 0, new_pods = 0;
          for (const Json& p : pods) (metadata_of(p)["labels"]["pod-template-hash"] == old_hash ? old_pods : new_pods)++;
          states.insert({old_pods, new_pods});
          if (pods.size() > 5 || ready_count(pods) < 3) {
            within_bounds = false;
            violation = std::to_string(pods.size()) + " pods, " + std::to_string(ready_count(pods)) + " ready";
          }
          return old_pods == 0 && new_pods == 4 && ready_count(pods) == 4;
        },
        [&] {
          std::this_thread::sleep_for(100ms);
          kubelet_->tick();
        },
        60s));
    QVERIFY2(within_bounds, violation.c_str());
    // Step by step: there were moments with pods of both templates.
    int mixed = 0;
    for (auto [o, n] : states) mixed += (o > 0 && n > 0) ? 1 : 0;
    QVERIFY2(mixed >= 2, "the rollout happened in steps");

    auto rss = replica_sets(*store_);
    QCOMPARE(rss.size(), std::size_t(2));  // the old one stays at 0 as revision history
    for (const Json& rs : rss) {
      const bool is_old = metadata_of(rs)["labels"]["pod-template-hash"] == old_hash;
      QCOMPARE(rs["spec"]["replicas"].get<int>(), is_old ? 0 : 4);
      QCOMPARE(metadata_of(rs)["annotations"]["deployment.kubernetes.io/revision"].get<std::string>(), std::string(is_old ? "1" : "2"));
    }
    QVERIFY(eventually([&] {
      Json s = status_of(*store_, "deployments.apps", "web");
      return s.value("updatedReplicas", 0) == 4 && s.value("replicas", 0) == 4 && s.value("availableReplicas", 0) == 4 &&
             s.value("observedGeneration", 0) == 2;
    }));
    auto downs = event_messages(*store_, "ScalingReplicaSet");
    QVERIFY(std::any_of(downs.begin(), downs.end(), [&](const std::string& m) {
      return m.starts_with("Scaled down replica set web-" + old_hash + " to 0 from");
    }));
  }

  void recreateRemovesOldPodsBeforeNewOnes() {
    store_->create("deployments.apps", deployment("web", 2, "web:1", Json{{"type", "Recreate"}}));
    QVERIFY(eventually([&] { return ready_count(pods_of(*store_, "web")) == 2; }, [&] { kubelet_->tick(); }));
    const std::string old_hash = metadata_of(replica_sets(*store_)[0])["labels"]["pod-template-hash"];
    store_->mutate({"deployments.apps", "default", "web"},
                   [](Json& d) { d["spec"]["template"]["spec"]["containers"][0]["image"] = "web:2"; });
    bool overlap = false;
    QVERIFY(eventually(
        [&] {
          auto pods = pods_of(*store_, "web", true);
          int old_pods = 0, new_pods = 0;
          for (const Json& p : pods) (metadata_of(p)["labels"]["pod-template-hash"] == old_hash ? old_pods : new_pods)++;
          if (old_pods > 0 && new_pods > 0) overlap = true;
          return old_pods == 0 && new_pods == 2 && ready_count(pods) == 2;
        },
        [&] {
          std::this_thread::sleep_for(50ms);
          kubelet_->tick();
        }));
    QVERIFY2(!overlap, "Recreate never runs old and new pods together");
  }

  void revisionHistoryLimitDropsOldReplicaSets() {
    Json d = deployment("web", 1, "web:1");
    d["spec"]["revisionHistoryLimit"] = 1;
    store_->create("deployments.apps", d);
    for (const char* image : {"web:2", "web:3"}) {
      QVERIFY(eventually([&] { return ready_count(pods_of(*store_, "web")) == 1; }, [&] { kubelet_->tick(); }));
      store_->mutate({"deployments.apps", "default", "web"},
                     [&](Json& o) { o["spec"]["template"]["spec"]["containers"][0]["image"] = image; });
      QVERIFY(eventually([&] { return pods_of(*store_, "web", true).size() == 1 && ready_count(pods_of(*store_, "web")) == 1 &&
                                      pods_of(*store_, "web")[0]["spec"]["containers"][0]["image"] == image; },
                         [&] { kubelet_->tick(); }));
    }
    QVERIFY(eventually([&] { return replica_sets(*store_).size() == 2; }));  // the newest and one old revision
    std::set<std::string> revisions;
    for (const Json& rs : replica_sets(*store_)) revisions.insert(metadata_of(rs)["annotations"]["deployment.kubernetes.io/revision"]);
    QCOMPARE(revisions, (std::set<std::string>{"2", "3"}));
  }

  void stuckRolloutExceedsItsProgressDeadline() {
    kubelet_->auto_ready = false;  // pods start but never become ready
    Json d = deployment("web", 1, "web:1");
    d["spec"]["progressDeadlineSeconds"] = 1;
    store_->create("deployments.apps", d);
    auto progressing = [&] {
      const Json d = get(*store_, "deployments.apps", "web");
      for (const Json& c : d.value("status", Json::object()).value("conditions", Json::array()))
        if (c.value("type", "") == "Progressing") return c;
      return Json();
    };
    QVERIFY(eventually([&] { return progressing().is_object() && progressing().value("reason", "") == "ProgressDeadlineExceeded"; }, [&] { kubelet_->tick(); },
                       30s));
    QCOMPARE(progressing()["status"].get<std::string>(), std::string("False"));
    QVERIFY(progressing()["message"].get<std::string>().ends_with("has timed out progressing."));
    Json available;
    const Json conditions = status_of(*store_, "deployments.apps", "web").value("conditions", Json::array());
    for (const Json& c : conditions)
      if (c.value("type", "") == "Available") available = c;
    QCOMPARE(available["status"].get<std::string>(), std::string("False"));  // 0 of 1 available, maxUnavailable 0
  }

  void endpointsFollowReadiness() {
    store_->create("services", web_service());
    kubelet_->auto_ready = false;
    store_->create("deployments.apps", deployment("web", 2, "web:1"));
    auto endpoints = [&] { return get(*store_, "endpoints", "web"); };
    auto first_subset = [&] {
      const Json ep = endpoints();
      const Json subsets = ep.is_object() ? ep.value("subsets", Json::array()) : Json::array();
      return subsets.empty() ? Json::object() : subsets[0];
    };
    QVERIFY(eventually([&] {
      Json ep = endpoints();
      return !ep.is_null() && ep.contains("subsets") && ep["subsets"][0].value("notReadyAddresses", Json::array()).size() == 2;
    }, [&] { kubelet_->tick(); }));
    Json subset = first_subset();
    QVERIFY(!subset.contains("addresses"));
    QCOMPARE(subset["ports"][0]["port"].get<int>(), 8080);  // targetPort "http" → the container port
    QCOMPARE(subset["ports"][0]["name"].get<std::string>(), std::string("http"));
    QCOMPARE(subset["ports"][0]["protocol"].get<std::string>(), std::string("TCP"));
    QCOMPARE(metadata_of(endpoints())["labels"]["tier"].get<std::string>(), std::string("front"));

    const Json first = pods_of(*store_, "web")[0];
    kubelet_->set_ready(ref_of("pods", first), true);
    QVERIFY(eventually([&] {
      Json s = first_subset();
      return s.value("addresses", Json::array()).size() == 1 && s.value("notReadyAddresses", Json::array()).size() == 1;
    }));
    Json address = first_subset()["addresses"][0];
    QCOMPARE(address["ip"], first["status"]["podIP"]);
    QCOMPARE(address["nodeName"].get<std::string>(), std::string("mambogo-local"));
    QCOMPARE(address["targetRef"]["name"].get<std::string>(), name_of(first));
    QCOMPARE(address["targetRef"]["kind"].get<std::string>(), std::string("Pod"));

    // A terminating pod is no endpoint, even while its process still runs.
    ctl::delete_pod(*store_, *store_->get(ref_of("pods", first)));
    QVERIFY(eventually([&] {
      Json s = first_subset();
      return !s.contains("addresses") && s.value("notReadyAddresses", Json::array()).size() == 1;
    }));

    store_->remove({"services", "default", "web"});
    QVERIFY(eventually([&] { return endpoints().is_null(); }));
  }

  void deletingDeploymentRemovesEverything() {
    store_->create("deployments.apps", deployment("web", 3, "web:1"));
    QVERIFY(eventually([&] { return ready_count(pods_of(*store_, "web")) == 3; }, [&] { kubelet_->tick(); }));
    store_->remove({"deployments.apps", "default", "web"});
    // The ReplicaSet goes at once; its pods are deleted gracefully (Terminating) first.
    QVERIFY(eventually([&] { return replica_sets(*store_).empty(); }));
    QVERIFY(eventually([&] { return pods_of(*store_, "web").empty(); }));
    QCOMPARE(pods_of(*store_, "web", true).size(), std::size_t(3));  // Terminating until the kubelet is done
    QVERIFY(eventually([&] { return pods_of(*store_, "web", true).empty(); }, [&] { kubelet_->tick(); }));
  }

  void replicaSetAdoptsOrphansAndReplacesDeletedPods() {
    // An orphan pod matching the selector counts towards the replicas.
    Json orphan = cache_pod("stray");
    store_->create("pods", orphan);
    Json rs = cache_replica_set(2);
    Json created = store_->create("replicasets.apps", rs);
    QVERIFY(eventually([&] { return ready_count(pods_of(*store_, "cache")) == 2; }, [&] { kubelet_->tick(); }));
    QVERIFY(ctl::controlled_by(get(*store_, "pods", "stray"), ctl::uid_of(created)));
    // kubectl delete pod: a replacement appears and becomes ready.
    ctl::delete_pod(*store_, get(*store_, "pods", "stray"));
    QVERIFY(eventually([&] {
      auto pods = pods_of(*store_, "cache", true);
      return pods.size() == 2 && ready_count(pods) == 2 && get(*store_, "pods", "stray").is_null();
    }, [&] { kubelet_->tick(); }));
    QVERIFY(eventually([&] {
      Json s = status_of(*store_, "replicasets.apps", "cache");
      return s.value("replicas", 0) == 2 && s.value("readyReplicas", 0) == 2 && s.value("availableReplicas", 0) == 2 &&
             s.value("fullyLabeledReplicas", 0) == 2 && s.value("observedGeneration", 0) == 1;
    }));
    auto created_events = event_messages(*store_, "SuccessfulCreate");
    QCOMPARE(created_events.size(), std::size_t(2));  // one at the start (the orphan was adopted), one replacement
  }
};

QTEST_APPLESS_MAIN(TestControllersWorkloads)
#include "tst_controllers_workloads.moc"
