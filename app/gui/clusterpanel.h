// ClusterPanel: the Cluster dock. Three faces:
//   - nothing connected: a short hint and the Launch / Connect buttons;
//   - a local cluster starting: every pod with its state as mambogo-cluster reports it, a
//     progress bar (pods ready) and the launcher's output;
//   - connected: the deployments → pods tree (ClusterModel) with the autoscalers (HpaModel)
//     below, and the actions Scale…, Restart (rollout restart: the pod template's
//     kubectl.kubernetes.io/restartedAt annotation, as kubectl does), Delete pod and Logs.
// Actions go through the session's KubeClient asynchronously; results arrive as message().
//
// Thread-safety: GUI thread only. Lifetime: the session given to setSession() must outlive
// its use (the window calls setSession(nullptr) before destroying it).
#pragma once

#include <QPointer>
#include <QWidget>

#include "core/cluster_launcher.h"

class QAction;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QStackedWidget;
class QTableView;
class QTreeView;
class QTreeWidget;

namespace mambogo::core {
class ClusterSession;
}  // namespace mambogo::core

namespace mambogo::gui {

using core::ClusterSession;


class ClusterPanel : public QWidget {
  Q_OBJECT
 public:
  ClusterPanel(QAction* launch, QAction* connectAction, QWidget* parent = nullptr);

  void setSession(ClusterSession* session);
  // The launch face: cleared, then fed by the launcher's signals.
  void showLaunch(const QString& profile);
  void launchPodChanged(const core::PodLaunchState& pod);
  void launchOutput(const QString& line);
  void showIdle();

  QTreeView* tree() const { return m_tree; }

 Q_SIGNALS:
  void logsRequested(const QString& pod);
  void message(const QString& text);

 private:
  void updateActions();
  QString selectedKind() const;
  QString selectedName() const;
  void scaleSelected();
  void restartSelected();
  void deleteSelectedPod();

  QPointer<ClusterSession> m_session;
  QStackedWidget* m_stack = nullptr;
  QTreeWidget* m_launchPods = nullptr;
  QProgressBar* m_launchProgress = nullptr;
  QLabel* m_launchTitle = nullptr;
  QPlainTextEdit* m_launchLog = nullptr;
  QTreeView* m_tree = nullptr;
  QTableView* m_hpas = nullptr;
  QAction* m_scale = nullptr;
  QAction* m_restart = nullptr;
  QAction* m_delete = nullptr;
  QAction* m_logs = nullptr;
};

}  // namespace mambogo::gui
