// mambogo-tui: the console in a terminal (ncurses) for machines without a display, over the
// same core models as the GUI. `mambogo` execs it (with the same arguments) when there is no
// display or with --tui.
//
//   mambogo-tui [--kubeconfig FILE] [--context NAME] [--launch-local] [--state-dir DIR]
//               [--profile full|embedded] [--gateway URL] [--log FILE]
#include <fcntl.h>
#include <unistd.h>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTimer>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "tui/terminal.h"
#include "tui/tui_app.h"

namespace {

// While curses owns the screen, anything written to stderr (Qt warnings, library messages)
// would scribble over the frame: it goes to `logFile` (or nowhere) until restored.
class StderrRedirect {
 public:
  explicit StderrRedirect(const QString& logFile) : m_saved(::dup(STDERR_FILENO)) {
    const QByteArray path = logFile.isEmpty() ? QByteArrayLiteral("/dev/null") : logFile.toLocal8Bit();
    const int fd = ::open(path.constData(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
  }
  ~StderrRedirect() {
    if (m_saved < 0) return;
    ::dup2(m_saved, STDERR_FILENO);
    ::close(m_saved);
  }
  StderrRedirect(const StderrRedirect&) = delete;
  StderrRedirect& operator=(const StderrRedirect&) = delete;

 private:
  int m_saved;
};

mambogo::tui::TuiOptions parseOptions(const QCoreApplication& app) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Mambogo console in the terminal: cluster, autoscalers, services, "
                                                  "breakers and events; launch, scale, faults and load from the keyboard."));
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption kubeconfig(QStringLiteral("kubeconfig"), QStringLiteral("Kubeconfig file (default: $KUBECONFIG or ~/.kube/config)."), QStringLiteral("FILE"));
  const QCommandLineOption context(QStringLiteral("context"), QStringLiteral("Kubeconfig context (default: the current one)."), QStringLiteral("NAME"));
  const QCommandLineOption launchLocal(QStringLiteral("launch-local"), QStringLiteral("Launch the local cluster (mambogo-cluster) at start."));
  const QCommandLineOption stateDir(QStringLiteral("state-dir"), QStringLiteral("State directory of the local cluster."), QStringLiteral("DIR"));
  const QCommandLineOption profile(QStringLiteral("profile"), QStringLiteral("Local cluster profile: full or embedded (default: full when Redis and PostgreSQL are installed)."), QStringLiteral("PROFILE"));
  const QCommandLineOption gateway(QStringLiteral("gateway"), QStringLiteral("Gateway URL load is sent to when not launched here (default http://127.0.0.1:8080)."), QStringLiteral("URL"));
  const QCommandLineOption log(QStringLiteral("log"), QStringLiteral("Append diagnostics to FILE (default: discarded while the screen is up)."), QStringLiteral("FILE"));
  const QCommandLineOption tui(QStringLiteral("tui"), QStringLiteral("Accepted for `mambogo --tui`; the terminal UI is all this program does."));
  parser.addOptions({kubeconfig, context, launchLocal, stateDir, profile, gateway, log, tui});
  parser.process(app);
  const QString profileValue = parser.value(profile);
  if (!profileValue.isEmpty() && profileValue != QLatin1String("full") && profileValue != QLatin1String("embedded"))
    throw std::invalid_argument("--profile must be full or embedded, not '" + profileValue.toStdString() + "'");
  mambogo::tui::TuiOptions options;
  options.kubeconfig = parser.value(kubeconfig);
  options.context = parser.value(context);
  options.launchLocal = parser.isSet(launchLocal);
  options.stateDir = parser.value(stateDir);
  options.profile = profileValue;
  options.gateway = parser.value(gateway);
  options.logFile = parser.value(log);
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  QCoreApplication::setApplicationName(QStringLiteral("mambogo-tui"));
  QCoreApplication::setApplicationVersion(QStringLiteral(MAMBOGO_VERSION));
  mambogo::tui::TuiOptions options;
  try {
    options = parseOptions(app);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "mambogo-tui: %s\n", e.what());
    return 2;
  }
  std::unique_ptr<mambogo::tui::Terminal> terminal;
  try {
    terminal = std::make_unique<mambogo::tui::Terminal>();
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "mambogo-tui: %s\n", e.what());
    return 2;
  }
  int code = 0;
  {
    const StderrRedirect quiet(options.logFile);
    mambogo::tui::TuiApp tui(options, terminal.get());
    QTimer::singleShot(0, &tui, &mambogo::tui::TuiApp::start);
    code = QCoreApplication::exec();
  }
  terminal.reset();
  return code;
}
