#include "drill/runner.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QUrlQuery>
#include <algorithm>
#include <cmath>
#include <memory>

#include "core/cluster_session.h"
#include "core/fault_controller.h"
#include "core/informer.h"
#include "core/kube_client.h"
#include "core/kube_objects.h"
#include "core/metrics_collector.h"

namespace mambogo::drill {

QString DrillResult::verdictText(Verdict v) {
  switch (v) {
    case Verdict::Passed: return QStringLiteral("PASSED");
    case Verdict::Failed: return QStringLiteral("FAILED");
    case Verdict::Aborted: return QStringLiteral("ABORTED");
    case Verdict::Error: return QStringLiteral("ERROR");
  }
  return {};
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QJsonValue num(double v) { return std::isnan(v) ? QJsonValue() : QJsonValue(v); }

// "SAMPLE{a=\"x\",b=\"y\"}" -> name and matchers.
std::pair<QString, QList<QPair<QString, QString>>> sampleSelector(const QString& text) {
  const qsizetype brace = text.indexOf(QLatin1Char('{'));
  if (brace < 0) return {text, {}};
  QList<QPair<QString, QString>> matchers;
  static const QRegularExpression re(QStringLiteral(R"re((\w+)\s*=\s*"([^"]*)")re"));
  for (auto it = re.globalMatch(text.mid(brace)); it.hasNext();) {
    const auto m = it.next();
    matchers.append({m.captured(1), m.captured(2)});
  }
  return {text.left(brace), matchers};
}

}  // namespace

DrillRunner::DrillRunner(core::ClusterSession* session, Options options, QObject* parent)
    : QObject(parent), m_session(session), m_options(std::move(options)) {
  qRegisterMetaType<DrillResult>();
  m_timer.setInterval(m_options.evaluationIntervalMs);
  connect(&m_timer, &QTimer::timeout, this, &DrillRunner::evaluate);
  connect(&m_load, &core::LoadController::snapshotAvailable, this, [this](const core::LoadSnapshot& s) {
    m_snapshot = s;
    m_loadRequests += s.requests;
    m_loadFailed += s.failed;
  });
  connect(&m_load, &core::LoadController::finished, this, [this](const core::LoadSummary& summary) {
    m_result.load = summary;
    m_loadFinished = true;
    m_loadEndS = elapsedS();
    Q_EMIT progress(tr("%1 s  load finished: %2 requests, %3 failed, p99 %4 ms")
                        .arg(m_loadEndS, 0, 'f', 0)
                        .arg(summary.requests)
                        .arg(summary.failed)
                        .arg(summary.p99Ms, 0, 'f', 1));
  });
  connect(&m_load, &core::LoadController::failed, this, [this](const QString& message) {
    fail(DrillResult::Verdict::Error, tr("the load could not run: %1").arg(message));
  });
}

DrillRunner::~DrillRunner() = default;

double DrillRunner::elapsedS() const { return m_clock.isValid() ? double(m_clock.elapsed()) / 1000.0 : 0; }

void DrillRunner::start(const Drill& drill, const QHash<QString, double>& predictions) {
  if (m_running) return;
  m_running = true;
  m_predicted = predictions;
  m_result = DrillResult{};
  m_result.drill = drill;
  m_result.started = QDateTime::currentDateTimeUtc();
  m_result.cluster = m_session->settings().contextName;
  m_result.hypothesisBefore = QList<CheckResult>(drill.hypothesis.size());
  m_result.hypothesisAfter = QList<CheckResult>(drill.hypothesis.size());
  m_result.expectations = QList<CheckResult>(drill.expectations.size());
  for (const Step& s : drill.method) {
    StepRecord r;
    r.step = s;
    r.plannedS = drill.warmupS + s.atS;
    m_result.steps << r;
  }
  m_snapshot = {};
  m_loadRequests = m_loadFailed = 0;
  m_loadFinished = false;
  m_nextStep = 0;
  m_methodEndS = m_loadEndS = m_abortSinceS = -1;
  m_rateState.clear();
  m_baselines.clear();
  m_worst.clear();
  m_faultObjects.clear();
  m_faultEnds.clear();
  m_faultWindow.clear();
  m_settingRestores.clear();
  m_scaleRestores.clear();
  m_bursts.clear();
  m_clock.invalidate();
  Q_EMIT progress(tr("drill %1: %2").arg(drill.id, drill.title));
  resolveGatewayThenStartLoad();
}

void DrillRunner::resolveGatewayThenStartLoad() {
  m_phase = Phase::Resolving;
  if (!m_options.gatewayUrl.isEmpty()) {
    m_gateway = m_options.gatewayUrl;
    startLoad();
    return;
  }
  m_session->client()->get(QStringLiteral("/api/v1/namespaces/%1/services/gateway").arg(m_session->nameSpace()), {}, this,
                           [this](const core::KubeResponse& r) {
                             if (!r.ok()) {
                               fail(DrillResult::Verdict::Error, tr("no gateway Service: %1").arg(r.error.toString()));
                               return;
                             }
                             const QJsonObject svc = r.json();
                             const QJsonObject spec = svc.value(QLatin1String("spec")).toObject();
                             QString ip = svc.value(QLatin1String("status")).toObject().value(QLatin1String("loadBalancer")).toObject()
                                              .value(QLatin1String("ingress")).toArray().first().toObject().value(QLatin1String("ip")).toString();
                             if (ip.isEmpty()) ip = spec.value(QLatin1String("clusterIP")).toString();
                             const int port = spec.value(QLatin1String("ports")).toArray().first().toObject().value(QLatin1String("port")).toInt(8080);
                             if (ip.isEmpty() || ip == QLatin1String("None")) {
                               fail(DrillResult::Verdict::Error, tr("the gateway Service has no address; pass the gateway URL"));
                               return;
                             }
                             m_gateway = QStringLiteral("http://%1:%2").arg(ip).arg(port);
                             startLoad();
                           });
}

void DrillRunner::startLoad() {
  const Drill& d = m_result.drill;
  core::LoadSettings s;
  s.plan = d.load.plan;
  s.target = m_gateway;
  s.authToken = m_options.userToken;
  s.rate = d.load.rate;
  s.vus = d.load.vus;
  s.durationS = d.load.durationS;
  s.maxDurationS = d.load.durationS;
  m_clock.start();
  m_phase = Phase::Warmup;
  Q_EMIT progress(tr("0 s  load: %1 against %2 for %3 s; warmup %4 s").arg(d.load.plan, m_gateway).arg(d.load.durationS).arg(d.warmupS));
  if (!m_load.start(s)) {
    fail(DrillResult::Verdict::Error, tr("a load is already running"));
    return;
  }
  m_timer.start();
}

// ---------------------------------------------------------------------------------------- probes

bool DrillRunner::holdsNow(const Check& c) {
  return c.holds(probe(c.probe), c.valueProbe ? probe(*c.valueProbe) : QJsonValue());
}

QJsonValue DrillRunner::probe(const QString& name) {
  if (const auto it = m_tickCache.constFind(name); it != m_tickCache.constEnd()) return *it;
  QJsonValue v;
  if (name.startsWith(QLatin1String("delta:"))) {
    const QJsonValue now = probe(name.mid(6));
    if (now.isDouble() && !m_baselines.contains(name)) m_baselines.insert(name, now.toDouble());
    v = now.isDouble() ? QJsonValue(now.toDouble() - m_baselines.value(name)) : QJsonValue();
    m_tickCache.insert(name, v);
    return v;
  }
  const QStringList parts = name.split(QLatin1Char('.'));
  const QString kind = parts.value(0);
  core::MetricsCollector* metrics = m_session->metrics();
  if (kind == QLatin1String("load")) {
    const QString f = parts.value(1);
    const bool live = !m_loadFinished;
    if (f == QLatin1String("rps")) v = live ? num(m_snapshot.rps) : QJsonValue();
    else if (f == QLatin1String("p50")) v = live ? num(m_snapshot.p50Ms) : QJsonValue();
    else if (f == QLatin1String("p95")) v = live ? num(m_snapshot.p95Ms) : QJsonValue();
    else if (f == QLatin1String("p99")) v = live ? num(m_snapshot.p99Ms) : QJsonValue();
    else if (f == QLatin1String("errorRate")) v = live && m_snapshot.requests > 0 ? num(m_snapshot.errorRate) : QJsonValue();
    else if (f == QLatin1String("requests")) v = double(m_loadRequests);
    else if (f == QLatin1String("failed")) v = double(m_loadFailed);
  } else if (kind == QLatin1String("burst") && parts.size() == 3) {
    if (const auto burst = m_bursts.value(parts[1])) {
      const QString f = parts[2];
      v = double(f == QLatin1String("sent") ? burst->sent : f == QLatin1String("ok") ? burst->ok : f == QLatin1String("limited") ? burst->limited : burst->failed);
    }
  } else if (kind == QLatin1String("service") && parts.size() >= 3) {
    const QString app = parts.mid(1, parts.size() - 2).join(QLatin1Char('.'));
    const QString f = parts.last();
    const auto s = metrics->service(app);
    if (f == QLatin1String("rps")) v = num(s.rps);
    else if (f == QLatin1String("errorRate")) v = num(s.errorRate);
    else if (f == QLatin1String("p50")) v = num(s.p50 * 1000);
    else if (f == QLatin1String("p95")) v = num(s.p95 * 1000);
    else if (f == QLatin1String("p99")) v = num(s.p99 * 1000);
    else if (f == QLatin1String("cpu")) v = num(s.cpuCores);
    else if (f == QLatin1String("memory")) v = num(s.memoryBytes);
  } else if (kind == QLatin1String("breaker") && parts.size() >= 3) {
    v = metrics->service(parts.value(1)).breakers.value(parts.mid(2).join(QLatin1Char('.')), QStringLiteral("none"));
  } else if ((kind == QLatin1String("hpa") || kind == QLatin1String("deployment")) && parts.size() == 3) {
    core::Informer* informer = kind == QLatin1String("hpa") ? m_session->hpas() : m_session->deployments();
    for (const QJsonObject& o : informer->objects()) {
      if (core::nameOf(o) != parts[1]) continue;
      const QJsonObject spec = o.value(QLatin1String("spec")).toObject();
      const QJsonObject status = o.value(QLatin1String("status")).toObject();
      const QString f = parts[2];
      if (f == QLatin1String("minReplicas") || f == QLatin1String("maxReplicas")) v = spec.value(f).toDouble(f == QLatin1String("minReplicas") ? 1 : kNaN);
      else if (f == QLatin1String("utilization")) {
        const QJsonArray current = status.value(QLatin1String("currentMetrics")).toArray();
        v = current.isEmpty() ? QJsonValue()
                              : current.first().toObject().value(QLatin1String("resource")).toObject().value(QLatin1String("current")).toObject()
                                    .value(QLatin1String("averageUtilization"));
      } else v = status.value(f).isUndefined() ? QJsonValue(0.0) : status.value(f);
    }
  } else if ((kind == QLatin1String("metric") || kind == QLatin1String("max") || kind == QLatin1String("rate")) && parts.size() >= 3) {
    // The sample part may hold dots inside label values: everything after APP.
    const QString rest = name.mid(kind.size() + parts[1].size() + 2);
    const auto [sample, matchers] = sampleSelector(rest);
    const double sum = metrics->sampleSum(parts[1], sample, matchers, kind == QLatin1String("max"));
    if (kind != QLatin1String("rate")) {
      v = num(sum);
    } else {
      const double t = elapsedS();
      const auto prev = m_rateState.value(name, {-1.0, kNaN});
      if (!std::isnan(sum)) m_rateState.insert(name, {t, sum});
      const double dt = t - prev.first;
      v = prev.first >= 0 && dt > 0 && !std::isnan(sum) && sum >= prev.second ? num((sum - prev.second) / dt) : QJsonValue();
    }
  }
  m_tickCache.insert(name, v);
  return v;
}

QString DrillRunner::show(const QJsonValue& v) {
  if (v.isDouble()) {
    const double d = v.toDouble();
    return std::abs(d) >= 100 || d == std::floor(d) ? QString::number(d, 'f', std::abs(d - std::round(d)) < 1e-9 ? 0 : 1)
                                                    : QString::number(d, 'g', 3);
  }
  if (v.isString()) return v.toString();
  return QStringLiteral("no data");
}

// ---------------------------------------------------------------------------------------- timeline

double DrillRunner::anchorS(const QString& ref) const {
  if (ref == QLatin1String("start")) return m_result.drill.warmupS;
  if (ref == QLatin1String("end")) return m_loadEndS >= 0 ? m_loadEndS : -1;
  for (const StepRecord& r : m_result.steps)
    if (!r.rollback && r.step.id == ref) return r.startedS;
  return -1;
}

double DrillRunner::recoveryStartS() const {
  double t = m_methodEndS;
  for (const double end : m_faultEnds) t = std::max(t, end);
  return t;
}

void DrillRunner::decide(CheckResult& r, CheckResult::Status status, const QJsonValue& measured, const QString& why) {
  if (r.status != CheckResult::Status::Pending) return;
  r.status = status;
  r.measured = show(measured);
  if (measured.isDouble()) r.value = measured.toDouble();
  r.atS = elapsedS();
  r.why = why;
}

void DrillRunner::evaluate() {
  if (m_phase == Phase::RollingBack || m_phase == Phase::Done || !m_running) return;
  m_tickCache.clear();
  const double t = elapsedS();
  const Drill& d = m_result.drill;

  // Run due steps.
  if (m_phase == Phase::Warmup && t >= d.warmupS) {
    bool ok = true;
    for (int i = 0; i < d.hypothesis.size(); ++i) {
      const QJsonValue v = probe(d.hypothesis[i].probe);
      const bool holds = holdsNow(d.hypothesis[i]);
      decide(m_result.hypothesisBefore[i], holds ? CheckResult::Status::Passed : CheckResult::Status::Failed, v,
             holds ? QString() : tr("did not hold at the end of the warmup"));
      ok = ok && holds;
    }
    Q_EMIT hypothesisChanged();
    Q_EMIT progress(tr("%1 s  steady state before the method: %2").arg(t, 0, 'f', 0).arg(ok ? tr("holds") : tr("does NOT hold")));
    if (!ok) {
      record(t);
      fail(DrillResult::Verdict::Failed, tr("the steady-state hypothesis did not hold before the method; nothing was injected"));
      return;
    }
    m_phase = Phase::Method;
  }
  if (m_phase == Phase::Method) {
    while (m_nextStep < m_result.steps.size() && m_result.steps[m_nextStep].plannedS <= t) runStep(m_nextStep++);
    if (m_nextStep >= m_result.steps.size()) {
      m_methodEndS = t;
      m_phase = Phase::Recovery;
    }
  }
  for (auto it = m_faultWindow.cbegin(); it != m_faultWindow.cend(); ++it)  // faults that ran out
    if (m_faultEnds.value(it.key(), 1e18) <= t) m_result.faults[it.value()].toS = std::min(m_result.faults[it.value()].toS, m_faultEnds.value(it.key()));

  // Steady state again after the last fault is gone.
  if (m_phase == Phase::Recovery && (t >= recoveryStartS() || m_loadFinished)) {
    bool all = true;
    QList<QJsonValue> values;
    for (const Check& c : d.hypothesis) {
      values << probe(c.probe);
      all = all && holdsNow(c);
    }
    const double deadline = recoveryStartS() + d.recoveryS;
    if (all || t > deadline || m_loadFinished) {
      for (int i = 0; i < d.hypothesis.size(); ++i) {
        const bool holds = holdsNow(d.hypothesis[i]);
        decide(m_result.hypothesisAfter[i], all ? CheckResult::Status::Passed : (holds ? CheckResult::Status::Passed : CheckResult::Status::Failed),
               values[i],
               all ? QString() : tr("steady state not back within %1 s of the last fault (%2 s)").arg(d.recoveryS).arg(recoveryStartS(), 0, 'f', 0));
      }
      Q_EMIT hypothesisChanged();
      Q_EMIT progress(tr("%1 s  steady state after the method: %2").arg(t, 0, 'f', 0).arg(all ? tr("back") : tr("NOT back")));
      m_phase = Phase::Settle;
    }
  }

  evaluateExpectations(t);
  record(t);

  // Abort conditions.
  if (!d.abortChecks.isEmpty() && m_phase != Phase::Warmup) {
    const bool all = std::all_of(d.abortChecks.begin(), d.abortChecks.end(), [this](const Check& c) { return holdsNow(c); });
    if (!all) m_abortSinceS = -1;
    else if (m_abortSinceS < 0) m_abortSinceS = t;
    if (all && t - m_abortSinceS >= d.abortForS) {
      QStringList what;
      for (const Check& c : d.abortChecks) what << QStringLiteral("%1 (%2)").arg(c.text, show(probe(c.probe)));
      fail(DrillResult::Verdict::Aborted, tr("abort condition held for %1 s: %2").arg(d.abortForS).arg(what.join(QStringLiteral(", "))));
      return;
    }
  }

  if (static_cast<int>(t) % 5 == 0 && m_phase != Phase::Settle)
    Q_EMIT progress(tr("%1 s  %2 req/s, p99 %3 ms, errors %4 %")
                        .arg(t, 0, 'f', 0)
                        .arg(m_snapshot.rps, 0, 'f', 1)
                        .arg(m_snapshot.p99Ms, 0, 'f', 1)
                        .arg(m_snapshot.errorRate * 100, 0, 'f', 1));
  Q_EMIT tick(t);

  // Done when the load has ended, the hypothesis was re-checked and every expectation decided.
  const bool decided = std::all_of(m_result.expectations.begin(), m_result.expectations.end(),
                                   [](const CheckResult& r) { return r.status != CheckResult::Status::Pending; });
  if (m_loadFinished && m_phase == Phase::Settle && decided) {
    const bool ok = std::all_of(m_result.expectations.begin(), m_result.expectations.end(),
                                [](const CheckResult& r) { return r.status == CheckResult::Status::Passed; }) &&
                    std::all_of(m_result.hypothesisAfter.begin(), m_result.hypothesisAfter.end(),
                                [](const CheckResult& r) { return r.status == CheckResult::Status::Passed; });
    if (ok) {
      m_result.verdict = DrillResult::Verdict::Passed;
      m_result.reason = tr("the steady state held before and after, and every expectation held");
    } else {
      m_result.verdict = DrillResult::Verdict::Failed;
      QStringList failed;
      for (int i = 0; i < m_result.expectations.size(); ++i)
        if (m_result.expectations[i].status == CheckResult::Status::Failed) failed << d.expectations[i].name;
      for (const CheckResult& r : m_result.hypothesisAfter)
        if (r.status == CheckResult::Status::Failed) {
          failed << tr("steady state after the method");
          break;
        }
      m_result.reason = tr("failed: %1").arg(failed.join(QStringLiteral("; ")));
    }
    startRollback();
  } else if (m_loadFinished && m_phase == Phase::Method) {
    fail(DrillResult::Verdict::Error, tr("the load ended before the method did"));
  }
}

void DrillRunner::evaluateExpectations(double t) {
  const Drill& d = m_result.drill;
  for (int i = 0; i < d.expectations.size(); ++i) {
    CheckResult& r = m_result.expectations[i];
    if (r.status != CheckResult::Status::Pending) continue;
    const Expectation& e = d.expectations[i];
    const double from = anchorS(e.after);
    if (e.mode == Expectation::Mode::AtEnd) {
      if (!m_loadFinished || m_phase != Phase::Settle) continue;
      const QJsonValue v = probe(e.check.probe);
      if (holdsNow(e.check)) decide(r, CheckResult::Status::Passed, v);
      else if (t > m_loadEndS + d.recoveryS)
        decide(r, CheckResult::Status::Failed, v, tr("did not hold within %1 s after the load ended").arg(d.recoveryS));
      else continue;
    } else if (e.mode == Expectation::Mode::Eventually) {
      if (from < 0) {
        if (m_loadFinished) decide(r, CheckResult::Status::Failed, {}, tr("step \"%1\" never ran").arg(e.after));
        continue;
      }
      if (t < from) continue;
      const QJsonValue v = probe(e.check.probe);
      if (holdsNow(e.check)) {
        decide(r, CheckResult::Status::Passed, v, tr("after %1 s").arg(t - from, 0, 'f', 0));
        r.heldAfterS = t - from;
      }
      else if (t > from + e.withinS || m_loadFinished)
        decide(r, CheckResult::Status::Failed, v, tr("not within %1 s of %2").arg(e.withinS).arg(e.after));
      else continue;
    } else {  // Always
      if (from < 0) {
        if (m_loadFinished) decide(r, CheckResult::Status::Failed, {}, tr("step \"%1\" never ran").arg(e.after));
        continue;
      }
      if (t < from) continue;
      const double until = e.until == QLatin1String("end") ? m_loadEndS : anchorS(e.until);
      const QJsonValue v = probe(e.check.probe);
      const bool noData = v.isNull() || v.isUndefined();
      if (!noData) {  // the reading closest to breaking it, for the report
        const QJsonValue worst = m_worst.value(i);
        const bool higherIsWorse = e.check.op == Check::Op::Lt || e.check.op == Check::Op::Le;
        if (!m_worst.contains(i) || (v.isDouble() && worst.isDouble() && (higherIsWorse ? v.toDouble() > worst.toDouble() : v.toDouble() < worst.toDouble())))
          m_worst.insert(i, v);
      }
      if (!noData && !holdsNow(e.check)) {
        decide(r, CheckResult::Status::Failed, v, tr("violated %1 s after %2").arg(t - from, 0, 'f', 0).arg(e.after));
      } else if (until >= 0 && t >= until) {
        const bool seen = m_worst.contains(i);
        decide(r, seen ? CheckResult::Status::Passed : CheckResult::Status::Failed, m_worst.value(i),
               seen ? tr("the worst reading in its window") : tr("no reading in its window"));
      } else continue;
    }
    if (e.check.valueProbe) r.measured += QStringLiteral(" vs %1").arg(show(probe(*e.check.valueProbe)));
    Q_EMIT expectationChanged(i);
    Q_EMIT progress(tr("%1 s  %2 %3: %4%5")
                        .arg(t, 0, 'f', 0)
                        .arg(r.status == CheckResult::Status::Passed ? QStringLiteral("PASS") : QStringLiteral("FAIL"))
                        .arg(e.name, r.measured)
                        .arg(r.why.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(r.why)));
  }
}

void DrillRunner::record(double t) {
  auto add = [this, t](const QString& series, const QJsonValue& v) {
    if (v.isDouble() && !std::isnan(v.toDouble())) m_result.series[series].append(QPointF(t, v.toDouble()));
  };
  if (!m_loadFinished && m_snapshot.elapsedS > 0) {
    add(QStringLiteral("load.p50"), m_snapshot.p50Ms);
    add(QStringLiteral("load.p95"), m_snapshot.p95Ms);
    add(QStringLiteral("load.p99"), m_snapshot.p99Ms);
    add(QStringLiteral("load.rps"), m_snapshot.rps);
    if (m_snapshot.requests > 0) add(QStringLiteral("load.errorRate"), m_snapshot.errorRate);
  }
  QSet<QString> deployments;
  for (const QJsonObject& h : m_session->hpas()->objects())
    deployments.insert(h.value(QLatin1String("spec")).toObject().value(QLatin1String("scaleTargetRef")).toObject().value(QLatin1String("name")).toString());
  for (const StepRecord& r : m_result.steps)
    if (r.step.kind == Step::Kind::Scale) deployments.insert(r.step.deployment);
  for (const QJsonObject& dep : m_session->deployments()->objects()) {
    const QString name = core::nameOf(dep);
    if (deployments.contains(name))
      add(QStringLiteral("replicas.%1").arg(name), dep.value(QLatin1String("status")).toObject().value(QLatin1String("readyReplicas")).toDouble(0));
  }
  for (const QJsonObject& h : m_session->hpas()->objects())
    add(QStringLiteral("desired.%1").arg(h.value(QLatin1String("spec")).toObject().value(QLatin1String("scaleTargetRef")).toObject().value(QLatin1String("name")).toString()),
        h.value(QLatin1String("status")).toObject().value(QLatin1String("desiredReplicas")));
  const Drill& d = m_result.drill;
  for (const Expectation& e : d.expectations) {
    add(e.check.probe, probe(e.check.probe));
    if (e.check.valueProbe) add(*e.check.valueProbe, probe(*e.check.valueProbe));  // also fixes delta: baselines
  }
  for (const Check& c : d.hypothesis) add(c.probe, probe(c.probe));
}

// ---------------------------------------------------------------------------------------- steps

void DrillRunner::runStep(int index) {
  StepRecord& r = m_result.steps[index];
  r.startedS = elapsedS();
  Q_EMIT stepChanged(index);
  Q_EMIT progress(tr("%1 s  %2%3").arg(r.startedS, 0, 'f', 0).arg(r.rollback ? tr("rollback: ") : QString(), r.step.describe()));
  const QString ns = m_session->nameSpace();
  core::KubeClient* client = m_session->client();
  switch (r.step.kind) {
    case Step::Kind::Mark: finishStep(index, true, {}); return;
    case Step::Kind::Fault: {
      const QString name = core::FaultController::makeName(r.step.fault);
      QJsonObject object = core::FaultController::buildResource(r.step.fault, name, ns);
      QJsonObject meta = object.value(QLatin1String("metadata")).toObject();
      QJsonObject labels = meta.value(QLatin1String("labels")).toObject();
      labels.insert(QStringLiteral("mambogo.io/drill"), m_result.drill.id.left(63));
      meta.insert(QStringLiteral("labels"), labels);
      object.insert(QStringLiteral("metadata"), meta);
      const QString collection = core::FaultController::collectionPath(core::FaultController::kindOf(r.step.fault.kind), ns);
      const QString path = collection + QLatin1Char('/') + name;
      client->create(collection, object, this, [this, index, path, name](const core::KubeResponse& resp) {
        if (!resp.ok()) {
          finishStep(index, false, resp.error.toString());
          return;
        }
        const StepRecord& rec = m_result.steps[index];
        m_faultObjects.insert(rec.step.id.isEmpty() ? name : rec.step.id, path);
        const double end = rec.startedS + rec.step.fault.durationS;
        m_faultEnds.insert(path, end);
        m_faultWindow.insert(path, int(m_result.faults.size()));
        m_result.faults.append({rec.startedS, end, rec.step.fault.service + QStringLiteral(": ") + core::FaultController::describe(rec.step.fault)});
        finishStep(index, true, name);
      });
      return;
    }
    case Step::Kind::Recover: {
      QStringList paths;
      if (r.step.recover == QLatin1String("all")) paths = m_faultObjects.values();
      else if (m_faultObjects.contains(r.step.recover)) paths << m_faultObjects.value(r.step.recover);
      if (r.automatic) {
        deleteLabelledFaults(index);
        return;
      }
      if (paths.isEmpty()) {
        finishStep(index, false, tr("no fault of this drill to recover"));
        return;
      }
      auto left = std::make_shared<int>(int(paths.size()));
      auto errors = std::make_shared<QStringList>();
      for (const QString& path : paths) {
        markFaultEnded(path);
        client->remove(path, this, [this, index, path, left, errors](const core::KubeResponse& resp) {
          if (!resp.ok() && resp.error.code != 404) *errors << resp.error.toString();
          m_faultObjects.removeIf([&path](const auto& it) { return it.value() == path; });
          if (--*left == 0) finishStep(index, errors->isEmpty(), errors->join(QStringLiteral("; ")));
        });
      }
      return;
    }
    case Step::Kind::Setting: applySetting(index); return;
    case Step::Kind::Scale: {
      if (!r.rollback && !m_scaleRestores.contains(r.step.deployment)) {
        for (const QJsonObject& dep : m_session->deployments()->objects())
          if (core::nameOf(dep) == r.step.deployment)
            m_scaleRestores.insert(r.step.deployment, dep.value(QLatin1String("spec")).toObject().value(QLatin1String("replicas")).toInt(1));
      }
      const QJsonObject patch{{QStringLiteral("spec"), QJsonObject{{QStringLiteral("replicas"), r.step.replicas}}}};
      client->mergePatch(m_session->workloadPath(QStringLiteral("Deployment"), r.step.deployment) + QStringLiteral("/scale"), patch, this,
                         [this, index](const core::KubeResponse& resp) { finishStep(index, resp.ok(), resp.ok() ? QString() : resp.error.toString()); });
      return;
    }
    case Step::Kind::Burst: startBurst(index); return;
  }
}

// A second client beside the load: GETs at a fixed rate (at most kBurstInFlight outstanding),
// each answer counted as ok (2xx), limited (429) or failed (anything else, or none). The step
// finishes when the duration is over and every request has its answer.
void DrillRunner::startBurst(int index) {
  constexpr int kBurstInFlight = 64;
  const Step& step = m_result.steps[index].step;
  const QString token = step.burstAs == QLatin1String("user") ? m_options.userToken : m_options.adminToken;
  if (token.isEmpty()) {
    finishStep(index, false, tr("no %1 token for the burst").arg(step.burstAs));
    return;
  }
  auto burst = std::make_shared<Burst>();
  burst->startS = elapsedS();
  burst->endS = burst->startS + step.burstDurationS;
  burst->total = qint64(std::ceil(step.burstRate * step.burstDurationS));
  const QString key = step.id.isEmpty() ? QStringLiteral("burst-%1").arg(index) : step.id;
  m_bursts.insert(key, burst);
  // The steady state must come back after the burst as after a fault; shade it on the charts.
  const QString window = QStringLiteral("burst:") + key;
  m_faultEnds.insert(window, burst->endS);
  m_faultWindow.insert(window, int(m_result.faults.size()));
  m_result.faults.append({burst->startS, burst->endS, step.describe()});

  QNetworkRequest request(QUrl(m_gateway + step.burstPath));
  request.setRawHeader("Authorization", "Bearer " + token.toUtf8());
  request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
  auto* timer = new QTimer(this);
  timer->setInterval(10);
  const double rate = step.burstRate;
  connect(timer, &QTimer::timeout, this, [this, index, burst, timer, request, rate] {
    const double now = elapsedS();
    const qint64 due = std::min(burst->total, qint64((std::min(now, burst->endS) - burst->startS) * rate));
    while (!burst->stopped && burst->sent < due && burst->inFlight < kBurstInFlight) {
      ++burst->sent;
      ++burst->inFlight;
      QNetworkReply* reply = m_http.get(request);
      connect(reply, &QNetworkReply::finished, this, [burst, reply] {
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        --burst->inFlight;
        if (status >= 200 && status < 300) ++burst->ok;
        else if (status == 429) ++burst->limited;
        else ++burst->failed;
        reply->deleteLater();
      });
    }
    if ((burst->stopped || now >= burst->endS) && burst->inFlight == 0) {
      timer->stop();
      timer->deleteLater();
      if (m_result.steps.value(index).done) return;
      // Fewer sent than planned: the gateway answered too slowly for 64 in flight (or the drill stopped).
      finishStep(index, true, tr("%1 of %2 sent: %3 ok, %4 limited (429), %5 other")
                                  .arg(burst->sent)
                                  .arg(burst->total)
                                  .arg(burst->ok)
                                  .arg(burst->limited)
                                  .arg(burst->failed));
    }
  });
  timer->start();
}

void DrillRunner::markFaultEnded(const QString& path) {
  const double now = elapsedS();
  if (m_faultEnds.value(path, 1e18) > now) m_faultEnds.insert(path, now);
  if (m_faultWindow.contains(path)) {
    FaultWindow& w = m_result.faults[m_faultWindow.value(path)];
    w.toS = std::min(w.toS, now);
  }
}

// Lists the four chaos kinds for this drill's label and deletes what is there.
void DrillRunner::deleteLabelledFaults(int index) {
  const QString ns = m_session->nameSpace();
  struct Pending {
    int left = 4;
    int deleted = 0;
    QStringList errors;
  };
  auto state = std::make_shared<Pending>();
  auto oneDone = [this, index, state] {
    if (--state->left > 0) return;
    finishStep(index, state->errors.isEmpty(),
               state->errors.isEmpty() ? tr("%n chaos object(s) of this drill deleted", nullptr, state->deleted) : state->errors.join(QStringLiteral("; ")));
  };
  QUrlQuery query;
  query.addQueryItem(QStringLiteral("labelSelector"), QStringLiteral("mambogo.io/drill=%1").arg(m_result.drill.id.left(63)));
  for (const char* kind : {"PodChaos", "NetworkChaos", "HTTPChaos", "StressChaos"}) {
    const QString collection = core::FaultController::collectionPath(QString::fromLatin1(kind), ns);
    m_session->client()->get(collection, query, this, [this, collection, state, oneDone](const core::KubeResponse& list) {
      if (!list.ok()) {
        if (list.error.code != 404) state->errors << list.error.toString();  // 404: Chaos Mesh not installed
        oneDone();
        return;
      }
      const QJsonArray items = list.json().value(QLatin1String("items")).toArray();
      if (items.isEmpty()) {
        oneDone();
        return;
      }
      ++state->left;  // the deletions below count as one more piece of work
      auto remaining = std::make_shared<int>(int(items.size()));
      for (const QJsonValue& item : items) {
        const QString path = collection + QLatin1Char('/') + core::nameOf(item.toObject());
        markFaultEnded(path);
        m_session->client()->remove(path, this, [this, path, state, remaining, oneDone](const core::KubeResponse& resp) {
          if (resp.ok() || resp.error.code == 404) ++state->deleted;
          else state->errors << resp.error.toString();
          m_faultObjects.removeIf([&path](const auto& it) { return it.value() == path; });
          if (--*remaining == 0) oneDone();
        });
      }
      oneDone();
    });
  }
}

void DrillRunner::applySetting(int index) {
  const Step step = m_result.steps[index].step;
  const bool rollback = m_result.steps[index].rollback;
  const QJsonObject body{{step.setting, step.value}};
  auto patch = [this, index, step, body] {
    sendToPods(step.service, "PATCH", body, [this, index](bool ok, const QString& detail, const QJsonObject&) { finishStep(index, ok, detail); });
  };
  if (rollback) {
    patch();
    return;
  }
  // Read the value first, so that the rollback can put it back.
  sendToPods(step.service, "GET", {}, [this, index, step, patch](bool ok, const QString& detail, const QJsonObject& current) {
    if (!ok) {
      finishStep(index, false, detail);
      return;
    }
    const QJsonValue old = current.value(step.setting).toObject().value(QLatin1String("value"));
    if (old.isUndefined()) {
      finishStep(index, false, tr("%1 has no setting %2").arg(step.service, step.setting));
      return;
    }
    const bool known = std::any_of(m_settingRestores.begin(), m_settingRestores.end(), [&](const auto& r) {
      return r.first == step.service && r.second.contains(step.setting);
    });
    if (!known) m_settingRestores.append({step.service, QJsonObject{{step.setting, old}}});
    patch();
  });
}

void DrillRunner::sendToPods(const QString& service, const QByteArray& verb, const QJsonObject& body,
                             std::function<void(bool, const QString&, const QJsonObject&)> done) {
  QStringList ips;
  for (const QJsonObject& pod : m_session->pods()->objects()) {
    const QJsonObject status = pod.value(QLatin1String("status")).toObject();
    if (core::labelOf(pod, QStringLiteral("app")) == service && status.value(QLatin1String("phase")).toString() == QLatin1String("Running") &&
        !status.value(QLatin1String("podIP")).toString().isEmpty())
      ips << status.value(QLatin1String("podIP")).toString();
  }
  if (ips.isEmpty()) {
    done(false, tr("no running pod of %1").arg(service), {});
    return;
  }
  struct Pending {
    int left = 0;
    QStringList errors;
    QJsonObject first;
  };
  auto state = std::make_shared<Pending>();
  state->left = int(ips.size());
  const QByteArray payload = QJsonDocument(body).toJson(QJsonDocument::Compact);
  for (const QString& ip : ips) {
    QNetworkRequest request(QUrl(QStringLiteral("http://%1:%2/admin/settings").arg(ip).arg(m_options.settingsPort)));
    request.setRawHeader("Authorization", "Bearer " + m_options.adminToken.toUtf8());
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    request.setTransferTimeout(10'000);
    QNetworkReply* reply = m_http.sendCustomRequest(request, verb, verb == "GET" ? QByteArray() : payload);
    connect(reply, &QNetworkReply::finished, this, [reply, state, done, ip] {
      reply->deleteLater();
      const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
      const QByteArray answer = reply->readAll();
      if (status != 200) state->errors << QStringLiteral("%1: HTTP %2 %3").arg(ip).arg(status).arg(QString::fromUtf8(answer.left(200)).trimmed());
      else if (state->first.isEmpty()) state->first = QJsonDocument::fromJson(answer).object();
      if (--state->left == 0) done(state->errors.isEmpty(), state->errors.join(QStringLiteral("; ")), state->first);
    });
  }
}

void DrillRunner::finishStep(int index, bool ok, const QString& detail) {
  StepRecord& r = m_result.steps[index];
  r.done = true;
  r.ok = ok;
  r.detail = detail;
  Q_EMIT stepChanged(index);
  if (!ok) Q_EMIT progress(tr("%1 s  step failed: %2: %3").arg(elapsedS(), 0, 'f', 0).arg(r.step.describe(), detail));
  if (r.rollback) {
    --m_pendingRollbacks;
    nextRollback();
  } else if (!ok && m_phase != Phase::RollingBack) {
    fail(DrillResult::Verdict::Error, tr("step \"%1\" failed: %2").arg(r.step.describe(), detail));
  }
}

// ---------------------------------------------------------------------------------------- ending

void DrillRunner::abort(const QString& why) {
  if (m_running) fail(DrillResult::Verdict::Aborted, why);
}

void DrillRunner::fail(DrillResult::Verdict verdict, const QString& reason) {
  if (!m_running || m_phase == Phase::RollingBack || m_phase == Phase::Done) return;
  m_result.verdict = verdict;
  m_result.reason = reason;
  for (int i = 0; i < m_result.expectations.size(); ++i) {
    if (m_result.expectations[i].status != CheckResult::Status::Pending) continue;
    decide(m_result.expectations[i], CheckResult::Status::Failed, {}, tr("not decided: the drill stopped"));
    Q_EMIT expectationChanged(i);
  }
  Q_EMIT progress(tr("%1 s  %2: %3").arg(elapsedS(), 0, 'f', 0).arg(DrillResult::verdictText(verdict), reason));
  startRollback();
}

void DrillRunner::startRollback() {
  m_phase = Phase::RollingBack;
  if (m_load.isRunning()) m_load.stop();
  for (const auto& burst : std::as_const(m_bursts)) burst->stopped = true;
  m_rollbackQueue.clear();
  for (const Step& s : m_result.drill.rollback) {
    StepRecord r;
    r.step = s;
    r.rollback = true;
    m_rollbackQueue << r;
  }
  {  // always: whatever chaos object carries this drill's label, tracked or not
    StepRecord r;
    r.step.kind = Step::Kind::Recover;
    r.step.recover = QStringLiteral("all");
    r.rollback = r.automatic = true;
    m_rollbackQueue << r;
  }
  for (const auto& [service, values] : m_settingRestores) {
    for (auto it = values.begin(); it != values.end(); ++it) {
      StepRecord r;
      r.step.kind = Step::Kind::Setting;
      r.step.service = service;
      r.step.setting = it.key();
      r.step.value = it.value();
      r.rollback = r.automatic = true;
      m_rollbackQueue << r;
    }
  }
  for (auto it = m_scaleRestores.cbegin(); it != m_scaleRestores.cend(); ++it) {
    StepRecord r;
    r.step.kind = Step::Kind::Scale;
    r.step.deployment = it.key();
    r.step.replicas = it.value();
    r.rollback = r.automatic = true;
    m_rollbackQueue << r;
  }
  m_pendingRollbacks = 0;
  nextRollback();
}

void DrillRunner::nextRollback() {
  if (m_pendingRollbacks > 0) return;
  if (m_rollbackQueue.isEmpty()) {
    complete();
    return;
  }
  m_result.steps << m_rollbackQueue.takeFirst();
  ++m_pendingRollbacks;
  runStep(int(m_result.steps.size()) - 1);
}

void DrillRunner::scorePredictions() {
  const Drill& d = m_result.drill;
  int sum = 0;
  for (const Prediction& p : d.predictions) {
    if (!m_predicted.contains(p.id)) continue;
    PredictionResult out;
    out.prediction = p;
    out.predicted = m_predicted.value(p.id);
    const int i = d.expectationIndex(p.expectation);
    const CheckResult& r = m_result.expectations.value(i);
    if (i >= 0 && d.expectations[i].mode == Expectation::Mode::Eventually) {
      if (r.heldAfterS >= 0) out.actual = r.heldAfterS;
    } else if (r.status != CheckResult::Status::Pending) {
      out.actual = r.value;
    }
    out.score = out.actual ? predictionScore(out.predicted, *out.actual, p.tolerance) : 0;
    sum += out.score;
    m_result.predictions << out;
  }
  m_result.predictionScore = m_result.predictions.isEmpty() ? -1 : int(std::lround(double(sum) / m_result.predictions.size()));
}

void DrillRunner::complete() {
  m_timer.stop();
  m_phase = Phase::Done;
  m_running = false;
  m_result.durationS = elapsedS();
  for (FaultWindow& w : m_result.faults) w.toS = std::min(w.toS, m_result.durationS);
  int total = 0, passed = 0;
  for (const QList<CheckResult>* list : {&m_result.hypothesisBefore, &m_result.hypothesisAfter, &m_result.expectations})
    for (const CheckResult& r : *list) {
      ++total;
      passed += r.status == CheckResult::Status::Passed;
    }
  m_result.score = total ? int(std::lround(100.0 * passed / total)) : 0;
  scorePredictions();
  if (m_result.verdict == DrillResult::Verdict::Passed &&
      std::any_of(m_result.steps.begin(), m_result.steps.end(), [](const StepRecord& r) { return r.rollback && !r.ok; })) {
    m_result.verdict = DrillResult::Verdict::Error;
    m_result.reason = tr("a rollback step failed; check the cluster");
  }
  Q_EMIT progress(tr("%1 s  verdict %2 (score %3): %4")
                      .arg(m_result.durationS, 0, 'f', 0)
                      .arg(DrillResult::verdictText(m_result.verdict))
                      .arg(m_result.score)
                      .arg(m_result.reason));
  Q_EMIT finished(m_result);
}

}  // namespace mambogo::drill
