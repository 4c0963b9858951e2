#include "gui/loadpanel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include "core/load_controller.h"

namespace mambogo::gui {
namespace {

enum Override { AsWritten, ConstantRate, ConstantVus };

}  // namespace

LoadPanel::LoadPanel(core::LoadController* controller, QWidget* parent) : QWidget(parent), m_controller(controller) {
  m_plan = new QComboBox;
  m_plan->setObjectName(QStringLiteral("loadPlan"));
  m_plan->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  m_plan->setMinimumContentsLength(18);
  for (const auto& plan : core::LoadController::availablePlans(core::LoadController::defaultScenarioDir()))
    addPlan(plan.id, plan.title, plan.description);
  auto* import = new QToolButton;
  import->setIcon(QIcon(QStringLiteral(":/icons/import.svg")));
  import->setToolTip(tr("Import an Artillery (.yml) or JMeter (.jmx) plan…"));
  auto* planRow = new QHBoxLayout;
  planRow->addWidget(m_plan, 1);
  planRow->addWidget(import);

  m_description = new QLabel;
  m_description->setWordWrap(true);
  m_description->setForegroundRole(QPalette::PlaceholderText);
  m_description->setObjectName(QStringLiteral("loadDescription"));

  m_target = new QLineEdit;
  m_target->setObjectName(QStringLiteral("loadTarget"));
  m_target->setPlaceholderText(tr("the plan's own target"));

  m_override = new QComboBox;
  m_override->setObjectName(QStringLiteral("loadOverride"));
  m_override->addItem(tr("as the plan says"), AsWritten);
  m_override->addItem(tr("constant rate"), ConstantRate);
  m_override->addItem(tr("constant virtual users"), ConstantVus);
  m_rate = new QDoubleSpinBox;
  m_rate->setObjectName(QStringLiteral("loadRate"));
  m_rate->setRange(0.1, 100'000);
  m_rate->setValue(20);
  m_rate->setSuffix(tr(" /s"));
  m_vus = new QSpinBox;
  m_vus->setRange(1, 10'000);
  m_vus->setValue(10);
  m_duration = new QSpinBox;
  m_duration->setObjectName(QStringLiteral("loadDuration"));
  m_duration->setRange(1, 24 * 3600);
  m_duration->setValue(60);
  m_duration->setSuffix(tr(" s"));

  m_start = new QPushButton(QIcon(QStringLiteral(":/icons/play.svg")), tr("Start load"));
  m_start->setObjectName(QStringLiteral("loadStart"));
  m_stop = new QPushButton(QIcon(QStringLiteral(":/icons/stop.svg")), tr("Stop"));
  m_stop->setObjectName(QStringLiteral("loadStop"));
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(m_start);
  buttons->addWidget(m_stop);

  m_progress = new QProgressBar;
  m_progress->setObjectName(QStringLiteral("loadProgress"));
  m_progress->setRange(0, 100);
  m_progress->setValue(0);
  m_progress->setFormat(tr("idle"));
  m_live = new QLabel;
  m_live->setObjectName(QStringLiteral("loadLive"));
  m_live->setWordWrap(true);

  auto* form = new QFormLayout;
  form->addRow(tr("Target:"), m_target);
  form->addRow(tr("Workload:"), m_override);
  form->addRow(tr("Rate:"), m_rate);
  form->addRow(tr("Virtual users:"), m_vus);
  form->addRow(tr("Duration:"), m_duration);
  auto* layout = new QVBoxLayout(this);
  auto* planLine = new QHBoxLayout;
  planLine->addWidget(new QLabel(tr("Plan:")));
  planLine->addLayout(planRow, 1);
  layout->addLayout(planLine);
  layout->addWidget(m_description);
  layout->addLayout(form);
  layout->addLayout(buttons);
  layout->addWidget(m_progress);
  layout->addWidget(m_live);
  layout->addStretch();

  auto updateOverride = [this] {
    const int mode = m_override->currentData().toInt();
    m_rate->setEnabled(mode == ConstantRate);
    m_vus->setEnabled(mode == ConstantVus);
    m_duration->setEnabled(mode != AsWritten);
  };
  connect(m_override, &QComboBox::currentIndexChanged, this, updateOverride);
  updateOverride();
  connect(m_plan, &QComboBox::currentIndexChanged, this,
          [this] { m_description->setText(m_plan->currentData(Qt::ToolTipRole).toString()); });
  m_description->setText(m_plan->currentData(Qt::ToolTipRole).toString());
  connect(import, &QToolButton::clicked, this, &LoadPanel::importPlan);
  connect(m_start, &QPushButton::clicked, this, &LoadPanel::start);
  connect(m_stop, &QPushButton::clicked, this, &LoadPanel::stop);
  connect(m_controller, &core::LoadController::started, this, [this](const QString& title) {
    m_progress->setFormat(tr("%1: starting").arg(title));
  });
  connect(m_controller, &core::LoadController::progress, this, [this](int percent, const QString& phase) {
    m_progress->setValue(percent);
    if (!phase.isEmpty()) m_progress->setFormat(tr("%1 — %p%").arg(phase));
  });
  connect(m_controller, &core::LoadController::snapshotAvailable, this, &LoadPanel::onSnapshot);
  connect(m_controller, &core::LoadController::finished, this, &LoadPanel::onFinished);
  connect(m_controller, &core::LoadController::failed, this, [this](const QString& message) {
    setRunning(false);
    m_progress->setFormat(tr("failed"));
    m_live->setText(message);
  });
  setRunning(false);
}

void LoadPanel::addPlan(const QString& id, const QString& title, const QString& description) {
  m_plan->addItem(title, id);
  m_plan->setItemData(m_plan->count() - 1, description, Qt::ToolTipRole);
}

void LoadPanel::setTarget(const QString& gatewayUrl, const QString& authToken) {
  m_target->setText(gatewayUrl);
  m_authToken = authToken;
}

bool LoadPanel::selectPlan(const QString& id) {
  const int index = m_plan->findData(id);
  if (index >= 0) m_plan->setCurrentIndex(index);
  return index >= 0;
}

void LoadPanel::setRateOverride(double rate, double durationS) {
  m_override->setCurrentIndex(m_override->findData(ConstantRate));
  m_rate->setValue(rate);
  m_duration->setValue(int(durationS));
}

void LoadPanel::importPlan() {
  const QString file = QFileDialog::getOpenFileName(this, tr("Import load plan"), QString(),
                                                    tr("Load plans (*.yml *.yaml *.jmx);;All files (*)"));
  if (file.isEmpty()) return;
  const int existing = m_plan->findData(file);
  if (existing < 0) addPlan(file, QFileInfo(file).fileName(), file);
  m_plan->setCurrentIndex(existing >= 0 ? existing : m_plan->count() - 1);
}

void LoadPanel::start() {
  core::LoadSettings settings;
  settings.plan = m_plan->currentData().toString();
  settings.target = m_target->text().trimmed();
  settings.authToken = m_authToken;
  const int mode = m_override->currentData().toInt();
  if (mode == ConstantRate) settings.rate = m_rate->value();
  if (mode == ConstantVus) settings.vus = m_vus->value();
  settings.durationS = m_duration->value();
  if (!m_controller->start(settings)) return;
  m_live->clear();
  m_progress->setValue(0);
  m_progress->setFormat(tr("starting"));
  setRunning(true);
}

void LoadPanel::stop() { m_controller->stop(); }

void LoadPanel::onSnapshot(const core::LoadSnapshot& s) {
  m_live->setText(tr("%1 req/s · p99 %2 ms · errors %3 % · in flight %4")
                      .arg(QString::number(s.rps, 'f', 1), QString::number(s.p99Ms, 'f', 1),
                           QString::number(s.errorRate * 100, 'f', 1))
                      .arg(s.inFlight));
}

void LoadPanel::onFinished(const core::LoadSummary& summary) {
  setRunning(false);
  m_progress->setFormat(summary.stoppedEarly ? tr("stopped") : tr("done"));
  m_live->setText(tr("%1 requests, %2 failed, p50 %3 ms, p99 %4 ms in %5 s")
                      .arg(summary.requests)
                      .arg(summary.failed)
                      .arg(QString::number(summary.p50Ms, 'f', 1), QString::number(summary.p99Ms, 'f', 1),
                           QString::number(summary.durationS, 'f', 0)));
}

void LoadPanel::setRunning(bool running) {
  m_start->setEnabled(!running);
  m_stop->setEnabled(running);
  m_plan->setEnabled(!running);
}

}  // namespace mambogo::gui
