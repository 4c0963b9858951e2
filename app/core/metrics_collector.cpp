#include "core/metrics_collector.h"

#include <QJsonDocument>
#include <QNetworkReply>
#include <QUrlQuery>
#include <algorithm>

#include "core/informer.h"
#include "core/kube_client.h"
#include "core/kube_objects.h"
#include "core/prometheus_text.h"

namespace mambogo::core {

namespace {

constexpr const char* kRequestCount = "http_server_requests_seconds_count";
constexpr const char* kRequestBucket = "http_server_requests_seconds_bucket";
constexpr const char* kBreakerState = "resilience4j_circuitbreaker_state";
constexpr qint64 kForgetPodAfterMs = 60'000;

QString seriesKey(const prom::Sample& s) {
  QString key = QString::fromStdString(s.name);
  for (const auto& [name, value] : s.labels)
    key += QLatin1Char('|') + QString::fromStdString(name) + QLatin1Char('=') + QString::fromStdString(value);
  return key;
}

int breakerSeverity(const QString& state) {
  if (state == QLatin1String("open")) return 5;
  if (state == QLatin1String("half_open")) return 4;
  if (state == QLatin1String("forced_open")) return 3;
  if (state == QLatin1String("closed")) return 0;
  return 1;  // disabled, metrics_only
}

double quantile(double q, const std::map<double, double>& weights) {
  std::vector<prom::Bucket> buckets;
  buckets.reserve(weights.size());
  for (const auto& [le, count] : weights) buckets.push_back({le, count});
  return prom::histogramQuantile(q, std::move(buckets));
}

double addKnown(double sum, double v) { return std::isnan(v) ? sum : (std::isnan(sum) ? v : sum + v); }

}  // namespace

MetricsCollector::MetricsCollector(KubeClient* client, Informer* pods, TimeSeriesStore* store, Options options, QObject* parent)
    : QObject(parent), m_client(client), m_podsInformer(pods), m_store(store), m_options(std::move(options)) {
  connect(&m_timer, &QTimer::timeout, this, &MetricsCollector::scrapeNow);
}

void MetricsCollector::start() {
  m_timer.start(m_options.intervalMs);
  scrapeNow();
}

void MetricsCollector::stop() { m_timer.stop(); }

QStringList MetricsCollector::services() const {
  QStringList names = m_services.keys();
  names.sort();
  return names;
}

void MetricsCollector::scrapeNow() {
  if (m_outstanding > 0) return;  // the previous round is still out: skip this tick
  m_roundMs = now();
  ++m_outstanding;  // held until every request of the round is sent
  if (m_options.prometheusUrl.isEmpty()) scrapePodProxy(m_roundMs);
  else scrapePrometheus(m_roundMs);
  requestPodMetrics();
  roundStepDone();
}

void MetricsCollector::roundStepDone() {
  if (--m_outstanding == 0) finishRound(m_roundMs);
}

void MetricsCollector::scrapePodProxy(qint64 tMs) {
  if (!m_podsInformer || !m_client) return;
  for (const QJsonObject& pod : m_podsInformer->objects()) {
    const QString app = labelOf(pod, QStringLiteral("app"));
    const QString phase = pod.value(QLatin1String("status")).toObject().value(QLatin1String("phase")).toString();
    if (app.isEmpty() || phase != QLatin1String("Running")) continue;
    const QString name = nameOf(pod);
    const QString path = QStringLiteral("/api/v1/namespaces/%1/pods/%2:%3/proxy/%4")
                             .arg(namespaceOf(pod), name)
                             .arg(m_options.metricsPort)
                             .arg(m_options.metricsPath);
    ++m_outstanding;
    m_client->getText(path, this, [this, name, app, tMs](const KubeResponse& r) {
      if (r.ok()) ingestExposition(name, app, r.body, tMs);
      else Q_EMIT scrapeFailed(name, r.error.toString());
      roundStepDone();
    });
  }
}

void MetricsCollector::requestPodMetrics() {
  if (!m_client) return;
  ++m_outstanding;
  m_client->get(QStringLiteral("/apis/metrics.k8s.io/v1beta1/namespaces/%1/pods").arg(m_options.nameSpace), {}, this,
                [this](const KubeResponse& r) {
                  if (r.ok()) ingestPodMetrics(r.json());  // no metrics API: CPU and memory stay NaN
                  roundStepDone();
                });
}

void MetricsCollector::ingestPodMetrics(const QJsonObject& list) {
  m_usage.clear();
  for (const QJsonValue& item : list.value(QLatin1String("items")).toArray()) {
    double cores = 0, bytes = 0;
    for (const QJsonValue& c : item.toObject().value(QLatin1String("containers")).toArray()) {
      const QJsonObject usage = c.toObject().value(QLatin1String("usage")).toObject();
      cores += parseQuantity(usage.value(QLatin1String("cpu")).toString()).value_or(0);
      bytes += parseQuantity(usage.value(QLatin1String("memory")).toString()).value_or(0);
    }
    m_usage.insert(nameOf(item.toObject()), {cores, bytes});
  }
}

double MetricsCollector::increase(PodState& pod, const QString& key, double value) {
  const auto it = pod.counters.find(key);
  const bool known = it != pod.counters.end();
  const double previous = known ? *it : 0;
  pod.counters.insert(key, value);
  if (!pod.seen) return 0;       // baseline
  if (!known) return value;      // a series born since the last scrape started at 0
  return value >= previous ? value - previous : value;  // a drop is a restart
}

void MetricsCollector::ingestExposition(const QString& podName, const QString& app, const QByteArray& text, qint64 tMs) {
  prom::Exposition e = prom::parsePrometheusText(std::string_view(text.constData(), static_cast<std::size_t>(text.size())));
  if (e.samples.empty() && !e.errors.empty()) {
    Q_EMIT scrapeFailed(podName, QStringLiteral("/metrics: %1").arg(QString::fromStdString(e.errors.front().toString())));
    return;
  }
  PodState& pod = m_pods[podName];
  pod.app = app;
  double requests = 0, errors = 0;
  LeCounts buckets;
  pod.breakers.clear();
  for (const prom::Sample& s : e.samples) {
    if (s.name == kRequestCount) {
      const double d = increase(pod, seriesKey(s), s.value);
      requests += d;
      if (s.label("status").value_or("").starts_with('5')) errors += d;
    } else if (s.name == kRequestBucket) {
      const auto le = prom::parseFloat(s.label("le").value_or(""));
      const double d = increase(pod, seriesKey(s), s.value);
      if (le) buckets[*le] += d;
    } else if (s.name == kBreakerState && s.value == 1) {
      pod.breakers.insert(QString::fromStdString(std::string(s.label("name").value_or(""))),
                          QString::fromStdString(std::string(s.label("state").value_or(""))));
    }
  }
  if (pod.seen && tMs > pod.lastMs) {
    const double seconds = static_cast<double>(tMs - pod.lastMs) / 1000.0;
    pod.requestsPerSecond = requests / seconds;
    pod.errorsPerSecond = errors / seconds;
    pod.bucketIncreases.emplace_back(tMs, std::move(buckets));
    while (!pod.bucketIncreases.empty() && pod.bucketIncreases.front().first <= tMs - m_options.quantileWindowMs)
      pod.bucketIncreases.pop_front();
  }
  pod.seen = true;
  pod.lastMs = tMs;
  pod.updatedThisRound = true;
  pod.samples = std::move(e.samples);
}

double MetricsCollector::sampleSum(const QString& app, const QString& name, const QList<QPair<QString, QString>>& matchers,
                                   bool maxOverPods) const {
  const std::string wanted = name.toStdString();
  std::vector<std::pair<std::string, std::string>> want;
  for (const auto& [k, v] : matchers) want.emplace_back(k.toStdString(), v.toStdString());
  double result = Values::kNaN;
  for (const PodState& pod : m_pods) {
    if (pod.app != app || pod.lastUpdateMs != m_lastRoundMs) continue;  // gone, or not answering
    double podSum = Values::kNaN;
    bool exported = false;
    for (const prom::Sample& s : pod.samples) {
      if (s.name != wanted) continue;
      exported = true;
      const bool match = std::all_of(want.begin(), want.end(), [&s](const auto& kv) { return s.label(kv.first) == kv.second; });
      if (match) podSum = addKnown(podSum, s.value);
    }
    // A pod that exports the sample but no series with these labels counts 0 (no 429 answered
    // yet is zero 429s); a pod without the sample at all knows nothing about it.
    if (std::isnan(podSum) && exported) podSum = 0;
    if (std::isnan(podSum)) continue;
    result = std::isnan(result) ? podSum : maxOverPods ? std::max(result, podSum) : result + podSum;
  }
  return result;
}

MetricsCollector::LeCounts MetricsCollector::bucketWeights(const PodState& pod) const {
  if (!m_options.prometheusUrl.isEmpty()) return pod.bucketRates;
  LeCounts sum;
  for (const auto& [t, increases] : pod.bucketIncreases)
    for (const auto& [le, count] : increases) sum[le] += count;
  return sum;
}

void MetricsCollector::finishRound(qint64 tMs) {
  QHash<QString, Values> services;
  QHash<QString, std::pair<double, double>> serviceLoad;  // app -> (requests/s, errors/s)
  QHash<QString, LeCounts> serviceBuckets;
  for (auto it = m_pods.begin(); it != m_pods.end();) {
    PodState& pod = it.value();
    if (!pod.updatedThisRound) {
      if (tMs - pod.lastUpdateMs > kForgetPodAfterMs) it = m_pods.erase(it);
      else ++it;
      continue;
    }
    pod.updatedThisRound = false;
    pod.lastUpdateMs = tMs;
    m_lastRoundMs = tMs;
    Values& v = pod.values;
    const LeCounts weights = bucketWeights(pod);
    v.rps = pod.requestsPerSecond;
    v.errorRate = pod.requestsPerSecond > 0 ? pod.errorsPerSecond / pod.requestsPerSecond : Values::kNaN;
    v.p50 = quantile(0.5, weights);
    v.p95 = quantile(0.95, weights);
    v.p99 = quantile(0.99, weights);
    const auto usage = m_usage.constFind(it.key());
    v.cpuCores = usage == m_usage.cend() ? Values::kNaN : usage->first;
    v.memoryBytes = usage == m_usage.cend() ? Values::kNaN : usage->second;
    v.breakers = pod.breakers;

    Values& s = services[pod.app];
    if (!serviceLoad.contains(pod.app)) serviceLoad.insert(pod.app, {Values::kNaN, Values::kNaN});
    auto& [requests, errors] = serviceLoad[pod.app];
    requests = addKnown(requests, pod.requestsPerSecond);
    errors = addKnown(errors, pod.errorsPerSecond);
    for (const auto& [le, count] : weights) serviceBuckets[pod.app][le] += count;
    s.cpuCores = addKnown(s.cpuCores, v.cpuCores);
    s.memoryBytes = addKnown(s.memoryBytes, v.memoryBytes);
    for (auto b = pod.breakers.cbegin(); b != pod.breakers.cend(); ++b) {
      const QString current = s.breakers.value(b.key());
      if (current.isEmpty() || breakerSeverity(b.value()) > breakerSeverity(current)) s.breakers.insert(b.key(), b.value());
    }
    storeValues(QStringLiteral("pod"), it.key(), v, tMs);
    ++it;
  }
  for (auto it = services.begin(); it != services.end(); ++it) {
    Values& s = it.value();
    const auto [requests, errors] = serviceLoad.value(it.key(), {Values::kNaN, Values::kNaN});
    s.rps = requests;
    s.errorRate = requests > 0 ? errors / requests : Values::kNaN;
    const LeCounts& weights = serviceBuckets[it.key()];
    s.p50 = quantile(0.5, weights);
    s.p95 = quantile(0.95, weights);
    s.p99 = quantile(0.99, weights);
    const QMap<QString, QString> before = m_services.value(it.key()).breakers;
    for (auto b = s.breakers.cbegin(); b != s.breakers.cend(); ++b) {
      const QString was = before.value(b.key());
      if (!was.isEmpty() && was != b.value()) Q_EMIT breakerChanged(it.key(), b.key(), was, b.value());
    }
    storeValues(QStringLiteral("service"), it.key(), s, tMs);
  }
  // A service whose pods all went quiet this round keeps its last values until they are forgotten.
  for (auto it = m_services.cbegin(); it != m_services.cend(); ++it)
    if (!services.contains(it.key()) &&
        std::any_of(m_pods.cbegin(), m_pods.cend(), [&](const PodState& p) { return p.app == it.key(); }))
      services.insert(it.key(), it.value());
  m_services = services;
  Q_EMIT updated();
}

void MetricsCollector::storeValues(const QString& scope, const QString& name, const Values& v, qint64 tMs) {
  if (!m_store) return;
  using A = TimeSeriesStore::Aggregation;
  const std::pair<const char*, std::pair<double, A>> values[] = {
      {"rps", {v.rps, A::Average}},     {"errorRate", {v.errorRate, A::Average}}, {"p50", {v.p50, A::Max}},
      {"p95", {v.p95, A::Max}},         {"p99", {v.p99, A::Max}},                 {"cpu", {v.cpuCores, A::Average}},
      {"memory", {v.memoryBytes, A::Average}}};
  for (const auto& [metric, valueAndAggregation] : values) {
    const auto [value, aggregation] = valueAndAggregation;
    if (!std::isnan(value)) m_store->append(seriesName(scope, name, QLatin1String(metric)), tMs, value, aggregation);
  }
}

void MetricsCollector::scrapePrometheus(qint64 tMs) {
  const QString range = m_options.prometheusRange;
  auto podFor = [this, tMs](const QJsonObject& metric) -> PodState& {
    PodState& pod = m_pods[metric.value(QLatin1String("pod")).toString()];
    pod.app = metric.value(QLatin1String("app")).toString();
    pod.lastMs = tMs;
    pod.seen = true;
    pod.updatedThisRound = true;
    return pod;
  };
  auto valueOf = [](const QJsonObject& r) { return r.value(QLatin1String("value")).toArray().at(1).toString().toDouble(); };
  for (PodState& pod : m_pods) {
    pod.bucketRates.clear();
    pod.breakers.clear();
    pod.errorsPerSecond = 0;
  }
  queryPrometheus(QStringLiteral("sum by (app, pod) (rate(%1[%2]))").arg(QLatin1String(kRequestCount), range), [=](const QJsonArray& rs) {
    for (const QJsonValue& r : rs) podFor(r.toObject().value(QLatin1String("metric")).toObject()).requestsPerSecond = valueOf(r.toObject());
  });
  queryPrometheus(QStringLiteral("sum by (app, pod) (rate(%1{status=~\"5..\"}[%2]))").arg(QLatin1String(kRequestCount), range),
                  [=](const QJsonArray& rs) {
                    for (const QJsonValue& r : rs) podFor(r.toObject().value(QLatin1String("metric")).toObject()).errorsPerSecond = valueOf(r.toObject());
                  });
  queryPrometheus(QStringLiteral("sum by (app, pod, le) (rate(%1[%2]))").arg(QLatin1String(kRequestBucket), range), [=](const QJsonArray& rs) {
    for (const QJsonValue& r : rs) {
      const QJsonObject metric = r.toObject().value(QLatin1String("metric")).toObject();
      const auto le = prom::parseFloat(metric.value(QLatin1String("le")).toString().toStdString());
      if (le) podFor(metric).bucketRates[*le] += valueOf(r.toObject());
    }
  });
  queryPrometheus(QStringLiteral("%1 == 1").arg(QLatin1String(kBreakerState)), [=](const QJsonArray& rs) {
    for (const QJsonValue& r : rs) {
      const QJsonObject metric = r.toObject().value(QLatin1String("metric")).toObject();
      podFor(metric).breakers.insert(metric.value(QLatin1String("name")).toString(), metric.value(QLatin1String("state")).toString());
    }
  });
}

void MetricsCollector::queryPrometheus(const QString& promql, std::function<void(const QJsonArray&)> onResult) {
  QUrl url = m_options.prometheusUrl;
  url.setPath(url.path() + QStringLiteral("/api/v1/query"));
  QUrlQuery query;
  query.addQueryItem(QStringLiteral("query"), promql);
  url.setQuery(query);
  QNetworkRequest request(url);
  request.setTransferTimeout(std::max(1000, m_options.intervalMs * 5));
  QNetworkReply* reply = m_prometheus.get(request);
  ++m_outstanding;
  connect(reply, &QNetworkReply::finished, this, [this, reply, promql, onResult = std::move(onResult)] {
    reply->deleteLater();
    const QJsonObject answer = QJsonDocument::fromJson(reply->readAll()).object();
    if (answer.value(QLatin1String("status")).toString() == QLatin1String("success"))
      onResult(answer.value(QLatin1String("data")).toObject().value(QLatin1String("result")).toArray());
    else
      Q_EMIT scrapeFailed(QString(), QStringLiteral("Prometheus query %1: %2")
                                         .arg(promql, reply->error() != QNetworkReply::NoError
                                                          ? reply->errorString()
                                                          : answer.value(QLatin1String("error")).toString()));
    roundStepDone();
  });
}

}  // namespace mambogo::core
