// FaultsPanel: the Faults dock — compose a fault (kind, service, target service for network
// faults, the kind's parameter, duration), inject it, and watch the active faults with their
// time left; remove one or "Recover all".
// It drives the session's FaultController (setController; null disables the panel).
//
// Thread-safety: GUI thread only. Lifetime: the controller must outlive its use here (the
// window calls setController(nullptr) before destroying a session).
#pragma once

#include <QPointer>
#include <QWidget>

#include "core/fault_controller.h"

class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTreeWidget;

namespace mambogo::gui {

class FaultsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit FaultsPanel(QWidget* parent = nullptr);

  void setController(core::FaultController* controller);
  core::FaultSpec currentSpec() const;
  void setSpec(const core::FaultSpec& spec);

 public Q_SLOTS:
  void inject();
  void recoverAll();

 Q_SIGNALS:
  void message(const QString& text);

 private:
  void updateParameter();
  void showFaults();
  void removeSelected();

  QPointer<core::FaultController> m_controller;
  QComboBox* m_kind = nullptr;
  QComboBox* m_service = nullptr;
  QComboBox* m_target = nullptr;
  QLabel* m_parameterLabel = nullptr;
  QSpinBox* m_parameter = nullptr;
  QSpinBox* m_duration = nullptr;
  QPushButton* m_inject = nullptr;
  QPushButton* m_remove = nullptr;
  QPushButton* m_recover = nullptr;
  QTreeWidget* m_active = nullptr;
};

}  // namespace mambogo::gui
