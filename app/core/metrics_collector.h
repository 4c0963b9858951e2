// MetricsCollector: the console's live service metrics, per pod and per service (label app).
//
// Offers
//   - Every intervalMs (1 s by default) a scrape round:
//       pod-proxy mode (default): GET /api/v1/namespaces/NS/pods/NAME:PORT/proxy/metrics for
//       every Running pod with an app label (from the pods Informer), through KubeClient;
//       Prometheus mode (prometheusUrl set): instant queries to PROMETHEUS/api/v1/query, with
//       the series labelled app and pod (the usual kubernetes_sd relabelling):
//         sum by (app, pod) (rate(http_server_requests_seconds_count[R]))
//         sum by (app, pod) (rate(http_server_requests_seconds_count{status=~"5.."}[R]))
//         sum by (app, pod, le) (rate(http_server_requests_seconds_bucket[R]))
//         resilience4j_circuitbreaker_state == 1
//       and in both modes GET /apis/metrics.k8s.io/v1beta1/namespaces/NS/pods for CPU and memory.
//     A round starts only when the previous one has finished (a slow server skips ticks, it
//     does not pile requests up).
//   - Derived values (Values), per pod and per service:
//       rps        requests/s from http_server_requests_seconds_count
//       errorRate  share of those with status 5xx (0..1); NaN without requests
//       p50/p95/p99  histogram_quantile over http_server_requests_seconds_bucket summed by le
//                  (across the pod's series; across the service's pods), over the last
//                  quantileWindowMs (10 s) of increases, as
//                  histogram_quantile(q, sum by (le) (increase(..._bucket[10s])))
//       cpuCores, memoryBytes  from PodMetrics (summed over containers, then pods)
//       breakers   resilience4j_circuitbreaker_state{name,state} == 1: name -> state; for a
//                  service the worst state over its pods (open > half_open > forced_open >
//                  others > closed)
//     Counters are turned into rates between consecutive scrapes of the same pod with reset
//     handling (a drop means the process restarted: the new value is the increase); a pod's
//     first scrape only sets the baseline; a series that appears later counts from 0.
//   - Each value goes into the TimeSeriesStore as "service/<app>/<metric>" and
//     "pod/<name>/<metric>" (metric: rps, errorRate, p50, p95, p99, cpu, memory; quantiles
//     downsampled by max, the rest by average); NaN values are not stored (gaps).
//   - Signals: updated() after each round; breakerChanged(app, breaker, from, to) when a
//     service's breaker state changes; scrapeFailed(pod, message).
//   - ingestExposition() / ingestPodMetrics() / finishRound(): the round's steps, public so
//     tests drive the maths with captured text and a fake clock, without a server.
//
// Thread-safety: lives on the client's thread; every member from that thread.
// Lifetime: client, pods informer and store must outlive the collector.
#pragma once

#include <QDateTime>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QMap>
#include <QNetworkAccessManager>
#include <QObject>
#include <QString>
#include <QTimer>
#include <QUrl>
#include <cmath>
#include <deque>
#include <functional>
#include <limits>
#include <map>

#include "core/prometheus_text.h"
#include "core/time_series.h"

namespace mambogo::core {

class Informer;
class KubeClient;

class MetricsCollector : public QObject {
  Q_OBJECT
 public:
  struct Options {
    int intervalMs = 1000;
    int metricsPort = 8080;
    QString metricsPath = QStringLiteral("metrics");
    QString nameSpace = QStringLiteral("default");
    QUrl prometheusUrl;                      // empty: scrape through the pod proxy
    QString prometheusRange = QStringLiteral("30s");
    int quantileWindowMs = 10'000;
    std::function<qint64()> clock;           // ms since the epoch; default: the system clock
  };

  struct Values {
    static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    double rps = kNaN, errorRate = kNaN, p50 = kNaN, p95 = kNaN, p99 = kNaN;
    double cpuCores = kNaN, memoryBytes = kNaN;
    QMap<QString, QString> breakers;  // breaker name -> state (closed, open, half_open, ...)
  };

  MetricsCollector(KubeClient* client, Informer* pods, TimeSeriesStore* store, Options options, QObject* parent = nullptr);

  void start();
  void stop();
  void scrapeNow();  // one round now (if none is running)

  QStringList services() const;
  Values service(const QString& app) const { return m_services.value(app); }
  Values pod(const QString& name) const { return m_pods.value(name).values; }
  // Pod-proxy mode: for each pod of `app` answering in the last round, the sum of every sample
  // named `name` (full sample name) whose labels include all `matchers`; then the sum over those
  // pods (or their maximum: for gauges every pod reports alike, such as a count read from the
  // shared database). NaN when no pod has such a sample. What drills read raw metrics with.
  double sampleSum(const QString& app, const QString& name, const QList<QPair<QString, QString>>& matchers = {},
                   bool maxOverPods = false) const;
  QString appOfPod(const QString& name) const { return m_pods.value(name).app; }
  static QString seriesName(const QString& scope, const QString& name, const QString& metric) {
    return scope + QLatin1Char('/') + name + QLatin1Char('/') + metric;
  }

  // Round steps (public for tests): parse one pod's /metrics text taken at tMs; record PodMetrics
  // (a metrics.k8s.io PodMetricsList); then aggregate, store and signal.
  void ingestExposition(const QString& podName, const QString& app, const QByteArray& text, qint64 tMs);
  void ingestPodMetrics(const QJsonObject& podMetricsList);
  void finishRound(qint64 tMs);

 Q_SIGNALS:
  void updated();
  void breakerChanged(const QString& app, const QString& breaker, const QString& from, const QString& to);
  void scrapeFailed(const QString& pod, const QString& message);

 private:
  using LeCounts = std::map<double, double>;  // upper bound -> count
  struct PodState {
    QString app;
    bool seen = false;                         // at least one scrape: counters have a baseline
    qint64 lastMs = 0;
    QHash<QString, double> counters;           // series key -> last cumulative value
    std::deque<std::pair<qint64, LeCounts>> bucketIncreases;  // pod-proxy mode, within quantileWindowMs
    LeCounts bucketRates;                      // Prometheus mode: rates by le
    double requestsPerSecond = Values::kNaN, errorsPerSecond = Values::kNaN;
    QMap<QString, QString> breakers;
    Values values;                             // as of the last finished round
    std::vector<prom::Sample> samples;         // the last scrape, as parsed
    qint64 lastUpdateMs = 0;
    bool updatedThisRound = false;
  };

  void scrapePodProxy(qint64 tMs);
  void scrapePrometheus(qint64 tMs);
  void queryPrometheus(const QString& promql, std::function<void(const QJsonArray&)> onResult);
  void requestPodMetrics();
  void roundStepDone();
  static double increase(PodState& pod, const QString& key, double value);
  LeCounts bucketWeights(const PodState& pod) const;
  void storeValues(const QString& scope, const QString& name, const Values& v, qint64 tMs);
  qint64 now() const { return m_options.clock ? m_options.clock() : QDateTime::currentMSecsSinceEpoch(); }

  // Constant after construction.
  KubeClient* const m_client;
  Informer* const m_podsInformer;
  TimeSeriesStore* const m_store;
  const Options m_options;

  QTimer m_timer;
  QNetworkAccessManager m_prometheus;  // Prometheus mode only
  int m_outstanding = 0;               // requests of the running round
  qint64 m_roundMs = 0;
  qint64 m_lastRoundMs = -1;           // the last finished round that had a pod in it
  QHash<QString, PodState> m_pods;     // by pod name
  QHash<QString, std::pair<double, double>> m_usage;  // pod -> (cores, bytes) from PodMetrics
  QHash<QString, Values> m_services;   // by app
};

}  // namespace mambogo::core
