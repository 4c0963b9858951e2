// MainWindow: the console's window. Toolbar: "Launch local cluster" (one click: starts
// mambogo-cluster, shows each pod coming up, connects when ready), "Connect…" (a kubeconfig
// context), "Stop" (ends load, stops the cluster it launched, disconnects). Docks, whose
// layout is saved in QSettings: Cluster, Charts, Topology, Load, Faults, Events, Pod logs.
//
// The window owns the long-lived controllers (ClusterLauncher, LoadController) and one
// ClusterSession per connection; a 1 s tick moves the charts (one replace() per series) and
// refreshes the topology from the session's metrics and informers. Nothing here waits on the
// network or a process: all of it arrives through signals.
//
// Thread-safety: GUI thread only. Lifetime: closing the window while it runs a cluster it
// launched stops that cluster first (asking when load is running), then closes.
#pragma once

#include <QMainWindow>
#include <QTimer>
#include <memory>

#include "core/cluster_launcher.h"
#include "core/kubeconfig.h"
#include "core/load_controller.h"

class QDockWidget;
class QLabel;

namespace mambogo::core {
class ClusterSession;
}  // namespace mambogo::core

namespace mambogo::gui {

using core::ClusterSession;

class ChartsPanel;
class ClusterPanel;
class EventsPanel;
class DrillsPanel;
class FaultsPanel;
class LoadPanel;
class PodLogView;
class TopologyView;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // What "Launch local cluster" passes to the launcher (default: everything automatic).
  void setLaunchOptions(const core::LaunchOptions& options) { m_launchOptions = options; }
  // Connects to a kubeconfig context (files ':'-separated; empty: the default files; empty
  // context: the current one). Errors go to the status bar and the event log.
  void connectTo(const QString& kubeconfigFiles, const QString& context);

  // For the GUI tests and main(): the parts of the window.
  QAction* launchAction() const { return m_launchAction; }
  QAction* connectAction() const { return m_connectAction; }
  QAction* stopAction() const { return m_stopAction; }
  core::ClusterLauncher* launcher() { return &m_launcher; }
  core::LoadController* loadController() { return &m_load; }
  ClusterSession* session() const { return m_session.get(); }
  ClusterPanel* clusterPanel() const { return m_clusterPanel; }
  ChartsPanel* chartsPanel() const { return m_charts; }
  TopologyView* topology() const { return m_topology; }
  LoadPanel* loadPanel() const { return m_loadPanel; }
  FaultsPanel* faultsPanel() const { return m_faultsPanel; }
  DrillsPanel* drillsPanel() const { return m_drillsPanel; }
  EventsPanel* eventsPanel() const { return m_eventsPanel; }
  PodLogView* podLogs() const { return m_podLogs; }

 public Q_SLOTS:
  void launchLocal();
  void showConnectDialog();
  void stopAll();

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void createActions();
  void createDocks();
  QDockWidget* addDock(const QString& objectName, const QString& title, QWidget* widget, Qt::DockWidgetArea area);
  void restoreLayout();
  void startSession(const core::ConnectionSettings& settings, const QString& origin);
  void endSession();
  void onLaunchReady(const QString& kubeconfig, const QString& gatewayUrl);
  void onLoadSnapshot(const core::LoadSnapshot& snapshot);
  void tick();
  void feedChartsFromMetrics(qint64 nowMs);
  void feedReplicaChart(qint64 nowMs);
  void updateTopology();
  void updateHpaChoices();
  void note(const QString& category, const QString& reason, const QString& message, bool warning = false);
  void showStatus(const QString& text);
  void updateTitleAndActions();

  // Long-lived controllers.
  core::ClusterLauncher m_launcher;
  core::LoadController m_load;
  core::LaunchOptions m_launchOptions;
  std::unique_ptr<ClusterSession> m_session;
  QString m_connectionLabel;
  QTimer m_tick;
  bool m_quitAfterStop = false;
  bool m_quitAfterRollback = false;  // closing waits for an aborted drill's rollback
  bool m_rollbackGaveUp = false;     // ... at most 30 s

  QAction* m_launchAction = nullptr;
  QAction* m_connectAction = nullptr;
  QAction* m_stopAction = nullptr;
  ClusterPanel* m_clusterPanel = nullptr;
  ChartsPanel* m_charts = nullptr;
  TopologyView* m_topology = nullptr;
  LoadPanel* m_loadPanel = nullptr;
  FaultsPanel* m_faultsPanel = nullptr;
  DrillsPanel* m_drillsPanel = nullptr;
  EventsPanel* m_eventsPanel = nullptr;
  PodLogView* m_podLogs = nullptr;
  QDockWidget* m_logsDock = nullptr;
  QLabel* m_connectionStatus = nullptr;
};

}  // namespace mambogo::gui
