// The object store: versions, generations, conflicts, watch order and replay, persistence
// across a restart, events aggregation.
#include <QTemporaryDir>
#include <QtTest>

#include "store/events.h"
#include "store/store.h"

using namespace mambogo::sim;

namespace {

Json deployment(const std::string& name, int replicas) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", {{"replicas", replicas}}}};
}

}  // namespace

class StoreTest : public QObject {
  Q_OBJECT

 private slots:
  void create_stamps_identity_and_version() {
    Store store;
    const Json a = store.create("deployments.apps", deployment("web", 1));
    const Json b = store.create("deployments.apps", deployment("api", 1));
    QCOMPARE(a["metadata"]["generation"].get<int>(), 1);
    QCOMPARE(a["metadata"]["uid"].get<std::string>().size(), std::size_t{36});
    QVERIFY(a["metadata"]["uid"] != b["metadata"]["uid"]);
    QVERIFY(resource_version_of(b) > resource_version_of(a));
    QCOMPARE(store.resource_version(), resource_version_of(b));
    QVERIFY_THROWS_EXCEPTION(StoreError, store.create("deployments.apps", deployment("web", 2)));
    QVERIFY_THROWS_EXCEPTION(StoreError, store.create("deployments.apps", deployment("Bad_Name", 2)));
    QCOMPARE(store.list("deployments.apps").items.size(), std::size_t{2});
    QCOMPARE(store.list("deployments.apps").items.front()["metadata"]["name"], "api");  // sorted
  }

  void generation_moves_only_with_the_spec() {
    Store store;
    store.create("deployments.apps", deployment("web", 1));
    const ObjectRef ref{"deployments.apps", "default", "web"};
    Json s = store.mutate(ref, [](Json& d) { d["status"]["replicas"] = 1; });
    QCOMPARE(s["metadata"]["generation"].get<int>(), 1);
    s = store.mutate(ref, [](Json& d) { d["spec"]["replicas"] = 3; });
    QCOMPARE(s["metadata"]["generation"].get<int>(), 2);
    const auto rv = store.resource_version();
    s = store.mutate(ref, [](Json& d) { d["spec"]["replicas"] = 3; });  // no change: no new version
    QCOMPARE(store.resource_version(), rv);
  }

  void stale_update_conflicts_and_changes_nothing() {
    Store store;
    Json first = store.create("deployments.apps", deployment("web", 1));
    store.mutate({"deployments.apps", "default", "web"}, [](Json& d) { d["spec"]["replicas"] = 2; });
    first["spec"]["replicas"] = 5;
    try {
      store.update("deployments.apps", first);
      QFAIL("a stale resourceVersion must conflict");
    } catch (const StoreError& e) {
      QCOMPARE(e.code(), 409);
    }
    QCOMPARE((*store.get({"deployments.apps", "default", "web"}))["spec"]["replicas"].get<int>(), 2);
    first["metadata"].erase("resourceVersion");  // an unconditional update goes through
    QCOMPARE(store.update("deployments.apps", first)["spec"]["replicas"].get<int>(), 5);
  }

  void watchers_see_changes_in_order_and_can_replay() {
    Store store;
    std::vector<std::pair<std::string, int>> seen;
    const auto id = store.watch("deployments.apps", "default", 0, [&](const WatchEvent& e) {
      seen.emplace_back(to_string(e.type), e.object["spec"]["replicas"].get<int>());
    });
    store.create("deployments.apps", deployment("web", 1));
    const auto after_create = store.resource_version();
    store.mutate({"deployments.apps", "default", "web"}, [](Json& d) { d["spec"]["replicas"] = 2; });
    store.create("pods", {{"metadata", {{"name", "p"}, {"namespace", "default"}}}});  // other resource
    store.remove({"deployments.apps", "default", "web"});
    store.unwatch(id);
    store.create("deployments.apps", deployment("later", 7));
    const std::vector<std::pair<std::string, int>> expected{{"ADDED", 1}, {"MODIFIED", 2}, {"DELETED", 2}};
    QCOMPARE(seen, expected);

    std::vector<std::string> replayed;
    const auto again = store.watch("deployments.apps", "", after_create,
                                   [&](const WatchEvent& e) { replayed.push_back(to_string(e.type)); });
    QCOMPARE(replayed, (std::vector<std::string>{"MODIFIED", "DELETED", "ADDED"}));
    store.unwatch(again);
  }

  void too_old_versions_are_gone() {
    Store store({}, /*history=*/3);
    for (int i = 0; i < 6; ++i) store.create("pods", {{"metadata", {{"name", "p" + std::to_string(i)}}}});
    try {
      store.watch("pods", "", 1, [](const WatchEvent&) {});
      QFAIL("a version older than the history must be gone");
    } catch (const StoreError& e) {
      QCOMPARE(e.code(), 410);
    }
  }

  void callbacks_may_not_change_the_store() {
    Store store;
    bool refused = false;
    store.watch("pods", "", 0, [&](const WatchEvent&) {
      try {
        store.create("pods", {{"metadata", {{"name", "nested"}}}});
      } catch (const std::logic_error&) {
        refused = true;
      }
    });
    store.create("pods", {{"metadata", {{"name", "outer"}}}});
    QVERIFY(refused);
    QVERIFY(!store.get({"pods", "", "nested"}));
  }

  void state_survives_a_restart() {
    QTemporaryDir dir;
    std::string uid;
    std::uint64_t rv = 0;
    {
      Store store(dir.path().toStdString());
      uid = store.create("deployments.apps", deployment("web", 1))["metadata"]["uid"];
      store.create("deployments.apps", deployment("gone", 1));
      store.mutate({"deployments.apps", "default", "web"}, [](Json& d) { d["spec"]["replicas"] = 4; });
      store.remove({"deployments.apps", "default", "gone"});
      rv = store.resource_version();
    }
    {
      Store store(dir.path().toStdString());
      auto web = store.get({"deployments.apps", "default", "web"});
      QVERIFY(web);
      QCOMPARE((*web)["spec"]["replicas"].get<int>(), 4);
      QCOMPARE((*web)["metadata"]["uid"].get<std::string>(), uid);
      QVERIFY(!store.get({"deployments.apps", "default", "gone"}));
      QCOMPARE(store.resource_version(), rv);
      QVERIFY(resource_version_of(store.create("pods", {{"metadata", {{"name", "p"}}}})) > rv);
    }
    {  // a torn last journal line (crash mid-write) loses only that line
      std::ofstream(dir.filePath("journal.jsonl").toStdString(), std::ios::app) << "{\"rv\": 99, \"ty";
      Store store(dir.path().toStdString());
      QVERIFY(store.get({"pods", "", "p"}));
    }
  }

  void repeated_events_are_aggregated() {
    Store store;
    const Json pod = store.create("pods", {{"metadata", {{"name", "web-1"}, {"namespace", "default"}}}});
    record_event(store, "pods", pod, "Warning", "BackOff", "Back-off restarting failed container", "kubelet");
    const Json e = record_event(store, "pods", pod, "Warning", "BackOff", "Back-off restarting failed container", "kubelet");
    record_event(store, "pods", pod, "Normal", "Started", "Started container web", "kubelet");
    QCOMPARE(e["count"].get<int>(), 2);
    QCOMPARE(e["involvedObject"]["kind"], "Pod");
    QCOMPARE(e["involvedObject"]["uid"], pod["metadata"]["uid"]);
    QCOMPARE(store.list("events", "default").items.size(), std::size_t{2});
  }
};

QTEST_GUILESS_MAIN(StoreTest)
#include "tst_sim_store.moc"
