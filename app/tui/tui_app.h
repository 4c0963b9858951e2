// TuiApp: the terminal UI's controller. It owns the cluster session, the local cluster
// launcher and the load controller, builds a ScreenSnapshot from them, has screen.h draw it
// on the Terminal (4 times a second, and soon after any model change), feeds keys to the
// KeyHandler and carries out the actions it returns: launch, scale, delete pod, faults,
// load, quit.
//
// Quitting stops a running load and, when this console started the local cluster, stops it
// and waits for it to be gone ("stopping…" is shown) before the event loop ends. SIGINT,
// SIGTERM and SIGHUP quit the same way without asking; a second one ends at once (the
// launcher's destructor then terminates the cluster).
//
// Thread-safety: the event-loop thread only. Lifetime: the Terminal must outlive the app.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QTimer>
#include <memory>

#include "core/cluster_launcher.h"
#include "core/kubeconfig.h"
#include "core/load_controller.h"
#include "drill/runner.h"
#include "tui/key_handler.h"
#include "tui/screen.h"

namespace mambogo::tui {

class Terminal;
class TuiSession;

struct TuiOptions {
  QString kubeconfig;   // empty: $KUBECONFIG or ~/.kube/config
  QString context;      // empty: the current context
  bool launchLocal = false;
  QString stateDir;     // empty: ClusterLauncher::defaultStateDir()
  QString profile;      // empty: the launcher's choice (full when Redis and PostgreSQL exist)
  QString gateway;      // load target when not launched here; empty: http://127.0.0.1:8080
  QString logFile;      // where stderr goes while the screen is up; empty: discarded
};

class TuiApp : public QObject {
  Q_OBJECT
 public:
  TuiApp(TuiOptions options, Terminal* terminal, QObject* parent = nullptr);
  ~TuiApp() override;

  // Connects (or launches) as the options say and draws the first frame.
  void start();

 private:
  void connectTo(const core::ConnectionSettings& settings);
  void onKey(int key);
  void carryOut(const Action& action);
  void launch();
  void scale(const Action& action);
  void deletePod(const QString& name);
  void startLoad(const Action& action);
  void quit();
  void finish();
  void onInterrupted(int signal);
  void say(const QString& text, bool error = false);
  void runDrill(const QString& id);
  void scheduleRedraw();
  void redraw();
  ScreenSnapshot snapshot(int width) const;
  KeyContext keyContext() const;
  QString loadTarget() const;
  QString loadToken() const;

  const TuiOptions m_options;
  Terminal* const m_terminal;
  core::ClusterLauncher m_launcher;
  core::LoadController m_load;
  std::unique_ptr<TuiSession> m_session;
  std::unique_ptr<drill::DrillRunner> m_drill;  // on m_session; destroyed before it
  QList<QPair<QString, QString>> m_drillMenu;    // (id, title) of the built-in drills
  KeyHandler m_keys;
  ScreenLayout m_layout;
  QTimer m_tick;     // the steady redraw (4 Hz)
  QTimer m_soon;     // a redraw shortly after a change, coalescing bursts
  StatusMessage m_message;
  QElapsedTimer m_messageAge;
  ScreenSnapshot m_shown;  // the last frame's snapshot: what the cursor and the keys refer to
  // Load state for the header.
  QString m_loadPlan;
  core::LoadSnapshot m_loadLast;
  double m_loadNominalS = 0;
  bool m_quitting = false;
  int m_interrupts = 0;
};

}  // namespace mambogo::tui
