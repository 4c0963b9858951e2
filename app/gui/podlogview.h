// PodLogView: the Pod logs dock — the last lines of one pod's log (the API's pods/log
// subresource, tailLines), refreshed every 2 s while "Follow" is on. Requests are
// asynchronous; a slow server delays the refresh, never the GUI.
//
// Thread-safety: GUI thread only. Lifetime: the client given to setClient() must outlive its
// use (the window calls setClient(nullptr) before destroying a session).
#pragma once

#include <QPointer>
#include <QTimer>
#include <QWidget>

class QCheckBox;
class QLabel;
class QPlainTextEdit;

namespace mambogo::core {
class KubeClient;
}

namespace mambogo::gui {

class PodLogView : public QWidget {
  Q_OBJECT
 public:
  explicit PodLogView(QWidget* parent = nullptr);

  void setClient(core::KubeClient* client, const QString& nameSpace);
  void showPod(const QString& pod);
  QString pod() const { return m_pod; }

 private:
  void fetch();

  QPointer<core::KubeClient> m_client;
  QString m_namespace, m_pod;
  bool m_fetching = false;
  QTimer m_follow;
  QLabel* m_title = nullptr;
  QCheckBox* m_followBox = nullptr;
  QPlainTextEdit* m_text = nullptr;
};

}  // namespace mambogo::gui
