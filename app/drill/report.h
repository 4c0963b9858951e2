// Drill reports: what a drill run showed, for people who were not watching.
//
// Offers
//   - renderChart(): one chart as an image (QPainter): lines over drill time, the fault windows
//     shaded, axes with units; the report's charts are latency (p50/p95/p99), rate, error rate
//     and replicas (with the HPA's desired count), then one per numeric probe an expectation reads.
//   - htmlReport(): a self-contained HTML page (charts inline as PNG data) with the verdict and
//     score, the hypothesis before and after, each step with its planned and actual time, every
//     expectation with the measured value, and the rollbacks.
//   - writePdf(): the same document through QTextDocument + QPdfWriter (A4).
//   - textSummary(): the verdict and the expectations as plain lines, for the terminal.
//
// Thread-safety: needs a QGuiApplication (fonts); call from its thread.
#pragma once

#include <QImage>
#include <QList>
#include <QPointF>
#include <QString>
#include <QVector>

#include "drill/runner.h"

namespace mambogo::drill {

struct ChartLine {
  QString label;
  QVector<QPointF> points;  // (drill seconds, value)
};

QImage renderChart(const QString& title, const QString& unit, const QList<ChartLine>& lines, const QList<FaultWindow>& faults,
                   double durationS, QSize size = {900, 260});

// The charts of a result, in report order: (title, image).
QList<std::pair<QString, QImage>> reportCharts(const DrillResult& result);

QString htmlReport(const DrillResult& result);
bool writeHtml(const DrillResult& result, const QString& path, QString* error);
bool writePdf(const DrillResult& result, const QString& path, QString* error);
QString textSummary(const DrillResult& result);

}  // namespace mambogo::drill
