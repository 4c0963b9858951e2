// mambogo: the console.
//
//   mambogo [--tui] [--kubeconfig FILE] [--context NAME] [--launch-local]
//           [--screenshot FILE --after SECONDS]
//   mambogo drill list | check FILE... | run NAME [--report F] [--pdf F] [--fast] ...
//           (headless, no display needed: drill/command.h)
//
// Without a display (no DISPLAY or WAYLAND_DISPLAY and no QT_QPA_PLATFORM), or with --tui,
// it runs the terminal UI instead: mambogo-tui (next to this program, else the build tree's
// app/tui/, else PATH) with the same arguments.
#include <unistd.h>

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QLibraryInfo>
#include <QLocale>
#include <QTimer>
#include <QTranslator>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "drill/command.h"
#include "gui/mainwindow.h"

namespace {

bool wantsTerminal(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--tui") return true;
  auto unset = [](const char* name) {
    const char* value = std::getenv(name);
    return !value || !*value;
  };
  return unset("DISPLAY") && unset("WAYLAND_DISPLAY") && unset("QT_QPA_PLATFORM");
}

// Replaces this process with mambogo-tui: next to this program (installed), in the build
// tree's app/tui/, or on PATH. Returns only when none could be started.
int execTerminalUi(char** argv) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path dir = ec ? std::filesystem::path(argv[0]).parent_path() : self.parent_path();
  std::vector<char*> args{nullptr};
  for (char** a = argv + 1; *a; ++a) args.push_back(*a);
  args.push_back(nullptr);
  for (const auto& candidate : {dir / "mambogo-tui", dir / ".." / "tui" / "mambogo-tui"}) {
    const std::string path = candidate.string();
    args[0] = const_cast<char*>(path.c_str());
    ::execv(path.c_str(), args.data());
  }
  args[0] = const_cast<char*>("mambogo-tui");
  ::execvp("mambogo-tui", args.data());
  std::fprintf(stderr,
               "mambogo: no display available and the terminal UI (mambogo-tui) could not be started: %s.\n"
               "Set DISPLAY or QT_QPA_PLATFORM (e.g. offscreen) to use the graphical console.\n",
               std::strerror(errno));
  return 1;
}

void installTranslations(QApplication& app) {
  const QLocale locale;
  auto* own = new QTranslator(&app);
  if (own->load(locale, QStringLiteral("mambogo"), QStringLiteral("_"), QStringLiteral(":/i18n")))
    QApplication::installTranslator(own);
  auto* qt = new QTranslator(&app);
  if (qt->load(locale, QStringLiteral("qtbase"), QStringLiteral("_"), QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
    QApplication::installTranslator(qt);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "drill") return mambogo::drill::runDrillCommand(argc, argv);
  if (wantsTerminal(argc, argv)) return execTerminalUi(argv);

  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("mambogo"));
  QApplication::setOrganizationName(QStringLiteral("Mambogo"));
  QApplication::setApplicationVersion(QStringLiteral(MAMBOGO_VERSION));
  installTranslations(app);

  QCommandLineParser parser;
  parser.setApplicationDescription(QApplication::translate("main", "Mambogo: operations console for SREs"));
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption tui(QStringLiteral("tui"), QApplication::translate("main", "Run the terminal UI."));
  const QCommandLineOption kubeconfig(QStringLiteral("kubeconfig"),
                                      QApplication::translate("main", "Connect with this kubeconfig file."),
                                      QStringLiteral("FILE"));
  const QCommandLineOption context(QStringLiteral("context"), QApplication::translate("main", "The kubeconfig context to use."),
                                   QStringLiteral("NAME"));
  const QCommandLineOption launch(QStringLiteral("launch-local"),
                                  QApplication::translate("main", "Launch the bundled local cluster at start."));
  const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                      QApplication::translate("main", "Save a PNG of the main window, then quit."),
                                      QStringLiteral("FILE"));
  const QCommandLineOption after(QStringLiteral("after"),
                                 QApplication::translate("main", "Seconds to wait before the screenshot (default 2)."),
                                 QStringLiteral("SECONDS"), QStringLiteral("2"));
  parser.addOptions({tui, kubeconfig, context, launch, screenshot, after});
  parser.process(app);

  mambogo::gui::MainWindow window;
  window.show();
  if (parser.isSet(launch))
    window.launchLocal();
  else if (parser.isSet(kubeconfig) || parser.isSet(context))
    window.connectTo(parser.value(kubeconfig), parser.value(context));

  if (parser.isSet(screenshot)) {
    bool ok = false;
    const double seconds = parser.value(after).toDouble(&ok);
    if (!ok || seconds < 0) {
      std::fprintf(stderr, "mambogo: --after needs a number of seconds, got \"%s\"\n", qPrintable(parser.value(after)));
      return 2;
    }
    const QString file = parser.value(screenshot);
    QTimer::singleShot(int(seconds * 1000), &window, [&window, file] {
      if (!window.grab().save(file))
        std::fprintf(stderr, "mambogo: could not write the screenshot to %s\n", qPrintable(file));
      window.loadController()->stop();
      window.close();  // stops a cluster it launched first, then closes (and the app quits)
    });
  }
  return app.exec();
}
