// DrillRunner: runs one drill (drill.h) against a connected cluster — the engine behind the
// GUI's and the terminal UI's Drills panels and `mambogo drill run`.
//
// Timeline (t = 0 when the load starts):
//   warmup     the load runs; at its end the steady-state hypothesis must hold (every check at
//              the last evaluation), else the drill fails without injecting anything.
//   method     each step at warmup + at: faults are created as Chaos Mesh objects (named, and
//              labelled mambogo.io/fault=true and mambogo.io/drill=<id>), recover deletes them,
//              setting PATCHes /admin/settings on every pod of the service (pod IP, admin token:
//              a local or flat-network cluster), scale patches the Deployment's scale, burst
//              sends a second user's requests beside the load (the noisy neighbour).
//   recovery   from the moment the drill's last fault is gone, the hypothesis must hold again
//              (all checks at one evaluation) within `recovery`.
//   end        after the load ends, at_end expectations get up to `recovery` to hold.
//   rollback   always (also after an abort or an error): the drill's rollback steps, then every
//              fault it created is deleted, every setting it changed is put back to the value
//              read before the change, every Deployment it scaled gets its old replica count.
// Expectations are evaluated once a second (eventually: passes the first time it holds within
// its window; always: fails at the first violation in its window; at_end: see above). Abort
// checks that all hold for `abort.for` stop the drill (verdict Aborted) and roll back.
// Verdict Passed only if the hypothesis held before and after and every expectation passed.
// Score: the share of expectations (and the two hypothesis checks) that passed, 0..100.
//
// The runner records a per-second time line for the report: the load's p50/p95/p99, rate and
// error rate; replicas (and the HPA's desired count) of every Deployment with an HPA or scaled
// by the drill; every numeric probe its checks read; and the fault windows.
//
// Thread-safety: the thread of the session (an event loop); nothing blocks.
// Lifetime: the session must outlive the runner. Destroying a running runner does not roll back.
#pragma once

#include <QDateTime>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QMap>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointF>
#include <QSet>
#include <QTimer>
#include <QVector>
#include <functional>
#include <memory>
#include <optional>

#include "core/load_controller.h"
#include "drill/drill.h"

namespace mambogo::core {
class ClusterSession;
}

namespace mambogo::drill {

struct CheckResult {
  enum class Status { Pending, Passed, Failed };
  Status status = Status::Pending;
  QString measured;  // the value that decided it ("412.3", "open", "no data")
  double atS = -1;   // when it was decided (drill time)
  QString why;       // for failures: the window or the violation
  std::optional<double> value;  // `measured` as a number, when it is one
  double heldAfterS = -1;       // eventually: seconds from its anchor to the first time it held
};

struct PredictionResult {
  Prediction prediction;
  double predicted = 0;
  std::optional<double> actual;  // none: the expectation measured nothing (or never held)
  int score = 0;                 // predictionScore(); 0 without an actual
};

struct StepRecord {
  Step step;
  bool rollback = false;
  bool automatic = false;  // a rollback the runner adds itself (fault deletion, setting restore)
  double plannedS = -1;    // method steps: warmup + at
  double startedS = -1;
  bool done = false;
  bool ok = false;
  QString detail;          // the object created, the values restored, or the error
};

struct FaultWindow {
  double fromS = 0, toS = 0;
  QString label;
};

struct DrillResult {
  enum class Verdict { Passed, Failed, Aborted, Error };
  Drill drill;
  Verdict verdict = Verdict::Error;
  QString reason;        // one line: what decided the verdict
  int score = 0;         // 0..100
  QDateTime started;     // UTC
  double durationS = 0;
  QString cluster;       // the kubeconfig context
  QList<CheckResult> hypothesisBefore, hypothesisAfter;  // per drill.hypothesis check
  QList<StepRecord> steps;                                // method, then rollback
  QList<CheckResult> expectations;                        // per drill.expectations entry
  QMap<QString, QVector<QPointF>> series;                 // name -> (drill seconds, value)
  QList<FaultWindow> faults;
  core::LoadSummary load;
  QList<PredictionResult> predictions;  // the ones the user made, in the drill's order
  int predictionScore = -1;             // their mean score; -1 when none was made

  static QString verdictText(Verdict v);
};

class DrillRunner : public QObject {
  Q_OBJECT
 public:
  struct Options {
    QString gatewayUrl;          // empty: the gateway Service's load-balancer or cluster IP
    QString userToken;           // the load's AUTH_TOKEN
    QString adminToken;          // for setting steps
    int evaluationIntervalMs = 1000;
    int settingsPort = 8080;
  };

  DrillRunner(core::ClusterSession* session, Options options, QObject* parent = nullptr);
  ~DrillRunner() override;

  // Starts `drill`; ignored when one runs. The outcome always arrives as finished().
  // `predictions`: prediction id -> the user's number ("predict first"); ids the drill does
  // not have are ignored (callers check them against drill.predictions first).
  void start(const Drill& drill, const QHash<QString, double>& predictions = {});
  // Stops a running drill: verdict Aborted with `why`, after the rollback.
  void abort(const QString& why);
  bool isRunning() const { return m_running; }
  const DrillResult& result() const { return m_result; }
  double elapsedS() const;

 Q_SIGNALS:
  void progress(const QString& line);            // one line per thing that happened
  void stepChanged(int index);                   // m_result.steps[index] started or finished
  void expectationChanged(int index);            // m_result.expectations[index] decided
  void hypothesisChanged();
  void tick(double elapsedS);                    // once per evaluation
  void finished(const mambogo::drill::DrillResult& result);

 private:
  enum class Phase { Idle, Resolving, Warmup, Method, Recovery, Settle, RollingBack, Done };

  void resolveGatewayThenStartLoad();
  void startLoad();
  void evaluate();
  QJsonValue probe(const QString& name);
  bool holdsNow(const Check& check);
  void runStep(int index);
  void finishStep(int index, bool ok, const QString& detail);
  void applySetting(int index);
  void markFaultEnded(const QString& path);
  void deleteLabelledFaults(int index);
  void sendToPods(const QString& service, const QByteArray& verb, const QJsonObject& body,
                  std::function<void(bool ok, const QString& detail, const QJsonObject& first)> done);
  void decide(CheckResult& r, CheckResult::Status status, const QJsonValue& measured, const QString& why = {});
  void evaluateExpectations(double t);
  void record(double t);
  void fail(DrillResult::Verdict verdict, const QString& reason);
  void startRollback();
  void nextRollback();
  void complete();
  void scorePredictions();
  void startBurst(int index);
  double anchorS(const QString& ref) const;
  double recoveryStartS() const;
  static QString show(const QJsonValue& v);

  core::ClusterSession* const m_session;
  const Options m_options;
  core::LoadController m_load;
  QNetworkAccessManager m_http;
  QTimer m_timer;
  QElapsedTimer m_clock;

  bool m_running = false;
  Phase m_phase = Phase::Idle;
  DrillResult m_result;
  QString m_gateway;
  core::LoadSnapshot m_snapshot;
  qint64 m_loadRequests = 0, m_loadFailed = 0;
  bool m_loadFinished = false;
  int m_nextStep = 0;
  double m_methodEndS = -1, m_loadEndS = -1;
  double m_abortSinceS = -1;
  QHash<QString, QJsonValue> m_tickCache;
  QHash<QString, QPair<double, double>> m_rateState;  // probe -> (t, sum)
  QHash<QString, double> m_baselines;                 // delta: probe -> first reading
  QHash<int, QJsonValue> m_worst;                     // always-expectation -> worst reading
  QHash<QString, QString> m_faultObjects;             // step id or name -> API path of the object
  QHash<QString, double> m_faultEnds;                 // API path -> when it ends (drill s)
  QHash<QString, int> m_faultWindow;                  // API path -> index in m_result.faults
  QList<std::pair<QString, QJsonObject>> m_settingRestores;  // service -> {setting: old value}
  QHash<QString, int> m_scaleRestores;                // deployment -> replicas before
  QList<StepRecord> m_rollbackQueue;
  int m_pendingRollbacks = 0;
  QHash<QString, double> m_predicted;
  struct Burst {
    double startS = 0, endS = 0;
    qint64 total = 0, sent = 0, ok = 0, limited = 0, failed = 0;
    int inFlight = 0;
    bool stopped = false;  // the drill is rolling back: send no more
  };
  QHash<QString, std::shared_ptr<Burst>> m_bursts;  // burst step id -> its counts
};

}  // namespace mambogo::drill

Q_DECLARE_METATYPE(mambogo::drill::DrillResult)
