// parse_manifests: multi-document YAML as kubectl reads it — scalar types, empty documents,
// List expansion and errors that say where.
#include <QtTest>

#include "apiserver/api_server.h"

using namespace mambogo::sim;

class ManifestTest : public QObject {
  Q_OBJECT

 private slots:
  void documents_become_objects_with_yaml_types() {
    const auto objects = parse_manifests(R"(# leading comment
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  port: "8080"
  enabled: "true"
---
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  paused: false
  ratio: 0.5
  nothing: ~
  other: null
  plain: hello world
  version: 1.20.3
  template:
    spec:
      containers:
      - name: app
        image: web:1
        ports:
        - containerPort: 8080
)",
                                         "test.yaml");
    QCOMPARE(objects.size(), std::size_t{2});
    QCOMPARE(objects[0]["data"]["port"], Json("8080"));  // quoted stays a string
    QCOMPARE(objects[0]["data"]["enabled"], Json("true"));
    const Json& spec = objects[1]["spec"];
    QVERIFY(spec["replicas"].is_number_integer());
    QCOMPARE(spec["replicas"].get<int>(), 3);
    QCOMPARE(spec["paused"], Json(false));
    QCOMPARE(spec["ratio"].get<double>(), 0.5);
    QVERIFY(spec["nothing"].is_null());
    QVERIFY(spec["other"].is_null());
    QCOMPARE(spec["plain"], Json("hello world"));
    QCOMPARE(spec["version"], Json("1.20.3"));
    QCOMPARE(spec["template"]["spec"]["containers"][0]["ports"][0]["containerPort"].get<int>(), 8080);
  }

  void lists_are_expanded_and_json_is_yaml() {
    const auto objects = parse_manifests(
        R"({"apiVersion": "v1", "kind": "List", "items": [{"kind": "Service", "metadata": {"name": "a"}},
                                                          {"kind": "Service", "metadata": {"name": "b"}}]})",
        "list.json");
    QCOMPARE(objects.size(), std::size_t{2});
    QCOMPARE(objects[1]["metadata"]["name"], "b");
  }

  void errors_name_source_document_and_line() {
    try {
      parse_manifests("kind: A\n---\nkind: B\nmetadata:\n  name: [unclosed\n", "bad.yaml");
      QFAIL("malformed YAML must throw");
    } catch (const std::invalid_argument& e) {
      const QString what = e.what();
      QVERIFY2(what.startsWith("bad.yaml: document 1: line "), e.what());
    }
    try {
      parse_manifests("kind: A\n---\n- just\n- a list\n", "seq.yaml");
      QFAIL("a sequence document must throw");
    } catch (const std::invalid_argument& e) {
      QVERIFY2(QString(e.what()).contains("seq.yaml: document 1: line 3"), e.what());
    }
    QVERIFY(parse_manifests("", "empty.yaml").empty());
    QVERIFY(parse_manifests("---\n# only a comment\n---\n", "comments.yaml").empty());
  }
};

QTEST_APPLESS_MAIN(ManifestTest)
#include "tst_apiserver_manifest.moc"
