// The whole local cluster as a user meets it: `mambogo-cluster up` (embedded profile) runs
// packaging/kubernetes, and kubectl and the official Python client work against it unchanged —
// get, scale, delete a pod (a replacement becomes Ready), a rolling update seen step by step,
// logs, top, watch — the shop answers through the gateway's Service, every replica of a scaled
// service gets traffic over kept-alive connections, the HPA follows CPU load
// as Kubernetes' formula says, chaos acts and recovers, and `down` leaves no process behind.
#include <QtTest>

#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "cluster_process.h"
#include "raw_http.h"

using mambogo::test::LocalCluster;
using nlohmann::json;

namespace {

int count_ready(const json& pods) {
  int ready = 0;
  for (const auto& pod : pods.value("items", json::array())) {
    if (pod["metadata"].contains("deletionTimestamp")) continue;
    for (const auto& c : pod["status"].value("conditions", json::array()))
      if (c.value("type", "") == "Ready" && c.value("status", "") == "True") ++ready;
  }
  return ready;
}

std::set<std::string> pod_names(const json& pods) {
  std::set<std::string> names;
  for (const auto& pod : pods.value("items", json::array())) names.insert(pod["metadata"]["name"].get<std::string>());
  return names;
}

// "host:port" of a Service's cluster IP and first port.
// GET /api/products answered so far by the product-service pod at pod_ip (its own metrics).
double products_served(const std::string& pod_ip) {
  const auto r = mambogo::test::http_request(pod_ip, 8080, "GET", "/metrics");
  double total = 0;
  if (!r) return total;
  std::istringstream lines(r->body);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("http_server_requests_seconds_count{", 0) == 0 && line.find("uri=\"/api/products\"") != std::string::npos)
      total += std::stod(line.substr(line.rfind(' ') + 1));
  return total;
}

std::pair<std::string, int> service_address(const LocalCluster& cluster, const QString& name) {
  const json svc = cluster.kubectl_json({"get", "svc", name});
  return {svc["spec"].value("clusterIP", ""), svc["spec"]["ports"][0].value("port", 0)};
}

}  // namespace

class ClusterLocalTest : public QObject {
  Q_OBJECT

  std::unique_ptr<LocalCluster> cluster_;

 private slots:
  void initTestCase() {
    cluster_ = std::make_unique<LocalCluster>("embedded", QStringList{"--hpa-sync-period", "1"});
    const bool ready = cluster_->wait_ready();
    if (!ready) qWarning().noquote() << cluster_->log();
    QVERIFY2(ready, "mambogo-cluster up did not report READY");
    QVERIFY(cluster_->log().contains("pod/"));  // progress per pod
  }

  void kubectl_sees_every_workload() {
    auto r = cluster_->kubectl({"get", "pods"});
    QVERIFY2(r.ok(), qPrintable(r.err));
    for (const char* app : {"gateway", "product-service", "cart-service", "order-service", "payment-service"})
      QVERIFY2(r.out.contains(app), app);
    QVERIFY(r.out.contains("Running"));
    QVERIFY(r.out.contains("READY"));  // kubectl's table header: the server answered as a Table

    r = cluster_->kubectl({"get", "deploy,svc,hpa"});
    QVERIFY2(r.ok(), qPrintable(r.err));
    QVERIFY(r.out.contains("deployment.apps/order-service"));
    QVERIFY(r.out.contains("horizontalpodautoscaler.autoscaling/order-service"));
    QVERIFY(r.out.contains("LoadBalancer"));

    const json pods = cluster_->kubectl_json({"get", "pods", "-l", "app=order-service"});
    QVERIFY(!pods["items"].empty());
    const std::string ip = pods["items"][0]["status"].value("podIP", "");
    QVERIFY2(ip.rfind(cluster_->ip_prefix().toStdString() + ".1.", 0) == 0, ip.c_str());  // own loopback address
  }

  void the_shop_answers_through_the_gateway_service() {
    const auto [ip, port] = service_address(*cluster_, "gateway");
    QVERIFY(!ip.empty());
    const auto response = mambogo::test::http_request(ip, port, "GET", "/api/products?size=3");
    QVERIFY(response);
    QCOMPARE(response->status, 200);
    QVERIFY(json::parse(response->body, nullptr, false).is_object());
  }

  void scale_and_replace_pods() {
    // As a user would before scaling by hand: the autoscaler would otherwise undo it (and, on a
    // busy machine, scale it further than the counts below).
    auto r = cluster_->kubectl({"delete", "hpa", "product-service-hpa"});
    QVERIFY2(r.ok(), qPrintable(r.err));
    r = cluster_->kubectl({"scale", "deploy/product-service", "--replicas=3"});
    QVERIFY2(r.ok(), qPrintable(r.err));
    QVERIFY(LocalCluster::eventually(
        [&] { return count_ready(cluster_->kubectl_json({"get", "pods", "-l", "app=product-service"})) == 3; }, 60'000));

    const auto before = pod_names(cluster_->kubectl_json({"get", "pods", "-l", "app=product-service"}));
    const std::string victim = *before.begin();
    r = cluster_->kubectl({"delete", "pod", QString::fromStdString(victim), "--wait=true"}, 90'000);
    QVERIFY2(r.ok(), qPrintable(r.err));
    QVERIFY(LocalCluster::eventually(
        [&] {
          const json pods = cluster_->kubectl_json({"get", "pods", "-l", "app=product-service"});
          return count_ready(pods) == 3 && !pod_names(pods).count(victim);
        },
        60'000));
  }

  // Kubernetes balances connections, not requests, and the gateway keeps its connection to
  // product-service open: without the services' keepalive_time (10 s in the manifests) each
  // gateway pod would stay on the product pod its first connection landed on, and of three
  // replicas one would get nothing. Within ~25 s of steady traffic every replica serves some.
  void every_replica_gets_traffic_on_kept_alive_connections() {
    const json pods = cluster_->kubectl_json({"get", "pods", "-l", "app=product-service"});
    QCOMPARE(count_ready(pods), 3);
    const auto served = products_served;
    std::map<std::string, double> before;
    for (const auto& pod : pods["items"]) before[pod["status"].value("podIP", "")] = served(pod["status"].value("podIP", ""));
    const auto [ip, port] = service_address(*cluster_, "gateway");
    // Distinct queries, so the gateway's response cache answers none of them itself.
    int sent = 0;
    std::map<std::string, double> gained;
    const bool all_served = LocalCluster::eventually(
        [&] {
          for (int i = 0; i < 20; ++i) {
            const auto r = mambogo::test::http_request(ip, port, "GET", "/api/products?size=1&spread=" + std::to_string(++sent));
            if (!r || r->status != 200) return false;
          }
          for (const auto& [pod_ip, count] : before) gained[pod_ip] = served(pod_ip) - count;
          return std::all_of(gained.begin(), gained.end(), [](const auto& g) { return g.second > 0; });
        },
        40'000);
    QVERIFY2(all_served, qPrintable(QString::fromStdString(json(gained).dump()) + " after " + QString::number(sent) + " requests"));
    QVERIFY(cluster_->kubectl({"scale", "deploy/product-service", "--replicas=1"}).ok());
  }

  // Every pod gets what kubelet gives it (KUBERNETES_SERVICE_HOST/PORT, a service-account volume
  // with token, ca.crt, namespace), so the gateway switched to kubernetes discovery finds the
  // API server as in a real cluster, over TLS, and balances per request over product-service's
  // ready pods: 90 requests spread evenly at once, where kube-proxy keeps a connection on a pod.
  void gateway_discovers_pods_through_the_api_server() {
    QVERIFY(cluster_->kubectl({"scale", "deploy/product-service", "--replicas=3"}).ok());
    QVERIFY(LocalCluster::eventually(
        [&] { return count_ready(cluster_->kubectl_json({"get", "pods", "-l", "app=product-service"})) == 3; }, 60'000));
    auto r = cluster_->kubectl({"set", "env", "deploy/gateway", "GATEWAY_DISCOVERY=kubernetes"});
    QVERIFY2(r.ok(), qPrintable(r.err));
    r = cluster_->kubectl({"rollout", "status", "deploy/gateway", "--timeout=90s"}, 120'000);
    QVERIFY2(r.ok(), qPrintable(r.out + r.err));
    const json gateways = cluster_->kubectl_json({"get", "pods", "-l", "app=gateway"});
    for (const auto& pod : gateways["items"]) {
      if (pod["metadata"].contains("deletionTimestamp")) continue;
      const std::string ip = pod["status"].value("podIP", "");
      QVERIFY2(LocalCluster::eventually(
                   [&] {
                     const auto h = mambogo::test::http_request(ip, 8080, "GET", "/health");
                     return h && h->body.find("\"discovery\":\"kubernetes\"") != std::string::npos &&
                            h->body.find("\"healthy\":3") != std::string::npos;
                   },
                   30'000),
               qPrintable(QString::fromStdString(ip + ": " + [&] {
                 const auto h = mambogo::test::http_request(ip, 8080, "GET", "/health");
                 return h ? h->body : std::string("no answer");
               }())));
    }
    const json products = cluster_->kubectl_json({"get", "pods", "-l", "app=product-service"});
    std::map<std::string, double> before, gained;
    for (const auto& pod : products["items"]) before[pod["status"].value("podIP", "")] = products_served(pod["status"].value("podIP", ""));
    const auto [ip, port] = service_address(*cluster_, "gateway");
    for (int i = 0; i < 90; ++i) {
      const auto answer = mambogo::test::http_request(ip, port, "GET", "/api/products?size=1&even=" + std::to_string(i));
      QVERIFY(answer && answer->status == 200);
    }
    for (const auto& [pod_ip, count] : before) gained[pod_ip] = products_served(pod_ip) - count;
    for (const auto& [pod_ip, n] : gained)
      QVERIFY2(n >= 18, qPrintable(QString::fromStdString(json(gained).dump())));  // 30 each when exact

    r = cluster_->kubectl({"set", "env", "deploy/gateway", "GATEWAY_DISCOVERY=static"});
    QVERIFY2(r.ok(), qPrintable(r.err));
    r = cluster_->kubectl({"rollout", "status", "deploy/gateway", "--timeout=90s"}, 120'000);
    QVERIFY2(r.ok(), qPrintable(r.out + r.err));
    QVERIFY(cluster_->kubectl({"scale", "deploy/product-service", "--replicas=1"}).ok());
  }

  void rolling_update_step_by_step() {
    // Two replicas, maxSurge 1, maxUnavailable 0: never more than 3 pods, never fewer than 2 ready.
    QVERIFY(cluster_->kubectl({"scale", "deploy/cart-service", "--replicas=2"}).ok());
    QVERIFY(LocalCluster::eventually(
        [&] { return count_ready(cluster_->kubectl_json({"get", "pods", "-l", "app=cart-service"})) == 2; }, 60'000));
    auto r = cluster_->kubectl({"patch", "deploy/cart-service", "--type=merge", "-p",
                                R"({"spec":{"strategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}}})"});
    QVERIFY2(r.ok(), qPrintable(r.err));
    const auto old_pods = pod_names(cluster_->kubectl_json({"get", "pods", "-l", "app=cart-service"}));
    r = cluster_->kubectl({"set", "env", "deploy/cart-service", "ROLLOUT_MARK=1"});
    QVERIFY2(r.ok(), qPrintable(r.err));

    int most_pods = 0, fewest_ready = 100;
    bool done = LocalCluster::eventually(
        [&] {
          const json pods = cluster_->kubectl_json({"get", "pods", "-l", "app=cart-service"});
          int live = 0;
          for (const auto& p : pods.value("items", json::array()))
            if (!p["metadata"].contains("deletionTimestamp")) ++live;
          most_pods = std::max(most_pods, live);
          fewest_ready = std::min(fewest_ready, count_ready(pods));
          const auto names = pod_names(pods);
          bool any_old = false;
          for (const auto& n : names) any_old = any_old || old_pods.count(n);
          return !any_old && count_ready(pods) == 2;
        },
        120'000);
    QVERIFY2(done, "the rollout did not finish");
    QVERIFY2(most_pods <= 3, qPrintable(QString("saw %1 pods, maxSurge allows 3").arg(most_pods)));
    QVERIFY2(fewest_ready >= 2, qPrintable(QString("saw %1 ready, maxUnavailable 0 needs 2").arg(fewest_ready)));
    r = cluster_->kubectl({"rollout", "status", "deploy/cart-service", "--timeout=60s"}, 90'000);
    QVERIFY2(r.ok(), qPrintable(r.out + r.err));
  }

  void logs_and_top() {
    const json pods = cluster_->kubectl_json({"get", "pods", "-l", "app=payment-service"});
    const QString pod = QString::fromStdString(pods["items"][0]["metadata"]["name"].get<std::string>());
    auto r = cluster_->kubectl({"logs", pod, "--tail=20"});
    QVERIFY2(r.ok(), qPrintable(r.err));
    QVERIFY(!r.out.trimmed().isEmpty());
    QVERIFY(LocalCluster::eventually([&] { return cluster_->kubectl({"top", "pods"}).out.contains("payment-service"); },
                                     30'000));
    r = cluster_->kubectl({"top", "pods"});
    QVERIFY(r.out.contains("CPU"));
  }

  void python_client_lists_and_watches() {
    const QString code = R"(
import kubernetes, threading, time
kubernetes.config.load_kube_config()
v1 = kubernetes.client.CoreV1Api()
apps = kubernetes.client.AppsV1Api()
print("pods", len(v1.list_namespaced_pod("default").items))
print("deployments", sorted(d.metadata.name for d in apps.list_namespaced_deployment("default").items))
seen = []
w = kubernetes.watch.Watch()
def scale():
    time.sleep(1)
    apps.patch_namespaced_deployment_scale("payment-service", "default", {"spec": {"replicas": 2}})
threading.Thread(target=scale).start()
for e in w.stream(apps.list_namespaced_deployment, "default", field_selector="metadata.name=payment-service", timeout_seconds=20):
    seen.append(e["type"])
    if e["type"] == "MODIFIED" and e["object"].spec.replicas == 2:
        w.stop()
print("events", seen[0], "MODIFIED" in seen)
)";
    auto r = cluster_->python(code, 60'000);
    QVERIFY2(r.ok(), qPrintable(r.out + r.err));
    QVERIFY(r.out.contains("deployments ['cart-service', 'gateway', 'order-service', 'payment-service', 'product-service']"));
    QVERIFY(r.out.contains("events ADDED True"));
    QVERIFY(cluster_->kubectl({"scale", "deploy/payment-service", "--replicas=1"}).ok());
  }

  void hpa_follows_cpu_as_kubernetes_computes() {
    // Stress order-service's CPU; the HPA (synced every second here) must scale it up, and its
    // desired replica count must be Kubernetes' ceil(current * utilization / target).
    const json hpa0 = cluster_->kubectl_json({"get", "hpa", "order-service-hpa"});
    const int target = hpa0["spec"]["metrics"][0]["resource"]["target"].value("averageUtilization", 0);
    QVERIFY(target > 0);
    const QByteArray stress = R"({"apiVersion":"chaos-mesh.org/v1alpha1","kind":"StressChaos",
      "metadata":{"name":"burn-order","namespace":"default"},
      "spec":{"mode":"all","selector":{"labelSelectors":{"app":"order-service"}},
              "stressors":{"cpu":{"workers":1,"load":100}},"duration":"120s"}})";
    auto r = cluster_->kubectl({"apply", "-f", "-"}, 30'000, stress);
    QVERIFY2(r.ok(), qPrintable(r.err));
    int consistent = 0;
    const bool scaled = LocalCluster::eventually(
        [&] {
          const json hpa = cluster_->kubectl_json({"get", "hpa", "order-service-hpa"});
          const json status = hpa.value("status", json::object());
          const int current = status.value("currentReplicas", 0);
          const int desired = status.value("desiredReplicas", 0);
          for (const auto& m : status.value("currentMetrics", json::array())) {
            const int util = m["resource"]["current"].value("averageUtilization", -1);
            if (util < 0 || current == 0) continue;
            const double ratio = static_cast<double>(util) / target;
            int expected = std::abs(ratio - 1.0) <= 0.1 ? current : static_cast<int>(std::ceil(current * ratio));
            expected = std::clamp(expected, hpa["spec"].value("minReplicas", 1), hpa["spec"].value("maxReplicas", 10));
            // The behavior's scale-up cap (max of 100% and 4 pods per 15 s) may hold it lower.
            const int capped = std::min(expected, std::max(2 * current, current + 4));
            if (desired == capped || desired == current) ++consistent;
          }
          return desired > hpa["spec"].value("minReplicas", 1);
        },
        90'000);
    QVERIFY2(scaled, "the HPA did not scale order-service up under CPU stress");
    QVERIFY(consistent > 0);
    QVERIFY(cluster_->kubectl({"delete", "stresschaos", "burn-order"}).ok());

    // Back down once the load is gone, but only after the scale-down stabilization window
    // (Kubernetes' default is 300 s; shortened here to 10 s the way a drill would).
    r = cluster_->kubectl({"patch", "hpa", "order-service-hpa", "--type=merge", "-p",
                           R"({"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":10}}}})"});
    QVERIFY2(r.ok(), qPrintable(r.err));
    QElapsedTimer calm;
    calm.start();
    const bool back_down = LocalCluster::eventually(
        [&] {
          const json hpa = cluster_->kubectl_json({"get", "hpa", "order-service-hpa"});
          return hpa.value("status", json::object()).value("desiredReplicas", 0) == hpa["spec"].value("minReplicas", 1);
        },
        120'000);
    QVERIFY2(back_down, "the HPA did not scale order-service back down after the load stopped");
    QVERIFY2(calm.elapsed() >= 9'000, "scaled down before the stabilization window had passed");
  }

  void chaos_acts_and_recovers() {
    const auto [ip, port] = service_address(*cluster_, "product-service");
    auto round_trip_ms = [&, ip = ip, port = port] {
      QElapsedTimer t;
      t.start();
      mambogo::test::http_request(ip, port, "GET", "/health/live");
      return t.elapsed();
    };
    const QByteArray delay = R"({"apiVersion":"chaos-mesh.org/v1alpha1","kind":"NetworkChaos",
      "metadata":{"name":"slow-product"},
      "spec":{"action":"delay","mode":"all","selector":{"labelSelectors":{"app":"product-service"}},
              "delay":{"latency":"150ms"},"direction":"to"}})";
    QVERIFY(cluster_->kubectl({"apply", "-f", "-"}, 30'000, delay).ok());
    QVERIFY(LocalCluster::eventually([&] { return round_trip_ms() >= 140; }, 20'000));
    QVERIFY(cluster_->kubectl({"delete", "networkchaos", "slow-product"}).ok());
    QVERIFY(LocalCluster::eventually([&] { return round_trip_ms() < 100; }, 20'000));

    const QByteArray abort = R"({"apiVersion":"chaos-mesh.org/v1alpha1","kind":"HTTPChaos",
      "metadata":{"name":"product-503"},
      "spec":{"mode":"all","selector":{"labelSelectors":{"app":"product-service"}},"target":"Request",
              "port":8080,"path":"/api/products*","replace":{"code":503}}})";
    QVERIFY(cluster_->kubectl({"apply", "-f", "-"}, 30'000, abort).ok());
    auto products_status = [&, ip = ip, port = port] {
      const auto response = mambogo::test::http_request(ip, port, "GET", "/api/products");
      return response ? response->status : 0;
    };
    QVERIFY(LocalCluster::eventually([&] { return products_status() == 503; }, 20'000));
    QVERIFY(cluster_->kubectl({"delete", "httpchaos", "product-503"}).ok());
    QVERIFY(LocalCluster::eventually([&] { return products_status() == 200; }, 20'000));

    const json before = cluster_->kubectl_json({"get", "pods", "-l", "app=payment-service"});
    const QByteArray kill = R"({"apiVersion":"chaos-mesh.org/v1alpha1","kind":"PodChaos",
      "metadata":{"name":"kill-payment"},
      "spec":{"action":"pod-kill","mode":"one","selector":{"labelSelectors":{"app":"payment-service"}}}})";
    QVERIFY(cluster_->kubectl({"apply", "-f", "-"}, 30'000, kill).ok());
    QVERIFY(LocalCluster::eventually(
        [&] {
          const json pods = cluster_->kubectl_json({"get", "pods", "-l", "app=payment-service"});
          return count_ready(pods) == 1 && pod_names(pods) != pod_names(before);
        },
        60'000));
  }

  // NetworkChaos between selected pods and a target: only what the gateway's pods send to
  // product-service is delayed. The gateway's calls leave from its own pod IP (HttpClient binds
  // $POD_IP), so the service proxy knows the source pod: through the gateway the products
  // take the delay; the same service called by a client that is no selected pod does not.
  void network_chaos_between_selected_pods_and_a_target() {
    const auto [gw_ip, gw_port] = service_address(*cluster_, "gateway");
    const auto [product_ip, product_port] = service_address(*cluster_, "product-service");
    int probe = 0;
    auto via_gateway_ms = [&, ip = gw_ip, port = gw_port] {
      QElapsedTimer t;
      t.start();  // a new query each time: the gateway's response cache must not answer
      const auto r = mambogo::test::http_request(ip, port, "GET", "/api/products?size=1&probe=" + std::to_string(++probe));
      return r && r->status == 200 ? t.elapsed() : -1;
    };
    auto direct_ms = [ip = product_ip, port = product_port] {
      QElapsedTimer t;
      t.start();
      const auto r = mambogo::test::http_request(ip, port, "GET", "/health/live");
      return r && r->status == 200 ? t.elapsed() : -1;
    };
    QVERIFY(via_gateway_ms() >= 0);
    const QByteArray delay = R"({"apiVersion":"chaos-mesh.org/v1alpha1","kind":"NetworkChaos",
      "metadata":{"name":"gateway-to-product"},
      "spec":{"action":"delay","mode":"all","selector":{"labelSelectors":{"app":"gateway"}},
              "direction":"to","delay":{"latency":"300ms"},
              "target":{"mode":"all","selector":{"labelSelectors":{"app":"product-service"}}}}})";
    QVERIFY(cluster_->kubectl({"apply", "-f", "-"}, 30'000, delay).ok());
    QVERIFY2(LocalCluster::eventually([&] { return via_gateway_ms() >= 290; }, 20'000),
             "the gateway's calls to product-service were not delayed");
    for (int i = 0; i < 3; ++i) {
      const qint64 direct = direct_ms();
      QVERIFY2(direct >= 0 && direct < 200, qPrintable(QString("a direct call took %1 ms").arg(direct)));
    }
    QVERIFY(cluster_->kubectl({"delete", "networkchaos", "gateway-to-product"}).ok());
    QVERIFY(LocalCluster::eventually([&] { const auto ms = via_gateway_ms(); return ms >= 0 && ms < 200; }, 20'000));
  }

  void down_leaves_nothing_running() {
    const QString state = cluster_->state_dir();
    cluster_->stop();
    QCOMPARE(cluster_->exit_code(), 0);
    // No process of this cluster is left: every pod's command line or cwd is under the state dir.
    QDir proc("/proc");
    for (const QString& pid : proc.entryList(QDir::Dirs)) {
      bool numeric = false;
      pid.toInt(&numeric);
      if (!numeric) continue;
      const QString cwd = QFileInfo("/proc/" + pid + "/cwd").symLinkTarget();
      QVERIFY2(!cwd.startsWith(state), qPrintable("process " + pid + " still runs in " + cwd));
    }
  }
};

QTEST_GUILESS_MAIN(ClusterLocalTest)
#include "tst_cluster_local.moc"
