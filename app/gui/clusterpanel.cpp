#include "gui/clusterpanel.h"

#include <QAction>
#include <QDateTime>
#include <QFontDatabase>
#include <QHeaderView>
#include <QInputDialog>
#include <QJsonObject>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableView>
#include <QToolBar>
#include <QToolButton>
#include <QTreeView>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "core/cluster_model.h"
#include "core/hpa_model.h"
#include "core/kube_client.h"
#include "core/cluster_session.h"

namespace mambogo::gui {
namespace {

enum Page { IdlePage, LaunchPage, TreePage };

QToolButton* bigButton(QAction* action) {
  auto* button = new QToolButton;
  button->setDefaultAction(action);
  button->setToolButtonStyle(Qt::ToolButtonTextUnderIcon);
  button->setIconSize(QSize(40, 40));
  button->setMinimumWidth(150);
  return button;
}

QColor launchColour(const core::PodLaunchState& pod) {
  if (pod.isReady()) return QColor(0x2e, 0x7d, 0x32);
  if (pod.state.contains(QLatin1String("BackOff")) || pod.state.contains(QLatin1String("Err")) ||
      pod.state == QLatin1String("Failed"))
    return QColor(0xc6, 0x28, 0x28);
  return QColor(0xef, 0x8f, 0x00);
}

}  // namespace

ClusterPanel::ClusterPanel(QAction* launch, QAction* connectAction, QWidget* parent) : QWidget(parent) {
  m_stack = new QStackedWidget;

  // Idle: what to do first.
  auto* idle = new QWidget;
  auto* idleLayout = new QVBoxLayout(idle);
  auto* hint = new QLabel(tr("<h3>No cluster connected</h3><p>Launch the bundled shop on this machine with one "
                             "click, or connect to a Kubernetes cluster from your kubeconfig.</p>"));
  hint->setWordWrap(true);
  hint->setAlignment(Qt::AlignCenter);
  auto* idleButtons = new QHBoxLayout;
  idleButtons->addStretch();
  idleButtons->addWidget(bigButton(launch));
  idleButtons->addWidget(bigButton(connectAction));
  idleButtons->addStretch();
  idleLayout->addStretch();
  idleLayout->addWidget(hint);
  idleLayout->addLayout(idleButtons);
  idleLayout->addStretch();

  // Launching: per-pod progress.
  auto* launching = new QWidget;
  auto* launchLayout = new QVBoxLayout(launching);
  m_launchTitle = new QLabel;
  m_launchProgress = new QProgressBar;
  m_launchProgress->setObjectName(QStringLiteral("launchProgress"));
  m_launchPods = new QTreeWidget;
  m_launchPods->setObjectName(QStringLiteral("launchPods"));
  m_launchPods->setRootIsDecorated(false);
  m_launchPods->setHeaderLabels({tr("Pod"), tr("State"), tr("Ready")});
  m_launchPods->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  m_launchPods->header()->setStretchLastSection(false);
  m_launchLog = new QPlainTextEdit;
  m_launchLog->setReadOnly(true);
  m_launchLog->setMaximumBlockCount(2000);
  m_launchLog->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  auto* launchSplit = new QSplitter(Qt::Vertical);
  launchSplit->addWidget(m_launchPods);
  launchSplit->addWidget(m_launchLog);
  launchSplit->setStretchFactor(0, 3);
  launchSplit->setStretchFactor(1, 1);
  launchLayout->addWidget(m_launchTitle);
  launchLayout->addWidget(m_launchProgress);
  launchLayout->addWidget(launchSplit, 1);

  // Connected: the tree and the autoscalers.
  auto* connected = new QWidget;
  auto* treeLayout = new QVBoxLayout(connected);
  treeLayout->setContentsMargins(0, 0, 0, 0);
  auto* actions = new QToolBar;
  actions->setIconSize(QSize(16, 16));
  actions->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  m_scale = actions->addAction(QIcon(QStringLiteral(":/icons/scale.svg")), tr("Scale…"), this, &ClusterPanel::scaleSelected);
  m_restart = actions->addAction(QIcon(QStringLiteral(":/icons/restart.svg")), tr("Restart"), this,
                                 &ClusterPanel::restartSelected);
  m_delete = actions->addAction(QIcon(QStringLiteral(":/icons/delete.svg")), tr("Delete pod"), this,
                                &ClusterPanel::deleteSelectedPod);
  m_logs = actions->addAction(QIcon(QStringLiteral(":/icons/logs.svg")), tr("Logs"), this,
                              [this] { Q_EMIT logsRequested(selectedName()); });
  m_scale->setToolTip(tr("Set the number of replicas of the selected deployment"));
  m_restart->setToolTip(tr("Rolling restart of the selected deployment (like kubectl rollout restart)"));
  m_tree = new QTreeView;
  m_tree->setObjectName(QStringLiteral("clusterTree"));
  m_tree->setAlternatingRowColors(true);
  m_tree->setUniformRowHeights(true);
  m_tree->setContextMenuPolicy(Qt::CustomContextMenu);
  m_hpas = new QTableView;
  m_hpas->setObjectName(QStringLiteral("hpaTable"));
  m_hpas->verticalHeader()->hide();
  m_hpas->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_hpas->setAlternatingRowColors(true);
  m_hpas->setWordWrap(false);
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(m_tree);
  split->addWidget(m_hpas);
  split->setStretchFactor(0, 4);
  split->setStretchFactor(1, 1);
  treeLayout->addWidget(actions);
  treeLayout->addWidget(split, 1);

  m_stack->insertWidget(IdlePage, idle);
  m_stack->insertWidget(LaunchPage, launching);
  m_stack->insertWidget(TreePage, connected);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(m_stack);

  connect(m_tree, &QTreeView::customContextMenuRequested, this, [this](const QPoint& at) {
    QMenu menu;
    for (QAction* a : {m_scale, m_restart, m_delete, m_logs})
      if (a->isEnabled()) menu.addAction(a);
    if (!menu.isEmpty()) menu.exec(m_tree->viewport()->mapToGlobal(at));
  });
  connect(m_tree, &QTreeView::doubleClicked, this, [this] {
    if (selectedKind() == QLatin1String("Pod")) Q_EMIT logsRequested(selectedName());
  });
  updateActions();
}

void ClusterPanel::setSession(ClusterSession* session) {
  m_session = session;
  if (!session) {
    m_tree->setModel(nullptr);
    m_hpas->setModel(nullptr);
    return;
  }
  m_tree->setModel(session->clusterModel());
  m_hpas->setModel(session->hpaModel());
  m_tree->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
  m_tree->header()->setStretchLastSection(false);
  m_hpas->horizontalHeader()->setStretchLastSection(true);
  // Autoscalers are few and change rarely: fit the columns to what arrives.
  for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
    connect(session->hpaModel(), signal, m_hpas, [this] { m_hpas->resizeColumnsToContents(); });
  m_hpas->resizeColumnsToContents();
  connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this, &ClusterPanel::updateActions);
  connect(session->clusterModel(), &QAbstractItemModel::rowsInserted, m_tree,
          [this](const QModelIndex& parent) {
            if (!parent.isValid()) m_tree->expandAll();
          });
  m_tree->expandAll();
  m_stack->setCurrentIndex(TreePage);
  updateActions();
}

void ClusterPanel::showLaunch(const QString& profile) {
  m_launchPods->clear();
  m_launchLog->clear();
  m_launchProgress->setRange(0, 0);  // busy until the first pod appears
  m_launchTitle->setText(tr("<b>Starting the local cluster</b> (profile %1)…").arg(profile));
  m_stack->setCurrentIndex(LaunchPage);
}

void ClusterPanel::launchPodChanged(const core::PodLaunchState& pod) {
  QTreeWidgetItem* item = nullptr;
  for (int i = 0; i < m_launchPods->topLevelItemCount() && !item; ++i)
    if (m_launchPods->topLevelItem(i)->text(0) == pod.name) item = m_launchPods->topLevelItem(i);
  if (!item) item = new QTreeWidgetItem(m_launchPods, {pod.name});
  item->setText(1, pod.detail.isEmpty() ? pod.state : pod.state + QStringLiteral(" (") + pod.detail + QLatin1Char(')'));
  item->setText(2, QStringLiteral("%1/%2").arg(pod.ready).arg(pod.total));
  item->setForeground(1, launchColour(pod));
  int ready = 0;
  for (int i = 0; i < m_launchPods->topLevelItemCount(); ++i) {
    const QString counts = m_launchPods->topLevelItem(i)->text(2);
    const QString state = m_launchPods->topLevelItem(i)->text(1);
    const auto parts = counts.split(QLatin1Char('/'));
    if (state.startsWith(QLatin1String("Running")) && parts.size() == 2 && parts[0] == parts[1] && parts[1] != QLatin1String("0"))
      ++ready;
  }
  m_launchProgress->setRange(0, m_launchPods->topLevelItemCount());
  m_launchProgress->setValue(ready);
  m_launchProgress->setFormat(tr("%1 of %2 pods ready").arg(ready).arg(m_launchPods->topLevelItemCount()));
}

void ClusterPanel::launchOutput(const QString& line) { m_launchLog->appendPlainText(line); }

void ClusterPanel::showIdle() {
  setSession(nullptr);
  m_stack->setCurrentIndex(IdlePage);
}

QString ClusterPanel::selectedKind() const {
  const QModelIndex current = m_tree->currentIndex();
  return current.isValid() ? current.data(core::ClusterModel::KindRole).toString() : QString();
}

QString ClusterPanel::selectedName() const {
  const QModelIndex current = m_tree->currentIndex();
  return current.isValid() ? current.siblingAtColumn(core::ClusterModel::NameColumn).data().toString() : QString();
}

void ClusterPanel::updateActions() {
  const QString kind = selectedKind();
  const bool workload = kind == QLatin1String("Deployment") || kind == QLatin1String("StatefulSet");
  m_scale->setEnabled(m_session && workload);
  m_restart->setEnabled(m_session && workload);
  m_delete->setEnabled(m_session && kind == QLatin1String("Pod"));
  m_logs->setEnabled(m_session && kind == QLatin1String("Pod"));
}

void ClusterPanel::scaleSelected() {
  if (!m_session) return;
  const QString kind = selectedKind(), name = selectedName();
  const QModelIndex ready = m_tree->currentIndex().siblingAtColumn(core::ClusterModel::ReadyColumn);
  const int current = ready.data().toString().section(QLatin1Char('/'), 1).toInt();
  bool ok = false;
  const int replicas = QInputDialog::getInt(this, tr("Scale %1").arg(name), tr("Replicas:"), current, 0, 100, 1, &ok);
  if (!ok || !m_session) return;
  m_session->client()->mergePatch(
      m_session->workloadPath(kind, name), QJsonObject{{QStringLiteral("spec"), QJsonObject{{QStringLiteral("replicas"), replicas}}}},
      this, [this, name, replicas](const core::KubeResponse& r) {
        Q_EMIT message(r.ok() ? tr("Scaled %1 to %2 replicas").arg(name).arg(replicas)
                              : tr("Could not scale %1: %2").arg(name, r.error.toString()));
      });
}

void ClusterPanel::restartSelected() {
  if (!m_session) return;
  const QString kind = selectedKind(), name = selectedName();
  const QJsonObject patch{
      {QStringLiteral("spec"),
       QJsonObject{{QStringLiteral("template"),
                    QJsonObject{{QStringLiteral("metadata"),
                                 QJsonObject{{QStringLiteral("annotations"),
                                              QJsonObject{{QStringLiteral("kubectl.kubernetes.io/restartedAt"),
                                                           QDateTime::currentDateTimeUtc().toString(Qt::ISODate)}}}}}}}}}};
  m_session->client()->mergePatch(m_session->workloadPath(kind, name), patch, this,
                                  [this, name](const core::KubeResponse& r) {
                                    Q_EMIT message(r.ok() ? tr("Restarting %1").arg(name)
                                                          : tr("Could not restart %1: %2").arg(name, r.error.toString()));
                                  });
}

void ClusterPanel::deleteSelectedPod() {
  if (!m_session) return;
  const QString name = selectedName();
  if (QMessageBox::question(this, tr("Delete pod"), tr("Delete pod %1? Its deployment will start a new one.").arg(name)) !=
      QMessageBox::Yes)
    return;
  if (!m_session) return;
  m_session->client()->remove(m_session->podPath(name), this, [this, name](const core::KubeResponse& r) {
    Q_EMIT message(r.ok() ? tr("Deleted pod %1").arg(name) : tr("Could not delete %1: %2").arg(name, r.error.toString()));
  });
}

}  // namespace mambogo::gui
