#include "drill/command.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QGuiApplication>
#include <QTimer>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/cluster_launcher.h"
#include "core/cluster_session.h"
#include "core/kubeconfig.h"
#include "drill/drill.h"
#include "drill/report.h"
#include "drill/runner.h"

namespace mambogo::drill {

namespace {

void say(const QString& line) {
  std::fprintf(stdout, "%s\n", qPrintable(line));
  std::fflush(stdout);
}
void complain(const QString& line) { std::fprintf(stderr, "mambogo drill: %s\n", qPrintable(line)); }

QString readToken(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()).trimmed() : QString();
}

int list() {
  const QString dir = builtInDrillDir();
  const QStringList files = drillFiles(dir);
  for (const QString& file : files) {
    try {
      const Drill d = loadDrillFile(file);
      say(QStringLiteral("%1\t%2%3").arg(d.id, -28).arg(d.title, d.questions.isEmpty() ? QString() : QStringLiteral("  [%1]").arg(d.questions.join(QLatin1Char(',')))));
    } catch (const DrillError& e) {
      say(QStringLiteral("%1\tINVALID: %2").arg(QFileInfo(file).completeBaseName(), -28).arg(QString::fromUtf8(e.what())));
    }
  }
  say(QStringLiteral("\n%1 drills in %2").arg(files.size()).arg(QDir(dir).canonicalPath()));
  return 0;
}

int check(const QStringList& files) {
  int bad = 0;
  for (const QString& name : files) {
    const QString file = findDrill(name);
    try {
      const Drill d = loadDrillFile(file.isEmpty() ? name : file);
      QStringList predictions;
      for (const Prediction& p : d.predictions) predictions << p.id;
      say(QStringLiteral("%1: ok (%2 steps, %3 expectations%4)")
              .arg(d.file)
              .arg(d.method.size())
              .arg(d.expectations.size())
              .arg(predictions.isEmpty() ? QString() : QStringLiteral("; predict: %1").arg(predictions.join(QStringLiteral(", ")))));
    } catch (const DrillError& e) {
      complain(QString::fromUtf8(e.what()));
      ++bad;
    }
  }
  return bad ? 2 : 0;
}

// Runs the drill on a connected session; the event loop ends with the exit code.
class Run : public QObject {
 public:
  Run(Drill drill, QHash<QString, double> predictions, core::ConnectionSettings settings, DrillRunner::Options options,
      QString html, QString pdf)
      : m_drill(std::move(drill)), m_predictions(std::move(predictions)), m_html(std::move(html)), m_pdf(std::move(pdf)) {
    m_session = new core::ClusterSession(std::move(settings), this);
    m_runner = new DrillRunner(m_session, std::move(options), this);
    connect(m_runner, &DrillRunner::progress, this, [](const QString& line) { say(line); });
    connect(m_runner, &DrillRunner::finished, this, [this](const DrillResult& r) { report(r); });
    // Give the informers and the collector a moment to fill before the load starts.
    QTimer::singleShot(3000, this, [this] { m_runner->start(m_drill, m_predictions); });
  }
  int exitCode() const { return m_exit; }
  DrillRunner* runner() const { return m_runner; }

 private:
  void report(const DrillResult& r) {
    say(textSummary(r));
    QString error;
    if (!m_html.isEmpty()) {
      if (writeHtml(r, m_html, &error)) say(QStringLiteral("report: %1").arg(m_html));
      else complain(error);
    }
    if (!m_pdf.isEmpty()) {
      if (writePdf(r, m_pdf, &error)) say(QStringLiteral("report: %1").arg(m_pdf));
      else complain(error);
    }
    m_exit = r.verdict == DrillResult::Verdict::Passed ? 0 : r.verdict == DrillResult::Verdict::Error ? 3 : 1;
    QCoreApplication::exit(m_exit);
  }

  Drill m_drill;
  QHash<QString, double> m_predictions;
  QString m_html, m_pdf;
  core::ClusterSession* m_session = nullptr;
  DrillRunner* m_runner = nullptr;
  int m_exit = 3;
};

}  // namespace

int runDrillCommand(int argc, char** argv) {
  // Reports need fonts and a paint device, not a display.
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QGuiApplication app(argc, argv);
  QCoreApplication::setApplicationName(QStringLiteral("mambogo"));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("mambogo drill list | check FILE... | run NAME|FILE [options]"));
  parser.addHelpOption();
  parser.addPositionalArgument(QStringLiteral("drill"), QStringLiteral("the word drill"));
  parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("list, check or run"));
  const QCommandLineOption html(QStringLiteral("report"), QStringLiteral("Write an HTML report."), QStringLiteral("FILE"));
  const QCommandLineOption pdf(QStringLiteral("pdf"), QStringLiteral("Write a PDF report."), QStringLiteral("FILE"));
  const QCommandLineOption fast(QStringLiteral("fast"), QStringLiteral("Shortened timings (the drill's `fast` factor)."));
  const QCommandLineOption kubeconfig(QStringLiteral("kubeconfig"), QStringLiteral("Kubeconfig file(s), colon-separated."), QStringLiteral("FILE"));
  const QCommandLineOption context(QStringLiteral("context"), QStringLiteral("Kubeconfig context."), QStringLiteral("NAME"));
  const QCommandLineOption gateway(QStringLiteral("gateway"), QStringLiteral("Gateway URL (default: the gateway Service's address)."), QStringLiteral("URL"));
  const QCommandLineOption token(QStringLiteral("token"), QStringLiteral("File with the user token for the load."), QStringLiteral("FILE"));
  const QCommandLineOption adminToken(QStringLiteral("admin-token"), QStringLiteral("File with an admin token (setting steps)."), QStringLiteral("FILE"));
  const QCommandLineOption predict(QStringLiteral("predict"),
                                   QStringLiteral("Predict first: your number for one of the drill's predictions "
                                                  "(`mambogo drill check NAME` lists them); scored in the report. Repeatable."),
                                   QStringLiteral("ID=VALUE"));
  parser.addOptions({html, pdf, fast, kubeconfig, context, gateway, token, adminToken, predict});
  parser.process(app);
  const QStringList args = parser.positionalArguments();
  const QString command = args.value(1);
  if (command == QLatin1String("list")) return list();
  if (command == QLatin1String("check")) {
    if (args.size() < 3) {
      complain(QStringLiteral("check needs at least one drill file"));
      return 2;
    }
    return check(args.mid(2));
  }
  if (command != QLatin1String("run") || args.size() != 3) {
    complain(QStringLiteral("usage: mambogo drill list | check FILE... | run NAME|FILE [--report F] [--pdf F] [--fast] [--kubeconfig F]"));
    return 2;
  }

  const QString file = findDrill(args[2]);
  if (file.isEmpty()) {
    complain(QStringLiteral("no drill \"%1\" (a file, or one of `mambogo drill list`)").arg(args[2]));
    return 2;
  }
  Drill drill;
  try {
    drill = loadDrillFile(file);
  } catch (const DrillError& e) {
    complain(QString::fromUtf8(e.what()));
    return 2;
  }
  QHash<QString, double> predictions;
  for (const QString& item : parser.values(predict)) {
    const QString id = item.section(QLatin1Char('='), 0, 0).trimmed();
    bool isNumber = false;
    const double value = item.section(QLatin1Char('='), 1).trimmed().toDouble(&isNumber);
    if (!drill.prediction(id)) {
      QStringList known;
      for (const Prediction& p : drill.predictions) known << p.id;
      complain(QStringLiteral("--predict %1: drill %2 has no prediction \"%3\" (it has: %4)")
                   .arg(item, drill.id, id, known.isEmpty() ? QStringLiteral("none") : known.join(QStringLiteral(", "))));
      return 2;
    }
    if (!isNumber || !item.contains(QLatin1Char('='))) {
      complain(QStringLiteral("--predict %1: not ID=NUMBER").arg(item));
      return 2;
    }
    predictions.insert(id, value);
  }
  if (parser.isSet(fast)) drill = drill.scaled(drill.fastScale);

  // Connect: the given kubeconfig, or the local cluster (started here when it does not run).
  std::unique_ptr<core::ClusterLauncher> launcher;
  QString kubeconfigFiles = parser.value(kubeconfig);
  if (kubeconfigFiles.isEmpty() && !parser.isSet(context)) {
    launcher = std::make_unique<core::ClusterLauncher>();
    int code = -1;
    QObject::connect(launcher.get(), &core::ClusterLauncher::podChanged, [](const core::PodLaunchState& p) {
      say(QStringLiteral("cluster: %1 %2 %3/%4").arg(p.name, p.state).arg(p.ready).arg(p.total));
    });
    QObject::connect(launcher.get(), &core::ClusterLauncher::ready, [&code] { code = 0; QCoreApplication::exit(0); });
    QObject::connect(launcher.get(), &core::ClusterLauncher::failed, [&code](const QString& why) {
      complain(QStringLiteral("the local cluster did not start: %1").arg(why));
      code = 3;
      QCoreApplication::exit(3);
    });
    launcher->start();
    if (launcher->state() != core::ClusterLauncher::State::Ready) QCoreApplication::exec();
    if (code != 0 && launcher->state() != core::ClusterLauncher::State::Ready) return 3;
    kubeconfigFiles = launcher->kubeconfigPath();
  }
  core::ConnectionSettings settings;
  try {
    const QStringList files = kubeconfigFiles.isEmpty() ? core::Kubeconfig::defaultFiles() : kubeconfigFiles.split(QLatin1Char(':'), Qt::SkipEmptyParts);
    settings = core::Kubeconfig::load(files).settings(parser.value(context));
  } catch (const core::KubeconfigError& e) {
    complain(e.message());
    return 2;
  }
  const QString authDir = QFileInfo(kubeconfigFiles.section(QLatin1Char(':'), 0, 0)).absolutePath() + QStringLiteral("/auth/");
  DrillRunner::Options options;
  options.gatewayUrl = parser.value(gateway);
  options.userToken = readToken(parser.isSet(token) ? parser.value(token) : authDir + QStringLiteral("user.jwt"));
  options.adminToken = readToken(parser.isSet(adminToken) ? parser.value(adminToken) : authDir + QStringLiteral("admin.jwt"));
  if (options.userToken.isEmpty()) options.userToken = qEnvironmentVariable("AUTH_TOKEN");

  int exitCode = 3;
  {
    Run run(drill, predictions, settings, options, parser.value(html), parser.value(pdf));
    exitCode = QCoreApplication::exec();
  }
  if (launcher && launcher->ownsCluster()) {
    say(QStringLiteral("stopping the local cluster"));
    QObject::connect(launcher.get(), &core::ClusterLauncher::stopped, [] { QCoreApplication::exit(0); });
    launcher->stop();
    QCoreApplication::exec();
  }
  return exitCode;
}

}  // namespace mambogo::drill
