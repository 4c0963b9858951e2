// LoadPanel: the Load dock — pick a plan (built-in or a seed plan, or import a file), override
// rate / virtual users / duration, start and stop, and follow progress with the phase.
// It drives a LoadController it does not own; the target and token come from the window
// (setTarget) when a cluster is connected.
//
// Thread-safety: GUI thread only. Lifetime: the controller must outlive the panel.
#pragma once

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace mambogo::core {
class LoadController;
struct LoadSnapshot;
struct LoadSummary;
}  // namespace mambogo::core

namespace mambogo::gui {

class LoadPanel : public QWidget {
  Q_OBJECT
 public:
  explicit LoadPanel(core::LoadController* controller, QWidget* parent = nullptr);

  void setTarget(const QString& gatewayUrl, const QString& authToken);
  // Chooses a plan by id (as LoadController::availablePlans lists them); false if unknown.
  bool selectPlan(const QString& id);
  void setRateOverride(double rate, double durationS);

 public Q_SLOTS:
  void start();
  void stop();

 private:
  void importPlan();
  void addPlan(const QString& id, const QString& title, const QString& description);
  void onSnapshot(const core::LoadSnapshot& snapshot);
  void onFinished(const core::LoadSummary& summary);
  void setRunning(bool running);

  core::LoadController* const m_controller;
  QString m_authToken;
  QComboBox* m_plan = nullptr;
  QLabel* m_description = nullptr;
  QLineEdit* m_target = nullptr;
  QComboBox* m_override = nullptr;  // plan as written, constant rate, constant VUs
  QDoubleSpinBox* m_rate = nullptr;
  QSpinBox* m_vus = nullptr;
  QSpinBox* m_duration = nullptr;
  QPushButton* m_start = nullptr;
  QPushButton* m_stop = nullptr;
  QProgressBar* m_progress = nullptr;
  QLabel* m_live = nullptr;
};

}  // namespace mambogo::gui
