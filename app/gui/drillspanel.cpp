#include "gui/drillspanel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSplitter>
#include <QTextBrowser>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "core/cluster_session.h"
#include "drill/report.h"

namespace mambogo::gui {

namespace {

const QColor kPass(0x2c, 0xa0, 0x2c), kFail(0xd6, 0x27, 0x28), kRunning(0x1f, 0x77, 0xb4);

QString seconds(double s) { return s < 0 ? QString() : QStringLiteral("%1 s").arg(s, 0, 'f', 0); }

}  // namespace

DrillsPanel::DrillsPanel(QWidget* parent) : QWidget(parent) {
  m_question = new QComboBox;
  m_question->addItem(tr("All drills"), QString());
  m_question->addItem(tr("Q1 — why is it slow? (caching, pools, indexes)"), QStringLiteral("Q1"));
  m_question->addItem(tr("Q2 — how does it scale to 10x?"), QStringLiteral("Q2"));
  m_question->addItem(tr("Q3 — what happens when a dependency fails?"), QStringLiteral("Q3"));
  m_question->addItem(tr("Q4 — is an accepted order ever lost?"), QStringLiteral("Q4"));
  m_question->setToolTip(tr("Interview mode: the drills that answer each question of the guide with evidence"));
  m_list = new QListWidget;
  m_text = new QTextBrowser;
  m_run = new QPushButton(tr("Run drill"));
  m_run->setObjectName(QStringLiteral("runDrill"));
  m_predictFirst = new QCheckBox(tr("Predict first"));
  m_predictFirst->setObjectName(QStringLiteral("predictFirst"));
  m_predictFirst->setToolTip(tr("Interview mode: answer the drill's questions with numbers before it runs; the report scores them"));
  m_abort = new QPushButton(tr("Abort"));
  m_save = new QPushButton(tr("Save report…"));
  m_verdict = new QLabel;
  m_verdict->setTextFormat(Qt::RichText);
  m_timeline = new QTreeWidget;
  m_timeline->setColumnCount(4);
  m_timeline->setHeaderLabels({tr("What"), tr("Status"), tr("At"), tr("Measured")});
  m_timeline->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  m_steps = new QTreeWidgetItem(m_timeline, {tr("Steps")});
  m_expectations = new QTreeWidgetItem(m_timeline, {tr("Expectations")});
  m_predictions = new QTreeWidgetItem(m_timeline, {tr("Predictions")});

  auto* buttons = new QHBoxLayout;
  buttons->addWidget(m_run);
  buttons->addWidget(m_predictFirst);
  buttons->addWidget(m_abort);
  buttons->addWidget(m_save);
  buttons->addStretch();
  auto* top = new QSplitter(Qt::Horizontal);
  auto* left = new QWidget;
  auto* leftLayout = new QVBoxLayout(left);
  leftLayout->setContentsMargins(0, 0, 0, 0);
  leftLayout->addWidget(m_question);
  leftLayout->addWidget(m_list);
  top->addWidget(left);
  top->addWidget(m_text);
  top->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(top, 2);
  layout->addLayout(buttons);
  layout->addWidget(m_verdict);
  layout->addWidget(m_timeline, 3);

  connect(m_list, &QListWidget::currentRowChanged, this, &DrillsPanel::showSelected);
  connect(m_question, &QComboBox::currentIndexChanged, this, &DrillsPanel::filter);
  connect(m_run, &QPushButton::clicked, this, &DrillsPanel::run);
  connect(m_abort, &QPushButton::clicked, this, &DrillsPanel::abort);
  connect(m_save, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save drill report"), QString(), tr("HTML (*.html);;PDF (*.pdf)"));
    if (!path.isEmpty()) saveReport(path);
  });
  loadDrills();
  updateButtons();
}

DrillsPanel::~DrillsPanel() = default;

void DrillsPanel::loadDrills(const QString& dir) {
  m_drills.clear();
  m_list->clear();
  for (const QString& file : drill::drillFiles(dir.isEmpty() ? drill::builtInDrillDir() : dir)) {
    Entry e;
    try {
      e.drill = drill::loadDrillFile(file);
    } catch (const drill::DrillError& error) {
      e.drill.id = QFileInfo(file).completeBaseName();
      e.drill.title = e.drill.id;
      e.error = QString::fromUtf8(error.what());
    }
    auto* item = new QListWidgetItem(e.error.isEmpty() ? e.drill.title : tr("%1 (invalid)").arg(e.drill.title), m_list);
    item->setData(Qt::UserRole, e.drill.id);
    if (!e.drill.questions.isEmpty()) item->setToolTip(e.drill.questions.join(QStringLiteral(", ")));
    if (!e.error.isEmpty()) item->setForeground(kFail);
    m_drills << e;
  }
  if (!m_drills.isEmpty()) m_list->setCurrentRow(0);
}

int DrillsPanel::drillCount() const { return int(m_drills.size()); }

bool DrillsPanel::select(const QString& id) {
  for (int i = 0; i < m_list->count(); ++i)
    if (m_list->item(i)->data(Qt::UserRole).toString() == id) {
      m_list->setCurrentRow(i);
      return true;
    }
  return false;
}

const drill::Drill* DrillsPanel::selected() const {
  const int row = m_list->currentRow();
  if (row < 0 || row >= m_drills.size() || !m_drills[row].error.isEmpty()) return nullptr;
  return &m_drills[row].drill;
}

QString DrillsPanel::description() const { return m_text->toPlainText(); }

void DrillsPanel::filter() {
  const QString q = m_question->currentData().toString();
  for (int i = 0; i < m_list->count(); ++i) m_list->item(i)->setHidden(!q.isEmpty() && !m_drills[i].drill.questions.contains(q));
}

void DrillsPanel::showSelected() {
  const int row = m_list->currentRow();
  if (row < 0 || row >= m_drills.size()) {
    m_text->clear();
    updateButtons();
    return;
  }
  const Entry& e = m_drills[row];
  if (!e.error.isEmpty()) {
    m_text->setHtml(tr("<h3>%1</h3><p style=\"color:#d62728\">This drill file is refused:<br>%2</p>").arg(e.drill.title.toHtmlEscaped(), e.error.toHtmlEscaped()));
    updateButtons();
    return;
  }
  const drill::Drill& d = e.drill;
  QString h = QStringLiteral("<h3>%1</h3><p>%2</p>").arg(d.title.toHtmlEscaped(), d.teaches.toHtmlEscaped());
  if (!d.proves.isEmpty()) h += tr("<p><b>Proves:</b> %1</p>").arg(d.proves.toHtmlEscaped());
  if (!d.questions.isEmpty()) h += tr("<p><b>Answers:</b> %1</p>").arg(d.questions.join(QStringLiteral(", ")));
  if (d.profile == QLatin1String("full")) h += tr("<p><i>Needs the full profile (Redis and PostgreSQL).</i></p>");
  h += tr("<p><b>Load:</b> %1 for %2 s (warmup %3 s)</p>").arg(d.load.plan.toHtmlEscaped()).arg(d.load.durationS).arg(d.warmupS);
  h += tr("<p><b>Steps</b></p><ul>");
  for (const drill::Step& s : d.method) h += QStringLiteral("<li>%1 s: %2</li>").arg(d.warmupS + s.atS).arg(s.describe().toHtmlEscaped());
  h += tr("</ul><p><b>Expectations</b></p><ul>");
  for (const drill::Expectation& x : d.expectations)
    h += QStringLiteral("<li>%1 — <code>%2</code></li>").arg(x.name.toHtmlEscaped(), x.check.text.toHtmlEscaped());
  h += QStringLiteral("</ul>");
  if (!d.predictions.isEmpty()) {
    h += tr("<p><b>Predict first</b> (tick the box next to Run):</p><ul>");
    for (const drill::Prediction& p : d.predictions) h += QStringLiteral("<li>%1</li>").arg(p.question.toHtmlEscaped());
    h += QStringLiteral("</ul>");
  }
  m_text->setHtml(h);
  if (!m_runner || !m_runner->isRunning()) buildTimeline(d);
  updateButtons();
}

void DrillsPanel::buildTimeline(const drill::Drill& d) {
  qDeleteAll(m_steps->takeChildren());
  qDeleteAll(m_expectations->takeChildren());
  qDeleteAll(m_predictions->takeChildren());
  for (const drill::Step& s : d.method) new QTreeWidgetItem(m_steps, {s.describe(), tr("planned"), seconds(d.warmupS + s.atS)});
  for (const drill::Expectation& x : d.expectations) new QTreeWidgetItem(m_expectations, {x.name, tr("pending")});
  m_timeline->expandAll();
}

void DrillsPanel::setSession(core::ClusterSession* session, const drill::DrillRunner::Options& options) {
  m_runner.reset();
  m_session = session;
  if (session) {
    m_runner = std::make_unique<drill::DrillRunner>(session, options);
    connect(m_runner.get(), &drill::DrillRunner::stepChanged, this, &DrillsPanel::updateStep);
    connect(m_runner.get(), &drill::DrillRunner::expectationChanged, this, &DrillsPanel::updateExpectation);
    connect(m_runner.get(), &drill::DrillRunner::finished, this, &DrillsPanel::onFinished);
    connect(m_runner.get(), &drill::DrillRunner::progress, this, &DrillsPanel::message);
    connect(m_runner.get(), &drill::DrillRunner::tick, this, [this](double t) {
      m_verdict->setText(tr("Running: %1 s").arg(t, 0, 'f', 0));
    });
  }
  updateButtons();
}

void DrillsPanel::run() {
  const drill::Drill* d = selected();
  if (!m_runner || !d || m_runner->isRunning()) return;
  if (!m_predictFirst->isChecked() || d->predictions.isEmpty()) {
    start(*d, {});
    return;
  }
  QDialog* dialog = predictionDialog(*d, this);
  const drill::Drill drill = *d;
  connect(dialog, &QDialog::accepted, this, [this, dialog, drill] {
    if (m_runner && !m_runner->isRunning()) start(drill, predictionsFrom(dialog));
  });
  connect(dialog, &QDialog::finished, dialog, &QObject::deleteLater);
  dialog->open();  // window-modal, without a nested event loop
}

void DrillsPanel::start(const drill::Drill& d, const QHash<QString, double>& predictions) {
  buildTimeline(d);
  for (const drill::Prediction& p : d.predictions)
    if (predictions.contains(p.id))
      new QTreeWidgetItem(m_predictions, {p.question, tr("predicted"), QString(), QStringLiteral("%1 %2").arg(predictions.value(p.id)).arg(p.unit)});
  m_timeline->expandAll();
  m_last.reset();
  m_verdict->setText(tr("Starting…"));
  m_runner->start(d, predictions);
  updateButtons();
}

void DrillsPanel::setPredictFirst(bool on) { m_predictFirst->setChecked(on); }

QDialog* DrillsPanel::predictionDialog(const drill::Drill& d, QWidget* parent) {
  auto* dialog = new QDialog(parent);
  dialog->setObjectName(QStringLiteral("predictDialog"));
  dialog->setWindowTitle(tr("Predict first: %1").arg(d.title));
  auto* form = new QFormLayout;
  for (const drill::Prediction& p : d.predictions) {
    auto* value = new QDoubleSpinBox;
    value->setObjectName(QStringLiteral("predict-") + p.id);
    value->setRange(0, 1e9);
    value->setDecimals(p.tolerance < 0.1 ? 3 : p.tolerance < 1 ? 2 : 1);
    value->setSingleStep(p.tolerance);
    if (!p.unit.isEmpty()) value->setSuffix(QStringLiteral(" ") + p.unit);
    auto* question = new QLabel(p.question);
    question->setWordWrap(true);
    form->addRow(question, value);
  }
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Run with these predictions"));
  connect(buttons, &QDialogButtonBox::accepted, dialog, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
  auto* layout = new QVBoxLayout(dialog);
  layout->addWidget(new QLabel(tr("What do you expect? Each answer within its tolerance scores 100.")));
  layout->addLayout(form);
  layout->addWidget(buttons);
  return dialog;
}

QHash<QString, double> DrillsPanel::predictionsFrom(const QDialog* dialog) {
  QHash<QString, double> out;
  for (const QDoubleSpinBox* box : dialog->findChildren<QDoubleSpinBox*>())
    if (box->objectName().startsWith(QLatin1String("predict-"))) out.insert(box->objectName().mid(8), box->value());
  return out;
}

void DrillsPanel::abort() {
  if (m_runner && m_runner->isRunning()) m_runner->abort(tr("aborted by the user"));
}

void DrillsPanel::updateStep(int index) {
  const drill::StepRecord& r = m_runner->result().steps.value(index);
  while (m_steps->childCount() <= index) new QTreeWidgetItem(m_steps);
  QTreeWidgetItem* item = m_steps->child(index);
  item->setText(0, (r.rollback ? tr("rollback: ") : QString()) + r.step.describe());
  item->setText(1, !r.done ? tr("running") : r.ok ? tr("✓ done") : tr("✗ failed"));
  item->setForeground(1, !r.done ? kRunning : r.ok ? kPass : kFail);
  item->setText(2, seconds(r.startedS));
  item->setText(3, r.detail);
}

void DrillsPanel::updateExpectation(int index) {
  const drill::CheckResult& r = m_runner->result().expectations.value(index);
  QTreeWidgetItem* item = m_expectations->child(index);
  if (!item) return;
  const bool pass = r.status == drill::CheckResult::Status::Passed;
  item->setText(1, pass ? tr("✓ pass") : tr("✗ fail"));
  item->setForeground(1, pass ? kPass : kFail);
  item->setText(2, seconds(r.atS));
  item->setText(3, r.measured + (r.why.isEmpty() ? QString() : QStringLiteral(" — ") + r.why));
}

void DrillsPanel::onFinished(const drill::DrillResult& result) {
  m_last = result;
  const QString colour = result.verdict == drill::DrillResult::Verdict::Passed ? QStringLiteral("#2ca02c") : QStringLiteral("#d62728");
  m_verdict->setText(tr("<b style=\"color:%1\">%2</b> — score %3/100 — %4")
                         .arg(colour, drill::DrillResult::verdictText(result.verdict))
                         .arg(result.score)
                         .arg(result.reason.toHtmlEscaped()) +
                     (result.predictionScore < 0 ? QString() : tr(" — prediction score %1/100").arg(result.predictionScore)));
  for (int i = 0; i < result.predictions.size() && i < m_predictions->childCount(); ++i) {
    const drill::PredictionResult& p = result.predictions[i];
    QTreeWidgetItem* item = m_predictions->child(i);
    item->setText(1, tr("%1/100").arg(p.score));
    item->setForeground(1, p.score >= 50 ? kPass : kFail);
    item->setText(3, tr("predicted %1, measured %2 %3").arg(p.predicted).arg(p.actual ? QString::number(*p.actual, 'g', 4) : tr("nothing")).arg(p.prediction.unit));
  }
  updateButtons();
}

QString DrillsPanel::verdictText() const { return m_verdict->text(); }

bool DrillsPanel::saveReport(const QString& path) {
  if (!m_last) return false;
  QString error;
  const bool ok = path.endsWith(QLatin1String(".pdf"), Qt::CaseInsensitive) ? drill::writePdf(*m_last, path, &error)
                                                                             : drill::writeHtml(*m_last, path, &error);
  Q_EMIT message(ok ? tr("Report saved: %1").arg(path) : tr("Cannot save the report: %1").arg(error));
  return ok;
}

void DrillsPanel::updateButtons() {
  const bool running = m_runner && m_runner->isRunning();
  m_run->setEnabled(m_runner && !running && selected());
  m_run->setToolTip(m_runner ? QString() : tr("Connect to a cluster or launch the local one first"));
  m_abort->setEnabled(running);
  m_save->setEnabled(m_last.has_value() && !running);
  m_list->setEnabled(!running);
}

}  // namespace mambogo::gui
