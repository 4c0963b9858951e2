#include "drill/report.h"

#include <QBuffer>
#include <QFile>
#include <QPageSize>
#include <QPainter>
#include <QPainterPath>
#include <QPdfWriter>
#include <QTextDocument>
#include <algorithm>
#include <cmath>

namespace mambogo::drill {

namespace {

const QList<QColor> kPalette{QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0xd6, 0x27, 0x28),
                             QColor(0x2c, 0xa0, 0x2c), QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b)};

double niceStep(double range, int ticks) {
  const double raw = range / ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double f : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (raw <= f * mag) return f * mag;
  return 10 * mag;
}

QString esc(const QString& s) { return s.toHtmlEscaped(); }

QString statusCell(CheckResult::Status s) {
  switch (s) {
    case CheckResult::Status::Passed: return QStringLiteral("<td class=\"pass\">PASS</td>");
    case CheckResult::Status::Failed: return QStringLiteral("<td class=\"fail\">FAIL</td>");
    case CheckResult::Status::Pending: return QStringLiteral("<td>—</td>");
  }
  return {};
}

QString seconds(double s) { return s < 0 ? QStringLiteral("—") : QStringLiteral("%1 s").arg(s, 0, 'f', 1); }

QString verdictColour(DrillResult::Verdict v) {
  return v == DrillResult::Verdict::Passed ? QStringLiteral("#2ca02c") : v == DrillResult::Verdict::Failed ? QStringLiteral("#d62728") : QStringLiteral("#ff7f0e");
}

QByteArray png(const QImage& image) {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  image.save(&buffer, "PNG");
  return bytes;
}

// The document body; charts are <img src="IMG(i)">, where IMG makes the source.
QString document(const DrillResult& r, const std::function<QString(int)>& img) {
  const Drill& d = r.drill;
  QString h;
  h += QStringLiteral("<h1>%1</h1>").arg(esc(d.title));
  h += QStringLiteral("<p class=\"meta\">drill <b>%1</b> · %2 · cluster %3 · %4 s</p>")
           .arg(esc(d.id), r.started.toString(Qt::ISODate), esc(r.cluster.isEmpty() ? QStringLiteral("?") : r.cluster))
           .arg(r.durationS, 0, 'f', 0);
  h += QStringLiteral("<p class=\"verdict\" style=\"color:%1\"><b>%2</b> · score %3/100</p><p>%4</p>")
           .arg(verdictColour(r.verdict), DrillResult::verdictText(r.verdict))
           .arg(r.score)
           .arg(esc(r.reason));
  if (!d.teaches.isEmpty()) h += QStringLiteral("<p><b>What it teaches.</b> %1</p>").arg(esc(d.teaches));
  if (!d.proves.isEmpty()) h += QStringLiteral("<p><b>What it proves.</b> %1</p>").arg(esc(d.proves));
  h += QStringLiteral("<p><b>Load.</b> %1%2 for %3 s against the gateway; warmup %4 s.</p>")
           .arg(esc(d.load.plan))
           .arg(d.load.rate ? QStringLiteral(", %1 req/s").arg(*d.load.rate) : d.load.vus ? QStringLiteral(", %1 VUs").arg(*d.load.vus) : QString())
           .arg(d.load.durationS)
           .arg(d.warmupS);

  h += QStringLiteral("<h2>Steady-state hypothesis</h2><table><tr><th>check</th><th colspan=2>before</th><th colspan=2>after</th></tr>");
  for (int i = 0; i < d.hypothesis.size(); ++i) {
    const CheckResult& b = r.hypothesisBefore.value(i);
    const CheckResult& a = r.hypothesisAfter.value(i);
    h += QStringLiteral("<tr><td><code>%1</code></td>%2<td>%3</td>%4<td>%5</td></tr>")
             .arg(esc(d.hypothesis[i].text), statusCell(b.status), esc(b.measured), statusCell(a.status), esc(a.measured + (a.why.isEmpty() ? QString() : QStringLiteral(" — ") + a.why)));
  }
  h += QStringLiteral("</table>");

  h += QStringLiteral("<h2>Steps</h2><table><tr><th>planned</th><th>ran</th><th>step</th><th>result</th></tr>");
  for (const StepRecord& s : r.steps) {
    h += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3%4</td><td class=\"%5\">%6</td></tr>")
             .arg(s.rollback ? QStringLiteral("rollback") : seconds(s.plannedS), seconds(s.startedS),
                  s.automatic ? QStringLiteral("<i>(automatic)</i> ") : QString(), esc(s.step.describe()),
                  !s.done ? QString() : s.ok ? QStringLiteral("pass") : QStringLiteral("fail"),
                  !s.done ? QStringLiteral("not run") : esc((s.ok ? QStringLiteral("ok ") : QStringLiteral("failed ")) + s.detail));
  }
  h += QStringLiteral("</table>");

  h += QStringLiteral("<h2>Expectations</h2><table><tr><th>expectation</th><th>check</th><th>when</th><th></th><th>measured</th><th>at</th></tr>");
  for (int i = 0; i < d.expectations.size(); ++i) {
    const Expectation& e = d.expectations[i];
    const CheckResult& c = r.expectations.value(i);
    const QString when = e.mode == Expectation::Mode::Eventually ? QStringLiteral("within %1 s of %2").arg(e.withinS).arg(e.after)
                         : e.mode == Expectation::Mode::Always  ? QStringLiteral("always, %1 → %2").arg(e.after, e.until)
                                                                : QStringLiteral("at the end");
    h += QStringLiteral("<tr><td>%1</td><td><code>%2</code></td><td>%3</td>%4<td>%5</td><td>%6</td></tr>")
             .arg(esc(e.name), esc(e.check.text), esc(when), statusCell(c.status),
                  esc(c.measured + (c.why.isEmpty() ? QString() : QStringLiteral(" — ") + c.why)), seconds(c.atS));
  }
  h += QStringLiteral("</table>");

  if (!r.predictions.isEmpty()) {
    h += QStringLiteral("<h2>Predictions</h2><p>Made before the run; prediction score <b>%1/100</b> "
                        "(within the tolerance: 100, falling to 0 at three times it).</p>"
                        "<table><tr><th>question</th><th>predicted</th><th>measured</th><th>tolerance</th><th>score</th></tr>")
             .arg(r.predictionScore);
    for (const PredictionResult& p : r.predictions) {
      const QString unit = p.prediction.unit.isEmpty() ? QString() : QStringLiteral(" ") + esc(p.prediction.unit);
      h += QStringLiteral("<tr><td>%1<br><span class=\"meta\">%2</span></td><td>%3%4</td><td>%5</td><td>± %6%4</td><td class=\"%7\">%8</td></tr>")
               .arg(esc(p.prediction.question), esc(p.prediction.expectation))
               .arg(p.predicted)
               .arg(unit)
               .arg(p.actual ? QString::number(*p.actual, 'g', 4) + unit : QStringLiteral("nothing measured"))
               .arg(p.prediction.tolerance)
               .arg(p.score >= 50 ? QStringLiteral("good") : QStringLiteral("poor"))
               .arg(p.score);
    }
    h += QStringLiteral("</table>");
  }

  h += QStringLiteral("<h2>Charts</h2><p class=\"meta\">Shaded: fault windows. Time in seconds since the load started.</p>");
  const auto charts = reportCharts(r);
  for (int i = 0; i < charts.size(); ++i) h += QStringLiteral("<p><img src=\"%1\" width=\"900\"></p>").arg(img(i));

  h += QStringLiteral("<h2>Load</h2><p>%1 requests, %2 failed, %3 dropped; p50 %4 ms, p95 %5 ms, p99 %6 ms (corrected for coordinated omission).</p>")
           .arg(r.load.requests)
           .arg(r.load.failed)
           .arg(r.load.dropped)
           .arg(r.load.p50Ms, 0, 'f', 1)
           .arg(r.load.p95Ms, 0, 'f', 1)
           .arg(r.load.p99Ms, 0, 'f', 1);
  return h;
}

const char* kStyle =
    "body{font-family:'DejaVu Sans',sans-serif;margin:24px;color:#222}h1{margin-bottom:0}"
    ".meta{color:#666;font-size:small}.verdict{font-size:x-large}table{border-collapse:collapse;margin:8px 0}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}"
    ".pass{color:#2ca02c;font-weight:bold}.fail{color:#d62728;font-weight:bold}.good{color:#2ca02c}.poor{color:#d62728}code{font-size:small}";

}  // namespace

QImage renderChart(const QString& title, const QString& unit, const QList<ChartLine>& lines, const QList<FaultWindow>& faults,
                   double durationS, QSize size) {
  QImage image(size, QImage::Format_RGB32);
  image.fill(Qt::white);
  QPainter p(&image);
  p.setRenderHint(QPainter::Antialiasing);
  QFont font(QStringLiteral("DejaVu Sans"));
  font.setPixelSize(12);
  p.setFont(font);
  const QRectF plot(70, 30, size.width() - 90, size.height() - 70);

  double maxY = 0;
  for (const ChartLine& l : lines)
    for (const QPointF& pt : l.points) maxY = std::max(maxY, pt.y());
  if (maxY <= 0) maxY = 1;
  const double yStep = niceStep(maxY, 4);
  maxY = std::ceil(maxY / yStep) * yStep;
  const double maxX = std::max(1.0, durationS);
  auto X = [&](double s) { return plot.left() + plot.width() * s / maxX; };
  auto Y = [&](double v) { return plot.bottom() - plot.height() * v / maxY; };

  for (const FaultWindow& w : faults) {
    const QRectF band(QPointF(X(w.fromS), plot.top()), QPointF(X(std::max(w.fromS, w.toS)), plot.bottom()));
    p.fillRect(band, QColor(214, 39, 40, 40));
  }
  p.setPen(QColor(0xdd, 0xdd, 0xdd));
  for (double y = 0; y <= maxY + 1e-9; y += yStep) p.drawLine(QPointF(plot.left(), Y(y)), QPointF(plot.right(), Y(y)));
  p.setPen(Qt::black);
  p.drawRect(plot);
  for (double y = 0; y <= maxY + 1e-9; y += yStep)
    p.drawText(QRectF(0, Y(y) - 8, plot.left() - 6, 16), Qt::AlignRight | Qt::AlignVCenter, QString::number(y, 'g', 4));
  const double xStep = niceStep(maxX, 8);
  for (double x = 0; x <= maxX + 1e-9; x += xStep) {
    p.drawLine(QPointF(X(x), plot.bottom()), QPointF(X(x), plot.bottom() + 4));
    p.drawText(QRectF(X(x) - 30, plot.bottom() + 5, 60, 16), Qt::AlignCenter, QString::number(x, 'g', 4));
  }
  QFont bold = font;
  bold.setBold(true);
  p.setFont(bold);
  p.drawText(QRectF(plot.left(), 4, plot.width(), 20), Qt::AlignLeft | Qt::AlignVCenter, title + (unit.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(unit)));
  p.setFont(font);
  double legendX = plot.right();
  const bool legend = !(lines.size() == 1 && lines.first().label == title);  // a one-line chart named after its line
  for (int i = legend ? int(lines.size()) - 1 : -1; i >= 0; --i) {
    const QColor colour = kPalette[i % kPalette.size()];
    const double w = p.fontMetrics().horizontalAdvance(lines[i].label) + 26;
    legendX -= w;
    p.fillRect(QRectF(legendX, 10, 14, 4), colour);
    p.setPen(Qt::black);
    p.drawText(QRectF(legendX + 18, 4, w, 16), Qt::AlignLeft | Qt::AlignVCenter, lines[i].label);
  }
  p.drawText(QRectF(plot.left(), plot.bottom() + 22, plot.width(), 16), Qt::AlignCenter, QStringLiteral("s"));
  p.setClipRect(plot.adjusted(-1, -1, 1, 1));
  for (int i = 0; i < lines.size(); ++i) {
    if (lines[i].points.isEmpty()) continue;
    QPainterPath path;
    path.moveTo(X(lines[i].points.first().x()), Y(lines[i].points.first().y()));
    for (const QPointF& pt : lines[i].points) path.lineTo(X(pt.x()), Y(pt.y()));
    p.setPen(QPen(kPalette[i % kPalette.size()], 2));
    p.drawPath(path);
  }
  return image;
}

QList<std::pair<QString, QImage>> reportCharts(const DrillResult& r) {
  QList<std::pair<QString, QImage>> out;
  auto series = [&r](const QString& name) { return r.series.value(name); };
  const double duration = std::max(r.durationS, r.drill.load.durationS);
  out.append({QStringLiteral("Latency"),
              renderChart(QStringLiteral("Latency at the client"), QStringLiteral("ms"),
                          {{QStringLiteral("p50"), series(QStringLiteral("load.p50"))},
                           {QStringLiteral("p95"), series(QStringLiteral("load.p95"))},
                           {QStringLiteral("p99"), series(QStringLiteral("load.p99"))}},
                          r.faults, duration)});
  out.append({QStringLiteral("Rate"), renderChart(QStringLiteral("Requests"), QStringLiteral("req/s"),
                                                  {{QStringLiteral("rate"), series(QStringLiteral("load.rps"))}}, r.faults, duration)});
  QVector<QPointF> errors = series(QStringLiteral("load.errorRate"));
  for (QPointF& pt : errors) pt.setY(pt.y() * 100);
  out.append({QStringLiteral("Errors"), renderChart(QStringLiteral("Errors"), QStringLiteral("%"), {{QStringLiteral("error rate"), errors}}, r.faults, duration)});
  QList<ChartLine> replicas;
  for (auto it = r.series.cbegin(); it != r.series.cend(); ++it) {
    if (it.key().startsWith(QLatin1String("replicas."))) replicas.append({it.key().mid(9) + QStringLiteral(" ready"), it.value()});
    if (it.key().startsWith(QLatin1String("desired."))) replicas.append({it.key().mid(8) + QStringLiteral(" desired (HPA)"), it.value()});
  }
  if (!replicas.isEmpty()) out.append({QStringLiteral("Replicas"), renderChart(QStringLiteral("Replicas"), {}, replicas, r.faults, duration)});
  QStringList probes;
  for (const Expectation& e : r.drill.expectations)
    if (!e.check.probe.startsWith(QLatin1String("load.")) && r.series.contains(e.check.probe) && !probes.contains(e.check.probe)) probes << e.check.probe;
  for (const QString& probe : probes)
    out.append({probe, renderChart(probe, {}, {{probe, series(probe)}}, r.faults, duration, {900, 200})});
  return out;
}

QString htmlReport(const DrillResult& r) {
  const auto charts = reportCharts(r);
  const QString body = document(r, [&charts](int i) {
    return QStringLiteral("data:image/png;base64,") + QString::fromLatin1(png(charts[i].second).toBase64());
  });
  return QStringLiteral("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%1 — Mambogo drill report</title><style>%2</style></head><body>%3</body></html>")
      .arg(esc(r.drill.title), QString::fromLatin1(kStyle), body);
}

bool writeHtml(const DrillResult& r, const QString& path, QString* error) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(htmlReport(r).toUtf8()) < 0) {
    *error = QStringLiteral("%1: %2").arg(path, f.errorString());
    return false;
  }
  return true;
}

bool writePdf(const DrillResult& r, const QString& path, QString* error) {
  const auto charts = reportCharts(r);
  QTextDocument doc;
  doc.setDefaultStyleSheet(QString::fromLatin1(kStyle));
  for (int i = 0; i < charts.size(); ++i)
    doc.addResource(QTextDocument::ImageResource, QUrl(QStringLiteral("chart%1.png").arg(i)), charts[i].second);
  doc.setHtml(document(r, [](int i) { return QStringLiteral("chart%1.png").arg(i); }));
  QFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
    *error = QStringLiteral("%1: %2").arg(path, file.errorString());
    return false;
  }
  QPdfWriter writer(&file);
  writer.setPageSize(QPageSize(QPageSize::A4));
  writer.setResolution(110);
  writer.setTitle(r.drill.title);
  writer.setCreator(QStringLiteral("Mambogo"));
  doc.setPageSize(QSizeF(writer.width(), writer.height()));
  doc.print(&writer);
  return true;
}

QString textSummary(const DrillResult& r) {
  QStringList out;
  out << QStringLiteral("%1 — %2 (score %3/100)").arg(r.drill.title, DrillResult::verdictText(r.verdict)).arg(r.score);
  out << QStringLiteral("  %1").arg(r.reason);
  for (int i = 0; i < r.drill.expectations.size(); ++i) {
    const CheckResult& c = r.expectations.value(i);
    out << QStringLiteral("  [%1] %2: %3%4")
               .arg(c.status == CheckResult::Status::Passed ? QStringLiteral("PASS") : QStringLiteral("FAIL"), r.drill.expectations[i].name, c.measured,
                    c.why.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(c.why));
  }
  int rollbacks = 0, rollbacksOk = 0;
  for (const StepRecord& s : r.steps)
    if (s.rollback) {
      ++rollbacks;
      rollbacksOk += s.ok;
    }
  out << QStringLiteral("  rollback: %1 of %2 steps ok").arg(rollbacksOk).arg(rollbacks);
  for (const PredictionResult& p : r.predictions)
    out << QStringLiteral("  prediction %1: predicted %2, measured %3 %4 (± %5): %6/100")
               .arg(p.prediction.id)
               .arg(p.predicted)
               .arg(p.actual ? QString::number(*p.actual, 'g', 4) : QStringLiteral("nothing"))
               .arg(p.prediction.unit)
               .arg(p.prediction.tolerance)
               .arg(p.score);
  if (r.predictionScore >= 0) out << QStringLiteral("  prediction score %1/100").arg(r.predictionScore);
  return out.join(QLatin1Char('\n'));
}

}  // namespace mambogo::drill
