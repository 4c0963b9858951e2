// ChartsPanel: the live charts of the console — latency (p50/p95/p99), requests per second,
// error rate, and replicas (current vs desired) with the HPA's target and current
// utilization — over one shared time axis.
//
// Data arrive as samples (addSample) into a preallocated buffer per series (1 h at 1 s);
// nothing is drawn until tick(), which calls QXYSeries::replace() once per changed series (the
// Qt Charts audio example's pattern) with only what the window shows, decimated to the plot's
// width (per two pixel columns the lowest and the highest point, so spikes survive), and moves
// the shared time window in whole pixels: a 1 h window on a 400 px plot moves every 9 s, not
// every second by a tenth of a pixel, which redrew every held point each second and stalled the
// GUI for 50-120 ms (tests/bench/console). Pause freezes the view (samples keep being stored); a
// rubber band zooms every chart to the same span; "Live" returns to the moving window.
//
// Thread-safety: GUI thread only. Lifetime: owns its charts.
#pragma once

#include <QList>
#include <QPointF>
#include <QWidget>
#include <array>

class QChart;
class QChartView;
class QComboBox;
class QDateTimeAxis;
class QLineSeries;
class QToolButton;
class QValueAxis;
class QXYSeries;

namespace mambogo::gui {

class ChartsPanel : public QWidget {
  Q_OBJECT
 public:
  enum class Series {
    LatencyP50,
    LatencyP95,
    LatencyP99,
    RequestsPerSecond,
    ErrorRate,  // percent
    ReplicasCurrent,
    ReplicasDesired,
    UtilizationCurrent,  // percent
    UtilizationTarget,   // percent
    Count
  };

  explicit ChartsPanel(QWidget* parent = nullptr);

  void addSample(Series series, qint64 tMs, double value);
  // Draws what arrived since the last tick and moves the time window to end at `nowMs`.
  void tick(qint64 nowMs);
  void clear();

  bool isPaused() const { return m_paused; }
  int pointCount(Series series) const;  // points shown after the last tick (decimated)
  int heldCount(Series series) const;   // points stored (at most 1 h at one per second)
  QXYSeries* series(Series series) const;
  // The HPA whose replicas the replica chart shows; the panel offers the list, the window
  // fills it.
  void setHpaNames(const QStringList& names);
  QString currentHpa() const;

 Q_SIGNALS:
  void hpaChanged(const QString& name);

 private:
  struct Line {
    QLineSeries* series = nullptr;
    int plot = 0;           // index in m_plots
    QList<QPointF> buffer;  // reserved to capacity at construction; oldest first
    QList<QPointF> shown;   // what the series holds: the window's points, decimated
    bool dirty = false;
  };
  struct Plot {
    QChart* chart = nullptr;
    QChartView* view = nullptr;
    QDateTimeAxis* time = nullptr;
    QValueAxis* value = nullptr;
    QValueAxis* secondary = nullptr;  // replicas chart: utilization in percent
  };

  Plot makePlot(const QString& title, const QString& unit);
  void addLine(Plot& plot, Series series, const QString& name, const QColor& color, bool secondaryAxis = false,
               Qt::PenStyle style = Qt::SolidLine);
  void setWindow(qint64 fromMs, qint64 toMs);
  void redraw(bool force);
  void fitValueAxes();
  void zoomedTo(qint64 fromMs, qint64 toMs);

  static constexpr int kCapacity = 3600;  // 1 h at one point per second

  std::array<Line, int(Series::Count)> m_lines;
  std::array<QValueAxis*, int(Series::Count)> m_axisOf{};
  QList<Plot> m_plots;
  QComboBox* m_window = nullptr;
  QComboBox* m_hpa = nullptr;
  QToolButton* m_pause = nullptr;
  QToolButton* m_live = nullptr;
  bool m_paused = false;
  bool m_zoomed = false;
  bool m_syncing = false;
  qint64 m_lastTickMs = 0;
  qint64 m_shownFromMs = 0, m_shownToMs = 0;  // the time window the series were cut to
  qint64 m_zoomFromMs = 0, m_zoomToMs = 0;
};

}  // namespace mambogo::gui
