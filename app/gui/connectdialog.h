// ConnectDialog: "Connect…" — pick kubeconfig file(s) (default: $KUBECONFIG or
// ~/.kube/config) and one of their contexts. Reading the kubeconfig is local file I/O of a
// few KB; errors (a malformed file, an unknown context) are shown with the file and field
// the Kubeconfig parser names, and OK stays disabled until settings resolve.
//
// Thread-safety: GUI thread only.
#pragma once

#include <QDialog>

#include "core/kubeconfig.h"

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace mambogo::gui {

class ConnectDialog : public QDialog {
  Q_OBJECT
 public:
  explicit ConnectDialog(const QString& files, const QString& context, QWidget* parent = nullptr);

  QString files() const;    // ':'-separated, as $KUBECONFIG
  QString context() const;
  core::ConnectionSettings settings() const { return m_settings; }

 private:
  void reload();
  void resolve();

  QLineEdit* m_files = nullptr;
  QComboBox* m_context = nullptr;
  QLabel* m_details = nullptr;
  QDialogButtonBox* m_buttons = nullptr;
  core::Kubeconfig m_config;
  core::ConnectionSettings m_settings;
};

}  // namespace mambogo::gui
