// StatefulSet controller over a real Store, the test as kubelet: ordered creation (the next pod
// only once the previous is Running and Ready), stable identities and claims, scale-down from
// the highest ordinal, rolling update from the highest ordinal, and the Parallel policy.
#include <QtTest>

#include "controllers/garbage_collector.h"
#include "controllers/statefulset_controller.h"
#include "tst_controllers_fixture.h"

using namespace mambogo::sim;
using namespace controllers_test;
using namespace std::chrono_literals;

namespace {

Json stateful_set(int replicas, const std::string& image, const std::string& policy = "OrderedReady") {
  Json labels{{"app", "db"}};
  Json tmpl{{"metadata", {{"labels", labels}}}, {"spec", {{"containers", Json::array({container(image)})}}}};
  Json claim{{"metadata", {{"name", "data"}}}, {"spec", {{"accessModes", Json::array({"ReadWriteOnce"})}}}};
  Json spec{{"replicas", replicas},
            {"serviceName", "db"},
            {"podManagementPolicy", policy},
            {"selector", {{"matchLabels", labels}}},
            {"template", tmpl},
            {"volumeClaimTemplates", Json::array({claim})}};
  return Json{{"apiVersion", "apps/v1"}, {"kind", "StatefulSet"}, {"metadata", {{"name", "db"}, {"namespace", "default"}}}, {"spec", spec}};
}

std::set<std::string> live_pods(Store& store) {
  std::set<std::string> names;
  for (const Json& p : store.list("pods", "default").items)
    if (!ctl::is_deleting(p)) names.insert(name_of(p));
  return names;
}

Json status_of(Store& store) {
  auto s = store.get({"statefulsets.apps", "default", "db"});
  return s ? s->value("status", Json::object()) : Json::object();
}

// Ticks the kubelet for a while: long enough for a wrong controller to act.
void settle(FakeKubelet& kubelet) {
  for (int i = 0; i < 10; ++i) {
    kubelet.tick();
    std::this_thread::sleep_for(30ms);
  }
}

}  // namespace

class TestControllersStatefulSet : public QObject {
  Q_OBJECT

  std::unique_ptr<Store> store_;
  std::unique_ptr<StatefulSetController> controller_;
  std::unique_ptr<FakeKubelet> kubelet_;

  bool all_ready(int n) {
    Json s = status_of(*store_);
    return s.value("readyReplicas", 0) == n && s.value("replicas", 0) == n && live_pods(*store_).size() == std::size_t(n);
  }

 private slots:
  void init() {
    store_ = std::make_unique<Store>();
    controller_ = std::make_unique<StatefulSetController>(*store_, StatefulSetController::Options{1s});
    kubelet_ = std::make_unique<FakeKubelet>(*store_);
    controller_->start();
  }
  void cleanup() {
    controller_.reset();
    kubelet_.reset();
    store_.reset();
  }

  void createsPodsInOrderOnlyAfterReadiness() {
    kubelet_->auto_ready = false;
    store_->create("statefulsets.apps", stateful_set(3, "db:1"));
    for (int i = 0; i < 3; ++i) {
      const std::string name = "db-" + std::to_string(i);
      QVERIFY(eventually([&] { return live_pods(*store_).contains(name); }, [&] { kubelet_->tick(); }));
      settle(*kubelet_);  // started but not ready: the next one must not appear
      QCOMPARE(live_pods(*store_).size(), std::size_t(i + 1));
      kubelet_->set_ready({"pods", "default", name}, true);
    }
    QVERIFY(eventually([&] { return all_ready(3); }, [&] { kubelet_->tick(); }));

    Json pod = *store_->get({"pods", "default", "db-1"});
    QCOMPARE(metadata_of(pod)["labels"]["statefulset.kubernetes.io/pod-name"].get<std::string>(), std::string("db-1"));
    QCOMPARE(metadata_of(pod)["labels"]["app"].get<std::string>(), std::string("db"));
    QCOMPARE(pod["spec"]["hostname"].get<std::string>(), std::string("db-1"));
    QCOMPARE(pod["spec"]["subdomain"].get<std::string>(), std::string("db"));
    QCOMPARE(pod["spec"]["nodeName"].get<std::string>(), std::string("mambogo-local"));
    QCOMPARE(pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"].get<std::string>(), std::string("data-db-1"));
    Json s = status_of(*store_);
    QCOMPARE(s["currentRevision"], s["updateRevision"]);
    QCOMPARE(metadata_of(pod)["labels"]["controller-revision-hash"], s["updateRevision"]);
    QCOMPARE(s["currentReplicas"].get<int>(), 3);
    QCOMPARE(s["updatedReplicas"].get<int>(), 3);
    QCOMPARE(s["availableReplicas"].get<int>(), 3);
    QCOMPARE(s["observedGeneration"].get<int>(), 1);
  }

  void scalesDownFromTheHighestOrdinal() {
    store_->create("statefulsets.apps", stateful_set(3, "db:1"));
    QVERIFY(eventually([&] { return all_ready(3); }, [&] { kubelet_->tick(); }));
    store_->mutate({"statefulsets.apps", "default", "db"}, [](Json& s) { s["spec"]["replicas"] = 1; });
    bool out_of_order = false;
    QVERIFY(eventually([&] {
      auto live = live_pods(*store_);
      if (!live.contains("db-1") && live.contains("db-2")) out_of_order = true;
      return live == std::set<std::string>{"db-0"} && store_->list("pods", "default").items.size() == 1;
    }, [&] {
      std::this_thread::sleep_for(30ms);
      kubelet_->tick();
    }));
    QVERIFY2(!out_of_order, "db-1 went before db-2");
    QVERIFY(eventually([&] { return all_ready(1); }));
  }

  void rollsOutFromTheHighestOrdinal() {
    store_->create("statefulsets.apps", stateful_set(3, "db:1"));
    QVERIFY(eventually([&] { return all_ready(3); }, [&] { kubelet_->tick(); }));
    const std::string old_revision = status_of(*store_)["updateRevision"];
    store_->mutate({"statefulsets.apps", "default", "db"},
                   [](Json& s) { s["spec"]["template"]["spec"]["containers"][0]["image"] = "db:2"; });
    std::vector<std::string> updated_order;
    QVERIFY(eventually([&] {
      for (const Json& p : store_->list("pods", "default").items) {
        const std::string rev = metadata_of(p)["labels"].value("controller-revision-hash", "");
        if (rev != old_revision && std::find(updated_order.begin(), updated_order.end(), name_of(p)) == updated_order.end())
          updated_order.push_back(name_of(p));
      }
      Json s = status_of(*store_);
      return s.value("updatedReplicas", 0) == 3 && s.value("readyReplicas", 0) == 3 && s["currentRevision"] == s["updateRevision"];
    }, [&] {
      std::this_thread::sleep_for(30ms);
      kubelet_->tick();
    }, 30s));
    QCOMPARE(updated_order, (std::vector<std::string>{"db-2", "db-1", "db-0"}));
    QVERIFY(status_of(*store_)["updateRevision"] != old_revision);
    QCOMPARE((*store_->get({"pods", "default", "db-0"}))["spec"]["containers"][0]["image"].get<std::string>(), std::string("db:2"));
  }

  void parallelCreatesAllAtOnce() {
    kubelet_->auto_ready = false;
    store_->create("statefulsets.apps", stateful_set(3, "db:1", "Parallel"));
    QVERIFY(eventually([&] { return live_pods(*store_) == std::set<std::string>{"db-0", "db-1", "db-2"}; },
                       [&] { kubelet_->tick(); }));
    QCOMPARE(status_of(*store_).value("readyReplicas", -1), 0);
  }

  void deletedStatefulSetLeavesNoPods() {
    GarbageCollector::Options options;
    options.resync = 1s;
    GarbageCollector gc(*store_, options);
    gc.start();
    store_->create("statefulsets.apps", stateful_set(2, "db:1"));
    QVERIFY(eventually([&] { return all_ready(2); }, [&] { kubelet_->tick(); }));
    store_->remove({"statefulsets.apps", "default", "db"});
    QVERIFY(eventually([&] { return store_->list("pods", "default").items.empty(); }, [&] { kubelet_->tick(); }));
  }
};

QTEST_APPLESS_MAIN(TestControllersStatefulSet)
#include "tst_controllers_statefulset.moc"
