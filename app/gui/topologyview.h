// TopologyView: the shop as a graph — gateway → services → Redis / PostgreSQL (primary and
// replica) — on a QGraphicsScene. Each node shows its pods (ready / desired, dimmed when the
// workload is not deployed, e.g. no Redis in the embedded profile); each edge into a service
// its requests/s and error rate; each service its circuit breakers as pills in Hystrix's
// colours (closed green, open red, half-open yellow).
//
// The graph is fixed (the shop's call graph as packaging/kubernetes/ deploys it); setHealth()
// updates texts and colours in place — items are never rebuilt.
//
// Thread-safety: GUI thread only.
#pragma once

#include <QColor>
#include <QGraphicsView>
#include <QHash>
#include <QMap>
#include <QString>
#include <limits>

class QGraphicsPathItem;
class QGraphicsRectItem;
class QGraphicsSimpleTextItem;

namespace mambogo::gui {

struct ServiceHealth {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  bool present = false;  // a workload of that app exists
  int ready = 0, desired = 0;
  double rps = kNaN, errorRate = kNaN;  // errorRate 0..1
  QMap<QString, QString> breakers;      // name -> closed | open | half_open | forced_open | disabled
};

class TopologyView : public QGraphicsView {
  Q_OBJECT
 public:
  explicit TopologyView(QWidget* parent = nullptr);

  // By app label; apps missing from `health` are shown as not deployed.
  void setHealth(const QHash<QString, ServiceHealth>& health);

  static QColor breakerColour(const QString& state);
  // What is drawn now (for tests and tooltips): the colour of a service's breaker pill
  // (invalid when there is none) and the text on the edge from → to.
  QColor breakerColourShown(const QString& app, const QString& breaker) const;
  QString edgeText(const QString& from, const QString& to) const;

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  struct Node {
    QGraphicsRectItem* box = nullptr;
    QGraphicsSimpleTextItem* title = nullptr;
    QGraphicsSimpleTextItem* status = nullptr;
    QList<QGraphicsRectItem*> pills;  // pooled; hidden when unused
    QMap<QString, QColor> pillColours;
  };
  struct Edge {
    QString from, to;
    QGraphicsPathItem* path = nullptr;
    QGraphicsSimpleTextItem* label = nullptr;
    bool labelled = false;
    QPointF labelAnchor;        // where the label sits: centred above it, or beside it
    bool labelCentred = true;
  };

  void addNode(const QString& app, const QString& title, QPointF at);
  void addEdge(const QString& from, const QString& to, bool labelled, bool arc = false);
  void updateNode(const QString& app, const ServiceHealth& health);
  void updateBreakers(Node& node, const ServiceHealth& health);

  QHash<QString, Node> m_nodes;
  QList<Edge> m_edges;
};

}  // namespace mambogo::gui
