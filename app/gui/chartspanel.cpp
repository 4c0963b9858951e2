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

// The points of `buffer` (sorted by x) that draw the same line over [from, to] on a plot with
// `columns` buckets: all of them when there are few, else per bucket the lowest and the highest
// (in time order, so a spike stays a spike); plus the nearest point outside each edge, so the
// line reaches the axes.
QList<QPointF> decimate(const QList<QPointF>& buffer, double from, double to, int columns) {
  const auto byX = [](const QPointF& p, double x) { return p.x() < x; };
  auto first = std::lower_bound(buffer.begin(), buffer.end(), from, byX);
  auto last = std::upper_bound(buffer.begin(), buffer.end(), to, [](double x, const QPointF& p) { return x < p.x(); });
  if (first != buffer.begin()) --first;
  if (last != buffer.end()) ++last;
  QList<QPointF> out;
  if (last - first <= 2 * columns) {
    out.reserve(last - first);
    for (auto it = first; it != last; ++it) out.append(*it);
    return out;
  }
  out.reserve(2 * columns + 2);
  const double width = (to - from) / columns;
  for (auto it = first; it != last;) {
    const double bucket = std::floor((it->x() - from) / width);
    auto low = it, high = it;
    for (; it != last && std::floor((it->x() - from) / width) == bucket; ++it) {
      if (it->y() < low->y()) low = it;
      if (it->y() > high->y()) high = it;
    }
    if (low == high) {
      out.append(*low);
    } else {
      out.append(low->x() < high->x() ? *low : *high);
      out.append(low->x() < high->x() ? *high : *low);
    }
  }
  return out;
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
  for (Line& line : m_lines)
    for (int i = 0; i < m_plots.size(); ++i)
      if (m_plots[i].chart->series().contains(line.series)) line.plot = i;

  auto* grid = new QGridLayout;
  grid->setSpacing(4);
  for (int i = 0; i < m_plots.size(); ++i) grid->addWidget(m_plots[i].view, i / 2, i % 2);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(controls);
  layout->addLayout(grid, 1);

  connect(m_window, &QComboBox::currentIndexChanged, this, [this] {
    m_zoomed = false;
    if (!m_paused) redraw(true);
  });
  connect(m_pause, &QToolButton::toggled, this, [this](bool paused) {
    m_paused = paused;
    if (!paused) redraw(true);
  });
  connect(m_live, &QToolButton::clicked, this, [this] {
    m_zoomed = false;
    m_pause->setChecked(false);
    redraw(true);
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
  if (!m_paused) redraw(false);
}

void ChartsPanel::redraw(bool force) {
  qint64 from = m_zoomFromMs, to = m_zoomToMs;
  qint64 stepMs = 1000;
  if (!m_zoomed) {
    const qint64 span = qint64(m_window->currentData().toInt()) * 1000;
    double plotWidth = m_plots.isEmpty() ? 0 : m_plots.first().chart->plotArea().width();
    if (plotWidth < 50) plotWidth = 600;  // not laid out yet
    stepMs = std::max<qint64>(1000, qint64(double(span) / plotWidth));
    to = (m_lastTickMs + stepMs - 1) / stepMs * stepMs;  // whole pixels
    from = to - span;
  }
  const bool moved = from != m_shownFromMs || to != m_shownToMs;
  // A window that moves less than a pixel a second takes its new points when it moves.
  const bool takeNew = force || moved || stepMs <= 1000 || m_zoomed;
  bool changed = false;
  for (Line& line : m_lines) {
    if (!line.series || !(moved || force || (line.dirty && takeNew))) continue;
    const double plotWidth = m_plots.value(line.plot).chart ? m_plots[line.plot].chart->plotArea().width() : 0;
    line.shown = decimate(line.buffer, double(from), double(to), int((plotWidth < 50 ? 600 : plotWidth) / 2));
    line.series->replace(line.shown);
    line.dirty = false;
    changed = true;
  }
  m_shownFromMs = from;
  m_shownToMs = to;
  if (moved && !m_zoomed) setWindow(from, to);
  if (changed || moved) fitValueAxes();
}

void ChartsPanel::setWindow(qint64 fromMs, qint64 toMs) {
  m_syncing = true;
  for (const Plot& plot : m_plots)
    plot.time->setRange(QDateTime::fromMSecsSinceEpoch(fromMs), QDateTime::fromMSecsSinceEpoch(toMs));
  m_syncing = false;
}

void ChartsPanel::zoomedTo(qint64 fromMs, qint64 toMs) {
  m_zoomed = true;
  m_zoomFromMs = fromMs;
  m_zoomToMs = toMs;
  setWindow(fromMs, toMs);
  redraw(true);  // the zoomed span at full detail
}

// Each value axis from 0 to a round number above the highest point shown (the decimated points
// keep every bucket's highest, so this is the window's peak).
void ChartsPanel::fitValueAxes() {
  const double from = double(m_shownFromMs), to = double(m_shownToMs);
  QHash<QValueAxis*, double> peak;
  for (int i = 0; i < int(Series::Count); ++i) {
    QValueAxis* axis = m_axisOf[i];
    if (!axis) continue;
    double& p = peak[axis];
    for (const QPointF& point : m_lines[i].shown)
      if (point.x() >= from && point.x() <= to) p = std::max(p, point.y());
  }
  for (auto it = peak.begin(); it != peak.end(); ++it) {
    const double top = niceCeiling(it.value() * 1.1);
    if (it.key()->max() != top || it.key()->min() != 0) it.key()->setRange(0, top);
  }
}

void ChartsPanel::clear() {
  for (Line& line : m_lines) {
    line.buffer.clear();
    line.dirty = true;
  }
  if (!m_paused) redraw(true);
}

int ChartsPanel::pointCount(Series s) const { return int(m_lines[index(s)].series->count()); }

int ChartsPanel::heldCount(Series s) const { return int(m_lines[index(s)].buffer.size()); }

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
