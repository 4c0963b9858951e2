#include "gui/chartspanel.h"

#include <QComboBox>
#include <QDateTime>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QDateTimeAxis>
#include <QtCharts/QLegend>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>
#include <algorithm>
#include <cmath>

namespace mambogo::gui {
namespace {

int index(ChartsPanel::Series s) { return int(s); }

// A ceiling that reads well on an axis: 1, 2, 5 × 10^n.
double niceCeiling(double v) {
  if (v <= 0) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(v)));
  for (double step : {1.0, 2.0, 5.0, 10.0})
    if (v <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

}  // namespace

ChartsPanel::ChartsPanel(QWidget* parent) : QWidget(parent) {
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Window:")));
  m_window = new QComboBox;
  m_window->setObjectName(QStringLiteral("chartWindow"));
  m_window->addItem(tr("1 minute"), 60);
  m_window->addItem(tr("2 minutes"), 120);
  m_window->addItem(tr("5 minutes"), 300);
  m_window->addItem(tr("15 minutes"), 900);
  m_window->addItem(tr("1 hour"), 3600);
  m_window->setCurrentIndex(1);
  controls->addWidget(m_window);
  controls->addSpacing(12);
  controls->addWidget(new QLabel(tr("Autoscaler:")));
  m_hpa = new QComboBox;
  m_hpa->setObjectName(QStringLiteral("chartHpa"));
  m_hpa->setMinimumContentsLength(16);
  m_hpa->setPlaceholderText(tr("no HPA"));
  controls->addWidget(m_hpa);
  controls->addStretch();
  m_pause = new QToolButton;
  m_pause->setObjectName(QStringLiteral("chartPause"));
  m_pause->setCheckable(true);
  m_pause->setIcon(QIcon(QStringLiteral(":/icons/pause.svg")));
  m_pause->setText(tr("Pause"));
  m_pause->setToolTip(tr("Freeze the charts; data keep being recorded"));
  m_pause->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  controls->addWidget(m_pause);
  m_live = new QToolButton;
  m_live->setObjectName(QStringLiteral("chartLive"));
  m_live->setIcon(QIcon(QStringLiteral(":/icons/live.svg")));
  m_live->setText(tr("Live"));
  m_live->setToolTip(tr("Leave the zoom and follow the latest data (drag on a chart to zoom)"));
  m_live->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  controls->addWidget(m_live);

  Plot latency = makePlot(tr("Latency"), tr("ms"));
  addLine(latency, Series::LatencyP50, tr("p50"), QColor(0x2e, 0x7d, 0x32));
  addLine(latency, Series::LatencyP95, tr("p95"), QColor(0xef, 0x8f, 0x00));
  addLine(latency, Series::LatencyP99, tr("p99"), QColor(0xc6, 0x28, 0x28));
  Plot throughput = makePlot(tr("Throughput"), tr("req/s"));
  addLine(throughput, Series::RequestsPerSecond, tr("requests/s"), QColor(0x15, 0x65, 0xc0));
  Plot errors = makePlot(tr("Error rate"), tr("%"));
  addLine(errors, Series::ErrorRate, tr("errors"), QColor(0xc6, 0x28, 0x28));
  Plot replicas = makePlot(tr("Replicas and utilization"), tr("replicas"));
  replicas.secondary = new QValueAxis;
  replicas.secondary->setTitleText(tr("CPU %"));
  replicas.secondary->setLabelFormat(QStringLiteral("%d"));
  replicas.secondary->setRange(0, 100);
  replicas.chart->addAxis(replicas.secondary, Qt::AlignRight);
  addLine(replicas, Series::ReplicasCurrent, tr("current"), QColor(0x15, 0x65, 0xc0));
  addLine(replicas, Series::ReplicasDesired, tr("desired"), QColor(0x6a, 0x1b, 0x9a), false, Qt::DashLine);
  addLine(replicas, Series::UtilizationCurrent, tr("utilization"), QColor(0xef, 0x8f, 0x00), true);
  addLine(replicas, Series::UtilizationTarget, tr("target"), QColor(0x61, 0x61, 0x61), true, Qt::DotLine);
  m_plots = {latency, throughput, errors, replicas};

  auto* grid = new QGridLayout;
  grid->setSpacing(4);
  for (int i = 0; i < m_plots.size(); ++i) grid->addWidget(m_plots[i].view, i / 2, i % 2);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(controls);
  layout->addLayout(grid, 1);

  connect(m_window, &QComboBox::currentIndexChanged, this, [this] {
    m_zoomed = false;
    tick(m_lastTickMs);
  });
  connect(m_pause, &QToolButton::toggled, this, [this](bool paused) {
    m_paused = paused;
    if (!paused) tick(m_lastTickMs);
  });
  connect(m_live, &QToolButton::clicked, this, [this] {
    m_zoomed = false;
    m_pause->setChecked(false);
    tick(m_lastTickMs);
  });
  connect(m_hpa, &QComboBox::currentTextChanged, this, &ChartsPanel::hpaChanged);
  tick(QDateTime::currentMSecsSinceEpoch());
  // Only now: attaching series moves the axes, which is no user zoom. From here on a range
  // change that the panel did not make is a rubber-band zoom in one chart.
  for (const Plot& plot : std::as_const(m_plots))
    connect(plot.time, &QDateTimeAxis::rangeChanged, this, [this](const QDateTime& from, const QDateTime& to) {
      if (!m_syncing) zoomedTo(from.toMSecsSinceEpoch(), to.toMSecsSinceEpoch());
    });
}

ChartsPanel::Plot ChartsPanel::makePlot(const QString& title, const QString& unit) {
  Plot plot;
  plot.chart = new QChart;
  plot.chart->setTitle(title);
  plot.chart->legend()->setAlignment(Qt::AlignBottom);
  plot.chart->setMargins(QMargins(4, 4, 4, 4));
  plot.chart->setBackgroundRoundness(4);
  plot.chart->setAnimationOptions(QChart::NoAnimation);
  QFont titleFont = plot.chart->titleFont();
  titleFont.setBold(true);
  plot.chart->setTitleFont(titleFont);

  plot.time = new QDateTimeAxis;
  plot.time->setFormat(QStringLiteral("HH:mm:ss"));
  plot.time->setTickCount(5);
  plot.chart->addAxis(plot.time, Qt::AlignBottom);
  plot.value = new QValueAxis;
  plot.value->setTitleText(unit);
  plot.value->setRange(0, 1);
  plot.value->setLabelFormat(QStringLiteral("%g"));
  plot.chart->addAxis(plot.value, Qt::AlignLeft);

  plot.view = new QChartView(plot.chart);
  plot.view->setRenderHint(QPainter::Antialiasing);
  plot.view->setRubberBand(QChartView::HorizontalRubberBand);
  plot.view->setMinimumSize(260, 180);
  return plot;
}

void ChartsPanel::addLine(Plot& plot, Series series, const QString& name, const QColor& color, bool secondaryAxis,
                          Qt::PenStyle style) {
  Line& line = m_lines[index(series)];
  line.series = new QLineSeries;
  line.series->setName(name);
  line.series->setUseOpenGL(false);
  QPen pen(color, 2);
  pen.setStyle(style);
  line.series->setPen(pen);
  line.buffer.reserve(kCapacity);
  plot.chart->addSeries(line.series);
  line.series->attachAxis(plot.time);
  QValueAxis* axis = secondaryAxis ? plot.secondary : plot.value;
  line.series->attachAxis(axis);
  m_axisOf[index(series)] = secondaryAxis ? nullptr : axis;  // the secondary axis stays 0..100
}

void ChartsPanel::addSample(Series series, qint64 tMs, double value) {
  Line& line = m_lines[index(series)];
  if (!std::isfinite(value)) return;
  if (!line.buffer.isEmpty() && line.buffer.last().x() >= double(tMs)) {
    line.buffer.last().setY(value);  // a second sample for the same instant replaces the first
  } else {
    if (line.buffer.size() == kCapacity) line.buffer.removeFirst();
    line.buffer.append(QPointF(double(tMs), value));
  }
  line.dirty = true;
}

void ChartsPanel::tick(qint64 nowMs) {
  m_lastTickMs = nowMs;
  if (m_paused) return;
  for (Line& line : m_lines) {
    if (!line.dirty || !line.series) continue;
    line.series->replace(line.buffer);
    line.dirty = false;
  }
  if (!m_zoomed) setWindow(nowMs - qint64(m_window->currentData().toInt()) * 1000, nowMs);
  fitValueAxes();
}

void ChartsPanel::setWindow(qint64 fromMs, qint64 toMs) {
  m_syncing = true;
  for (const Plot& plot : m_plots)
    plot.time->setRange(QDateTime::fromMSecsSinceEpoch(fromMs), QDateTime::fromMSecsSinceEpoch(toMs));
  m_syncing = false;
}

void ChartsPanel::zoomedTo(qint64 fromMs, qint64 toMs) {
  m_zoomed = true;
  setWindow(fromMs, toMs);
  fitValueAxes();
}

void ChartsPanel::fitValueAxes() {
  if (m_plots.isEmpty()) return;
  const double from = double(m_plots.first().time->min().toMSecsSinceEpoch());
  const double to = double(m_plots.first().time->max().toMSecsSinceEpoch());
  QHash<QValueAxis*, double> peak;
  for (int i = 0; i < int(Series::Count); ++i) {
    QValueAxis* axis = m_axisOf[i];
    if (!axis) continue;
    double& p = peak[axis];
    for (const QPointF& point : m_lines[i].buffer)
      if (point.x() >= from && point.x() <= to) p = std::max(p, point.y());
  }
  for (auto it = peak.begin(); it != peak.end(); ++it) it.key()->setRange(0, niceCeiling(it.value() * 1.1));
}

void ChartsPanel::clear() {
  for (Line& line : m_lines) {
    line.buffer.clear();
    line.dirty = true;
  }
  tick(m_lastTickMs);
}

int ChartsPanel::pointCount(Series s) const { return int(m_lines[index(s)].series->count()); }

QXYSeries* ChartsPanel::series(Series s) const { return m_lines[index(s)].series; }

void ChartsPanel::setHpaNames(const QStringList& names) {
  const QString current = m_hpa->currentText();
  QStringList existing;
  for (int i = 0; i < m_hpa->count(); ++i) existing << m_hpa->itemText(i);
  if (existing == names) return;
  QSignalBlocker block(m_hpa);
  m_hpa->clear();
  m_hpa->addItems(names);
  const int keep = names.indexOf(current);
  m_hpa->setCurrentIndex(keep >= 0 ? keep : (names.isEmpty() ? -1 : 0));
  if (m_hpa->currentText() != current) Q_EMIT hpaChanged(m_hpa->currentText());
}

QString ChartsPanel::currentHpa() const { return m_hpa->currentText(); }

}  // namespace mambogo::gui
