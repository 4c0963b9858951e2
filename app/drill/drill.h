// Drills: scripted fault-injection exercises (GameDays in a file). This header is the format:
// what a drill file says, and the parser that turns one into a Drill or refuses it with the
// file, the line and the reason — before anything is injected.
//
// A drill file (YAML; built-in ones in resources/drills/, users add their own):
//
//   title: Payment provider outage
//   teaches: What a circuit breaker buys you when a dependency fails.
//   proves: "Guide §4: circuit breaker on order → payment"
//   questions: [Q3]                      # interview questions it answers (Q1..Q4)
//   profile: any                         # or full: needs Redis and PostgreSQL
//   fast: 0.5                            # --fast multiplies every time but recovery by this
//   seed: 42                             # randomness (fault pod choice is the cluster's)
//   load: {plan: builtin:orders, rate: 10, duration: 90s}
//   hypothesis:                          # steady state: holds before the method and after it
//     warmup: 10s                        # load runs this long before the first step
//     recovery: 60s                      # after the last step it must hold again within this
//     checks: ["load.errorRate < 0.01", "load.p99 < 300"]
//   method:                              # timed steps, "at" from the end of the warmup
//     - {id: outage, at: 5s, fault: {type: http-replace-code, service: payment-service, code: 503, duration: 30s}}
//     - {at: 35s, recover: outage}
//     - {at: 40s, setting: {service: product-service, name: cache.l1.enabled, value: false}}
//     - {at: 50s, scale: {deployment: order-service, replicas: 3}}
//     - {at: 55s, mark: "note on the timeline"}
//     - {id: noisy, at: 60s, burst: {rate: 400, duration: 5s, path: /api/products, as: admin}}
//   expect:
//     - {name: breaker opens, check: "breaker.order-service.payment-service == open", eventually: {after: outage, within: 15s}}
//     - {check: "load.errorRate < 0.5", always: {after: start, until: end}}
//     - {check: "metric.order-service.orders_in_state{state=\"PENDING_PAYMENT\"} == 0", at_end: true}
//   rollback: [{setting: {...}}]         # runs always (faults the drill made are removed anyway)
//   abort: {checks: ["load.errorRate > 0.9"], for: 10s}
//   predict:                             # "predict first": numbers the user can guess beforehand
//     - {id: breaker-delay, question: "Seconds from the outage to the open breaker?",
//        expect: breaker opens, unit: s, tolerance: 3}
//
// A prediction names an expectation; what it predicts is the number that expectation measures:
// for `eventually`, the seconds from its `after` step to the first time it held; otherwise the
// value it measured (an `always` expectation's worst reading). Within `tolerance` of the
// measurement scores 100, falling linearly to 0 at three times the tolerance.
//
// Checks are "PROBE OP VALUE", OP one of < <= > >= == !=; VALUE a number, a word or a probe. Probes:
//   load.{rps,p50,p95,p99,errorRate,requests,failed}      the drill's own load (ms; cumulative counts)
//   service.APP.{rps,errorRate,p50,p95,p99,cpu,memory}    scraped per service (ms, cores, bytes)
//   breaker.APP.NAME                                      closed | open | half_open | ... | none
//   hpa.NAME.{currentReplicas,desiredReplicas,minReplicas,maxReplicas,utilization}
//   deployment.NAME.{replicas,readyReplicas,availableReplicas}
//   metric.APP.SAMPLE{label="v",...}                      sum over the service's pods (per pod:
//                                                         the sum of the matching series)
//   max.APP.SAMPLE{...}                                   the largest pod's (gauges every pod
//                                                         reports alike: counts from the database)
//   rate.APP.SAMPLE{...}                                  the sum per second
//   burst.ID.{sent,ok,limited,failed}                     a burst step's answers so far (2xx, 429,
//                                                         anything else or no answer)
//   delta:PROBE                                           PROBE now minus its first reading in the
//                                                         drill ("how many during the drill")
// metric/max/rate read 0 when the service exports SAMPLE but no series has those labels yet.
//
// A burst is a second client beside the load: `rate` GETs a second on `path` through the
// gateway for `duration` (at most 64 in flight), as the user of the admin token (`as: admin`,
// another user than the load's: the noisy neighbour) or of the load's own token (`as: user`).
//
// Thread-safety: values; the parser is reentrant.
#pragma once

#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>
#include <stdexcept>

#include "core/fault_controller.h"

namespace mambogo::drill {

// A refused drill file: "drills/x.yaml:12: method[1].at: not a duration: \"soon\"".
struct DrillError : std::runtime_error {
  DrillError(QString file, int line, QString reason);
  QString file;
  int line = 0;  // 1-based; 0 when the file could not be read at all
  QString reason;
};

struct Check {
  enum class Op { Lt, Le, Gt, Ge, Eq, Ne };
  QString text;    // as written
  QString probe;   // "service.order-service.p99"
  Op op = Op::Lt;
  QString value;   // as written
  std::optional<double> number;      // when VALUE is a number
  std::optional<QString> valueProbe;  // when VALUE is a probe too
  int line = 0;

  // Parses "PROBE OP VALUE"; nullopt with `why` set when it is not one.
  static std::optional<Check> parse(const QString& text, QString* why);
  static bool isProbe(const QString& text);
  // Does `measured` satisfy it (`other`: the value probe's reading, when VALUE is a probe)?
  // Numbers compare as numbers, words as words (== and != only); no data never satisfies.
  bool holds(const QJsonValue& measured, const QJsonValue& other = {}) const;
  static QString opText(Op op);
};

struct Step {
  enum class Kind { Fault, Recover, Setting, Scale, Mark, Burst };
  Kind kind = Kind::Mark;
  QString id;            // optional; what expectations and recover steps refer to
  double atS = 0;        // method steps: seconds after the warmup
  int line = 0;
  core::FaultSpec fault;            // Fault
  QString recover;                  // Recover: "all" or a step id
  QString service, setting;         // Setting: service (app label) and switch name
  QJsonValue value;                 // Setting: the new value
  QString deployment;               // Scale
  int replicas = 0;                 // Scale
  QString note;                     // Mark
  double burstRate = 0;             // Burst: requests per second
  double burstDurationS = 0;        // Burst
  QString burstPath;                // Burst: "/api/products"
  QString burstAs;                  // Burst: "admin" or "user" (whose token)

  QString describe() const;  // "fault: HTTP 503 from payment-service for 30 s"
};

struct Expectation {
  enum class Mode { Eventually, Always, AtEnd };
  QString name;
  Check check;
  Mode mode = Mode::AtEnd;
  QString after = QStringLiteral("start");  // "start" or a step id
  double withinS = 0;                       // Eventually: the window after `after`
  QString until = QStringLiteral("end");    // Always: "end" or a step id
  int line = 0;
};

struct Prediction {
  QString id;            // what `--predict ID=VALUE` names
  QString question;      // asked before the run
  QString expectation;   // the name of the expectation whose measurement answers it
  QString unit;          // shown after the numbers ("s", "ms", "orders")
  double tolerance = 1;  // > 0, in `unit`
  int line = 0;
};

// 100 when |predicted - actual| <= tolerance, then linearly down to 0 at 3 x tolerance.
int predictionScore(double predicted, double actual, double tolerance);

struct LoadSpec {
  QString plan = QStringLiteral("builtin:shop");
  std::optional<double> rate;
  std::optional<int> vus;
  double durationS = 60;
};

struct Drill {
  QString id;        // file base name: "payment-outage"
  QString file;
  QString title, teaches, proves;
  QStringList questions;
  QString profile = QStringLiteral("any");
  double fastScale = 1;
  quint32 seed = 1;
  LoadSpec load;
  QList<Check> hypothesis;
  double warmupS = 10;
  double recoveryS = 60;
  QList<Step> method;        // sorted by atS
  QList<Expectation> expectations;
  QList<Step> rollback;
  QList<Check> abortChecks;
  double abortForS = 5;
  QList<Prediction> predictions;

  // The same drill with every time (load duration, warmup, step times, fault durations,
  // windows, abort delay) multiplied by `factor` (> 0) — but recovery, which waits for the
  // system's own timers (a breaker's 60 s in open state, retry back-off), is kept.
  Drill scaled(double factor) const;
  // The step with this id, or nullptr.
  const Step* step(const QString& id) const;
  // The index of the expectation with this name, or -1.
  int expectationIndex(const QString& name) const;
  const Prediction* prediction(const QString& id) const;
};

// Parses a drill. Throws DrillError naming the file, the line and the field.
Drill parseDrill(const QByteArray& yaml, const QString& fileName);
Drill loadDrillFile(const QString& path);

// Where the built-in drills are: $MAMBOGO_DATA_DIR/drills, <program>/../share/mambogo/drills,
// else the source tree's resources/drills.
QString builtInDrillDir();
// The drill files (*.yaml) of `dir`, sorted by name.
QStringList drillFiles(const QString& dir);
// NAME is a path, or the id of a drill in builtInDrillDir(); empty when there is none.
QString findDrill(const QString& name);

}  // namespace mambogo::drill
