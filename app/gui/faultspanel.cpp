#include "gui/faultspanel.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace mambogo::gui {
namespace {

using Kind = core::FaultSpec::Kind;

const QStringList kServices{QStringLiteral("payment-service"), QStringLiteral("order-service"),
                            QStringLiteral("product-service"), QStringLiteral("cart-service"),
                            QStringLiteral("gateway"),         QStringLiteral("redis"),
                            QStringLiteral("postgres"),        QStringLiteral("postgres-replica")};

bool isNetwork(Kind k) { return k == Kind::NetworkDelay || k == Kind::NetworkLoss || k == Kind::NetworkPartition; }

QString remainingText(const core::ActiveFault& f) {
  if (f.durationS < 0) return FaultsPanel::tr("until removed");
  if (f.expired()) return FaultsPanel::tr("expired");
  return QStringLiteral("%1:%2").arg(f.remainingS / 60).arg(f.remainingS % 60, 2, 10, QLatin1Char('0'));
}

}  // namespace

FaultsPanel::FaultsPanel(QWidget* parent) : QWidget(parent) {
  m_kind = new QComboBox;
  m_kind->setObjectName(QStringLiteral("faultKind"));
  m_kind->addItem(tr("Pod kill"), int(Kind::PodKill));
  m_kind->addItem(tr("Pod failure"), int(Kind::PodFailure));
  m_kind->addItem(tr("Network delay"), int(Kind::NetworkDelay));
  m_kind->addItem(tr("Network loss"), int(Kind::NetworkLoss));
  m_kind->addItem(tr("Network partition"), int(Kind::NetworkPartition));
  m_kind->addItem(tr("HTTP abort"), int(Kind::HttpAbort));
  m_kind->addItem(tr("HTTP delay"), int(Kind::HttpDelay));
  m_kind->addItem(tr("HTTP status code"), int(Kind::HttpReplaceCode));
  m_kind->addItem(tr("CPU stress"), int(Kind::CpuStress));
  m_service = new QComboBox;
  m_service->setObjectName(QStringLiteral("faultService"));
  m_service->setEditable(true);
  m_service->addItems(kServices);
  m_target = new QComboBox;
  m_target->setObjectName(QStringLiteral("faultTarget"));
  m_target->setEditable(true);
  m_target->addItems(kServices);
  m_target->setCurrentIndex(1);
  m_parameterLabel = new QLabel;
  m_parameter = new QSpinBox;
  m_parameter->setObjectName(QStringLiteral("faultParameter"));
  m_duration = new QSpinBox;
  m_duration->setObjectName(QStringLiteral("faultDuration"));
  m_duration->setRange(1, 24 * 3600);
  m_duration->setValue(60);
  m_duration->setSuffix(tr(" s"));

  m_inject = new QPushButton(QIcon(QStringLiteral(":/icons/fault.svg")), tr("Inject"));
  m_inject->setObjectName(QStringLiteral("faultInject"));
  m_remove = new QPushButton(QIcon(QStringLiteral(":/icons/delete.svg")), tr("Remove"));
  m_remove->setObjectName(QStringLiteral("faultRemove"));
  m_recover = new QPushButton(QIcon(QStringLiteral(":/icons/recover.svg")), tr("Recover all"));
  m_recover->setObjectName(QStringLiteral("faultRecoverAll"));

  m_active = new QTreeWidget;
  m_active->setObjectName(QStringLiteral("faultList"));
  m_active->setRootIsDecorated(false);
  m_active->setHeaderLabels({tr("Fault"), tr("Left"), tr("Kind"), tr("Name")});
  m_active->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  m_active->header()->setStretchLastSection(false);
  m_active->setAlternatingRowColors(true);

  auto* form = new QFormLayout;
  form->addRow(tr("Fault:"), m_kind);
  form->addRow(tr("Service:"), m_service);
  form->addRow(tr("To service:"), m_target);
  form->addRow(m_parameterLabel, m_parameter);
  form->addRow(tr("Duration:"), m_duration);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(m_inject);
  buttons->addStretch();
  buttons->addWidget(m_remove);
  buttons->addWidget(m_recover);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addLayout(buttons);
  layout->addWidget(new QLabel(tr("Active faults:")));
  layout->addWidget(m_active, 1);

  connect(m_kind, &QComboBox::currentIndexChanged, this, &FaultsPanel::updateParameter);
  connect(m_inject, &QPushButton::clicked, this, &FaultsPanel::inject);
  connect(m_recover, &QPushButton::clicked, this, &FaultsPanel::recoverAll);
  connect(m_remove, &QPushButton::clicked, this, &FaultsPanel::removeSelected);
  updateParameter();
  setController(nullptr);
}

void FaultsPanel::setController(core::FaultController* controller) {
  if (m_controller) m_controller->disconnect(this);
  m_controller = controller;
  for (QWidget* w : std::initializer_list<QWidget*>{m_inject, m_remove, m_recover}) w->setEnabled(controller);
  if (controller) {
    connect(controller, &core::FaultController::faultsChanged, this, &FaultsPanel::showFaults);
    connect(controller, &core::FaultController::failed, this, &FaultsPanel::message);
    connect(controller, &core::FaultController::injected, this, [this](const core::ActiveFault& f) {
      Q_EMIT message(tr("Injected %1 (%2)").arg(f.summary, f.name));
    });
    connect(controller, &core::FaultController::recovered, this,
            [this](int count) { Q_EMIT message(tr("Recovered: %n fault(s) removed", nullptr, count)); });
  }
  showFaults();
}

void FaultsPanel::updateParameter() {
  const auto kind = Kind(m_kind->currentData().toInt());
  m_target->setEnabled(isNetwork(kind));
  struct Parameter {
    QString label, suffix;
    int min, max, value;
  };
  Parameter p{QString(), QString(), 0, 0, 0};
  switch (kind) {
    case Kind::NetworkDelay: p = {tr("Latency:"), tr(" ms"), 1, 60'000, 200}; break;
    case Kind::NetworkLoss: p = {tr("Loss:"), tr(" %"), 1, 100, 50}; break;
    case Kind::HttpDelay: p = {tr("Delay:"), tr(" ms"), 1, 120'000, 1'000}; break;
    case Kind::HttpReplaceCode: p = {tr("Status code:"), QString(), 100, 599, 503}; break;
    case Kind::CpuStress: p = {tr("Workers:"), QString(), 1, 64, 1}; break;
    default: break;
  }
  m_parameterLabel->setText(p.label.isEmpty() ? tr("Parameter:") : p.label);
  m_parameter->setEnabled(!p.label.isEmpty());
  m_parameter->setRange(p.min, p.max);
  m_parameter->setSuffix(p.suffix);
  m_parameter->setValue(p.value);
}

core::FaultSpec FaultsPanel::currentSpec() const {
  core::FaultSpec spec;
  spec.kind = Kind(m_kind->currentData().toInt());
  spec.service = m_service->currentText().trimmed();
  spec.targetService = m_target->currentText().trimmed();
  spec.durationS = m_duration->value();
  const int value = m_parameter->value();
  switch (spec.kind) {
    case Kind::NetworkDelay: spec.latencyMs = value; break;
    case Kind::NetworkLoss: spec.lossPercent = value; break;
    case Kind::HttpDelay: spec.httpDelayMs = value; break;
    case Kind::HttpReplaceCode: spec.replaceCode = value; break;
    case Kind::CpuStress: spec.cpuWorkers = value; break;
    default: break;
  }
  return spec;
}

void FaultsPanel::setSpec(const core::FaultSpec& spec) {
  m_kind->setCurrentIndex(m_kind->findData(int(spec.kind)));
  m_service->setCurrentText(spec.service);
  m_target->setCurrentText(spec.targetService);
  m_duration->setValue(spec.durationS);
  switch (spec.kind) {
    case Kind::NetworkDelay: m_parameter->setValue(spec.latencyMs); break;
    case Kind::NetworkLoss: m_parameter->setValue(int(spec.lossPercent)); break;
    case Kind::HttpDelay: m_parameter->setValue(spec.httpDelayMs); break;
    case Kind::HttpReplaceCode: m_parameter->setValue(spec.replaceCode); break;
    case Kind::CpuStress: m_parameter->setValue(spec.cpuWorkers); break;
    default: break;
  }
}

void FaultsPanel::inject() {
  if (m_controller) m_controller->inject(currentSpec());
}

void FaultsPanel::recoverAll() {
  if (m_controller) m_controller->recoverAll();
}

void FaultsPanel::removeSelected() {
  if (!m_controller) return;
  const QTreeWidgetItem* item = m_active->currentItem();
  if (!item) return;
  for (const auto& fault : m_controller->activeFaults())
    if (fault.name == item->text(3)) m_controller->remove(fault);
}

void FaultsPanel::showFaults() {
  const QList<core::ActiveFault> faults = m_controller ? m_controller->activeFaults() : QList<core::ActiveFault>{};
  // Update rows in place (the list changes once a second while faults run).
  while (m_active->topLevelItemCount() > faults.size()) delete m_active->takeTopLevelItem(m_active->topLevelItemCount() - 1);
  for (int i = 0; i < faults.size(); ++i) {
    QTreeWidgetItem* item = m_active->topLevelItem(i);
    if (!item) item = new QTreeWidgetItem(m_active);
    const auto& f = faults[i];
    item->setText(0, f.summary);
    item->setText(1, remainingText(f));
    item->setText(2, f.kind);
    item->setText(3, f.name);
    item->setIcon(0, QIcon(f.expired() ? QStringLiteral(":/icons/recover.svg") : QStringLiteral(":/icons/fault.svg")));
    item->setToolTip(0, f.managed ? tr("created by Mambogo (label mambogo.io/fault=true)")
                                  : tr("not created by Mambogo: \"Recover all\" leaves it"));
  }
}

}  // namespace mambogo::gui
