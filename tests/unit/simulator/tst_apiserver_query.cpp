// Query parameters and Accept headers as kubectl and client libraries send them.
#include <QtTest>

#include "apiserver/api_server.h"
#include "apiserver/query.h"

using namespace mambogo::sim;
using namespace mambogo::sim::api;

namespace {

Json pod(const std::string& name, const std::string& app, const std::string& phase) {
  return {{"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", app}, {"tier", "web"}}}}},
          {"spec", {{"nodeName", "mambogo-local"}}},
          {"status", {{"phase", phase}}}};
}

Request with_query(std::initializer_list<std::pair<std::string, std::string>> params) {
  Request r;
  r.method = "GET";
  for (const auto& [k, v] : params) r.query.emplace(k, v);
  return r;
}

}  // namespace

class QueryTest : public QObject {
  Q_OBJECT

 private slots:
  void accept_header_picks_table_metadata_or_json() {
    QVERIFY(parse_accept("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json").output == Output::table);
    QCOMPARE(parse_accept("application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json").version, std::string("v1beta1"));
    QVERIFY(parse_accept("application/json").output == Output::object);
    QVERIFY(parse_accept("").output == Output::object);
    QVERIFY(parse_accept("*/*").output == Output::object);
    QVERIFY(parse_accept("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1").output == Output::metadata);
    // an aggregated-discovery request falls back to plain JSON
    QVERIFY(parse_accept("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json").output == Output::object);
  }

  void label_and_field_selectors_filter_lists() {
    const auto& pods = *find_resource("", "v1", "pods");
    const ListFilter f = list_filter(
        with_query({{"labelSelector", "app in (web,api),tier!=db"}, {"fieldSelector", "status.phase=Running,metadata.name!=x"}}),
        pods);
    QVERIFY(f.matches(pod("a", "web", "Running")));
    QVERIFY(!f.matches(pod("a", "web", "Pending")));
    QVERIFY(!f.matches(pod("a", "db", "Running")));
    QVERIFY(!f.matches(pod("x", "api", "Running")));
    const ListFilter node = list_filter(with_query({{"fieldSelector", "spec.nodeName==mambogo-local"}}), pods);
    QVERIFY(node.matches(pod("a", "web", "Running")));
    QVERIFY(list_filter(with_query({}), pods).matches(pod("a", "web", "Running")));
  }

  void unsupported_or_malformed_selectors_are_bad_requests() {
    const auto& pods = *find_resource("", "v1", "pods");
    const auto& deployments = *find_resource("apps", "v1", "deployments");
    const auto code = [&](const ResourceInfo& r, const std::string& key, const std::string& value) {
      try {
        list_filter(with_query({{key, value}}), r);
      } catch (const ApiError& e) {
        return e.code();
      }
      return 200;
    };
    QCOMPARE(code(deployments, "fieldSelector", "status.phase=Running"), 400);  // pods only
    QCOMPARE(code(pods, "fieldSelector", "status.phase"), 400);
    QCOMPARE(code(pods, "labelSelector", "app in (web"), 400);
    QCOMPARE(code(deployments, "fieldSelector", "metadata.name=web"), 200);
  }

  void field_values_follow_paths() {
    QCOMPARE(field_value(pod("a", "web", "Running"), "status.phase"), std::string("Running"));
    QCOMPARE(field_value(pod("a", "web", "Running"), "spec.missing"), std::string());
    QVERIFY(truthy(std::string("True")));  // the Python client's watch=True
    QVERIFY(truthy(std::string("1")));
    QVERIFY(!truthy(std::string("false")));
    QVERIFY(!truthy(std::nullopt));
  }
};

QTEST_APPLESS_MAIN(QueryTest)
#include "tst_apiserver_query.moc"
