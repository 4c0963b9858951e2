#include "gui/topologyview.h"

#include <QBrush>
#include <QFont>
#include <QGraphicsPathItem>
#include <QGraphicsRectItem>
#include <QGraphicsScene>
#include <QGraphicsSimpleTextItem>
#include <QPainterPath>
#include <QPen>
#include <QResizeEvent>
#include <algorithm>
#include <cmath>

namespace mambogo::gui {
namespace {

constexpr qreal kNodeWidth = 180;
constexpr qreal kNodeHeight = 58;
constexpr qreal kPillHeight = 16;
constexpr int kMaxPills = 3;

const QColor kBorderReady(0x2e, 0x7d, 0x32);
const QColor kBorderDegraded(0xef, 0x8f, 0x00);
const QColor kBorderDown(0xc6, 0x28, 0x28);
const QColor kAbsent(0xb0, 0xbe, 0xc5);
const QColor kText(0x26, 0x32, 0x38);

QString rateText(double rps, double errorRate) {
  if (std::isnan(rps)) return QStringLiteral("–");
  const QString errors = std::isnan(errorRate) ? QStringLiteral("–") : QString::number(errorRate * 100, 'f', 1);
  return TopologyView::tr("%1 rps · %2 % err").arg(QString::number(rps, 'f', rps < 10 ? 1 : 0), errors);
}

}  // namespace

TopologyView::TopologyView(QWidget* parent) : QGraphicsView(parent) {
  auto* scene = new QGraphicsScene(this);
  setScene(scene);
  setRenderHint(QPainter::Antialiasing);
  setBackgroundBrush(QColor(0xfa, 0xfb, 0xfc));
  setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  setMinimumSize(320, 220);

  const qreal col0 = 0, col1 = 340, col2 = 690, row = 92;
  addNode(QStringLiteral("gateway"), QStringLiteral("gateway"), {col0, 1.5 * row});
  addNode(QStringLiteral("product-service"), QStringLiteral("product-service"), {col1, 0});
  addNode(QStringLiteral("cart-service"), QStringLiteral("cart-service"), {col1, row});
  addNode(QStringLiteral("order-service"), QStringLiteral("order-service"), {col1, 2 * row});
  addNode(QStringLiteral("payment-service"), QStringLiteral("payment-service"), {col1, 3 * row});
  addNode(QStringLiteral("redis"), QStringLiteral("redis"), {col2, 0.5 * row});
  addNode(QStringLiteral("postgres"), QStringLiteral("postgres"), {col2, 1.75 * row});
  addNode(QStringLiteral("postgres-replica"), QStringLiteral("postgres-replica"), {col2, 3 * row});

  for (const char* service : {"product-service", "cart-service", "order-service"})
    addEdge(QStringLiteral("gateway"), QString::fromLatin1(service), true);
  addEdge(QStringLiteral("order-service"), QStringLiteral("payment-service"), true);
  addEdge(QStringLiteral("order-service"), QStringLiteral("product-service"), false, true);
  addEdge(QStringLiteral("product-service"), QStringLiteral("redis"), false);
  addEdge(QStringLiteral("cart-service"), QStringLiteral("redis"), false);
  addEdge(QStringLiteral("product-service"), QStringLiteral("postgres"), false);
  addEdge(QStringLiteral("product-service"), QStringLiteral("postgres-replica"), false);
  addEdge(QStringLiteral("order-service"), QStringLiteral("postgres"), false);
  addEdge(QStringLiteral("payment-service"), QStringLiteral("postgres"), false);
  addEdge(QStringLiteral("postgres"), QStringLiteral("postgres-replica"), false);

  scene->setSceneRect(scene->itemsBoundingRect().adjusted(-16, -16, 16, 16));
  setHealth({});
}

void TopologyView::addNode(const QString& app, const QString& title, QPointF at) {
  Node node;
  node.box = scene()->addRect(QRectF(0, 0, kNodeWidth, kNodeHeight), QPen(kAbsent, 2), QBrush(Qt::white));
  node.box->setPos(at);
  node.box->setZValue(1);
  node.title = new QGraphicsSimpleTextItem(title, node.box);
  QFont bold = font();
  bold.setBold(true);
  node.title->setFont(bold);
  node.title->setPos(8, 5);
  node.status = new QGraphicsSimpleTextItem(node.box);
  node.status->setPos(8, 22);
  for (int i = 0; i < kMaxPills; ++i) {
    auto* pill = new QGraphicsRectItem(node.box);
    pill->setPen(Qt::NoPen);
    pill->setVisible(false);
    auto* text = new QGraphicsSimpleTextItem(pill);
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.8);
    text->setFont(small);
    text->setBrush(Qt::white);
    node.pills << pill;
  }
  m_nodes.insert(app, node);
}

void TopologyView::addEdge(const QString& from, const QString& to, bool labelled, bool arc) {
  const QRectF a = m_nodes[from].box->sceneBoundingRect(), b = m_nodes[to].box->sceneBoundingRect();
  QPainterPath path;
  QPointF start, end;
  if (arc) {  // a call within the services column: around the right-hand side
    start = QPointF(a.right(), a.center().y() - 10);
    end = QPointF(b.right(), b.center().y() + 10);
    path.moveTo(start);
    path.cubicTo(start + QPointF(70, 0), end + QPointF(70, 0), end);
  } else if (std::abs(a.center().x() - b.center().x()) < 1) {  // same column, adjacent
    start = QPointF(a.center().x() + 30, a.bottom());
    end = QPointF(b.center().x() + 30, b.top());
    path.moveTo(start);
    path.lineTo(end);
  } else {
    // Edges leaving one node fan out over its right side, so that their labels stay apart.
    const qreal spread = std::clamp((b.center().y() - a.center().y()) * 0.12, -a.height() / 2 + 8, a.height() / 2 - 8);
    start = QPointF(a.right(), a.center().y() + spread);
    end = QPointF(b.left(), b.center().y());
    path.moveTo(start);
    const qreal dx = (end.x() - start.x()) / 2;
    path.cubicTo(start + QPointF(dx, 0), end - QPointF(dx, 0), end);
  }
  // Arrow head at the callee.
  const QPointF tangent = path.pointAtPercent(1) - path.pointAtPercent(0.97);
  const qreal angle = std::atan2(tangent.y(), tangent.x());
  const QPointF left = end - QPointF(std::cos(angle - 0.45), std::sin(angle - 0.45)) * 9;
  const QPointF right = end - QPointF(std::cos(angle + 0.45), std::sin(angle + 0.45)) * 9;
  path.moveTo(left);
  path.lineTo(end);
  path.lineTo(right);

  Edge edge{from, to, scene()->addPath(path, QPen(QColor(0x90, 0xa4, 0xae), 1.6)), nullptr, labelled, QPointF(), true};
  if (labelled) {
    edge.label = scene()->addSimpleText(QString());
    edge.label->setBrush(kText);
    edge.label->setZValue(2);
    const bool sameColumn = arc || std::abs(a.center().x() - b.center().x()) < 1;
    edge.labelAnchor = path.pointAtPercent(0.5);
    edge.labelCentred = !sameColumn;
  }
  m_edges << edge;
}

QColor TopologyView::breakerColour(const QString& state) {
  const QString s = state.toLower();
  if (s == QLatin1String("closed")) return QColor(0x2e, 0x7d, 0x32);
  if (s == QLatin1String("open") || s == QLatin1String("forced_open")) return QColor(0xc6, 0x28, 0x28);
  if (s == QLatin1String("half_open")) return QColor(0xf9, 0xa8, 0x25);
  return QColor(0x78, 0x90, 0x9c);  // disabled, metrics_only, unknown
}

void TopologyView::setHealth(const QHash<QString, ServiceHealth>& health) {
  for (auto it = m_nodes.begin(); it != m_nodes.end(); ++it) updateNode(it.key(), health.value(it.key()));
  for (Edge& edge : m_edges) {
    const ServiceHealth callee = health.value(edge.to);
    const bool active = health.value(edge.from).present && callee.present;
    QPen pen = edge.path->pen();
    const bool failing = !std::isnan(callee.errorRate) && callee.errorRate >= 0.05;
    pen.setColor(!active ? kAbsent : failing ? kBorderDown : QColor(0x60, 0x7d, 0x8b));
    pen.setStyle(active ? Qt::SolidLine : Qt::DashLine);
    edge.path->setPen(pen);
    if (edge.label) {
      edge.label->setText(active ? rateText(callee.rps, callee.errorRate) : QString());
      const qreal width = edge.label->boundingRect().width();
      edge.label->setPos(edge.labelAnchor + (edge.labelCentred ? QPointF(-width / 2, -17) : QPointF(6, -8)));
      edge.label->setBrush(failing ? kBorderDown : kText);
    }
  }
}

void TopologyView::updateNode(const QString& app, const ServiceHealth& health) {
  Node& node = m_nodes[app];
  QColor border = kAbsent;
  QString status = tr("not deployed");
  if (health.present) {
    border = health.ready >= health.desired && health.desired > 0 ? kBorderReady
             : health.ready > 0                                   ? kBorderDegraded
                                                                  : kBorderDown;
    status = tr("%1/%2 ready").arg(health.ready).arg(health.desired);
    if (!std::isnan(health.rps) && app == QLatin1String("gateway"))
      status += tr(" · %1 rps").arg(QString::number(health.rps, 'f', health.rps < 10 ? 1 : 0));
  }
  node.box->setPen(QPen(border, 2, health.present ? Qt::SolidLine : Qt::DashLine));
  node.title->setBrush(health.present ? kText : kAbsent);
  node.status->setText(status);
  node.status->setBrush(health.present ? QColor(0x54, 0x6e, 0x7a) : kAbsent);
  updateBreakers(node, health);
}

void TopologyView::updateBreakers(Node& node, const ServiceHealth& health) {
  node.pillColours.clear();
  qreal x = 8;
  int used = 0;
  for (auto it = health.breakers.begin(); it != health.breakers.end() && used < kMaxPills; ++it, ++used) {
    QGraphicsRectItem* pill = node.pills[used];
    auto* text = static_cast<QGraphicsSimpleTextItem*>(pill->childItems().first());
    const QColor colour = breakerColour(it.value());
    QString label = it.key();  // the colour tells the state; the name says which breaker
    if (label.endsWith(QLatin1String("-service"))) label.chop(8);
    text->setText(label);
    const QRectF bounds = text->boundingRect();
    pill->setRect(QRectF(0, 0, bounds.width() + 10, kPillHeight));
    pill->setBrush(colour);
    pill->setPos(x, kNodeHeight - kPillHeight - 3);
    pill->setToolTip(tr("circuit breaker %1 is %2").arg(it.key(), it.value()));
    text->setPos(5, (kPillHeight - bounds.height()) / 2);
    pill->setVisible(true);
    x += bounds.width() + 14;
    node.pillColours.insert(it.key(), colour);
  }
  for (int i = used; i < node.pills.size(); ++i) node.pills[i]->setVisible(false);
}

QColor TopologyView::breakerColourShown(const QString& app, const QString& breaker) const {
  return m_nodes.value(app).pillColours.value(breaker);
}

QString TopologyView::edgeText(const QString& from, const QString& to) const {
  for (const Edge& edge : m_edges)
    if (edge.from == from && edge.to == to) return edge.label ? edge.label->text() : QString();
  return {};
}

void TopologyView::resizeEvent(QResizeEvent* event) {
  QGraphicsView::resizeEvent(event);
  fitInView(sceneRect(), Qt::KeepAspectRatio);
}

}  // namespace mambogo::gui
