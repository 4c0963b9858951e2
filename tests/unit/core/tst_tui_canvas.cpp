// The terminal UI's drawing primitives: sparkline heights and windows, text fitting, and a
// canvas that never writes outside itself.
#include <QtTest>
#include <cmath>
#include <limits>

#include "tui/canvas.h"

using mambogo::tui::Canvas;
using mambogo::tui::Style;

namespace {
constexpr double kGap = std::numeric_limits<double>::quiet_NaN();
}

class TestTuiCanvas : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void sparklineScalesFromZeroToTheLargestValue_data() {
    QTest::addColumn<std::vector<double>>("values");
    QTest::addColumn<int>("width");
    QTest::addColumn<double>("scaleMax");
    QTest::addColumn<QString>("expected");
    QTest::newRow("eighths") << std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8} << 9 << 0.0 << QStringLiteral("▁▁▂▃▄▅▆▇█");
    QTest::newRow("half is four eighths") << std::vector<double>{50, 100} << 2 << 0.0 << QStringLiteral("▄█");
    QTest::newRow("just above an eighth rounds up") << std::vector<double>{1.1, 8} << 2 << 0.0 << QStringLiteral("▂█");
    QTest::newRow("all zero is the floor") << std::vector<double>{0, 0, 0} << 3 << 0.0 << QStringLiteral("▁▁▁");
    QTest::newRow("gaps stay blank") << std::vector<double>{4, kGap, 8} << 3 << 0.0 << QStringLiteral("▄ █");
    QTest::newRow("short history is right-aligned") << std::vector<double>{2, 4} << 5 << 0.0 << QStringLiteral("   ▄█");
    QTest::newRow("long history keeps the newest") << std::vector<double>{100, 100, 1, 2} << 2 << 0.0 << QStringLiteral("▄█");
    QTest::newRow("a fixed scale caps the height") << std::vector<double>{2, 4} << 2 << 8.0 << QStringLiteral("▂▄");
    QTest::newRow("negative values sit on the floor") << std::vector<double>{-3, 8} << 2 << 0.0 << QStringLiteral("▁█");
    QTest::newRow("no width") << std::vector<double>{1, 2} << 0 << 0.0 << QString();
  }

  void sparklineScalesFromZeroToTheLargestValue() {
    QFETCH(std::vector<double>, values);
    QFETCH(int, width);
    QFETCH(double, scaleMax);
    QFETCH(QString, expected);
    const QString line = mambogo::tui::sparkline(values, width, scaleMax);
    QCOMPARE(line, expected);
    QCOMPARE(mambogo::tui::textWidth(line), std::max(width, 0));
  }

  void fittingCutsWithAnEllipsisAndPadsToTheWidth_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("width");
    QTest::addColumn<QString>("left");
    QTest::addColumn<QString>("right");
    QTest::newRow("fits") << "gateway" << 9 << "gateway  " << "  gateway";
    QTest::newRow("exact") << "gateway" << 7 << "gateway" << "gateway";
    QTest::newRow("cut") << "order-service-7d9f" << 8 << "order-s…" << "order-s…";
    QTest::newRow("one column") << "abc" << 1 << "…" << "…";
    QTest::newRow("nothing") << "abc" << 0 << "" << "";
  }

  void fittingCutsWithAnEllipsisAndPadsToTheWidth() {
    QFETCH(QString, text);
    QFETCH(int, width);
    QFETCH(QString, left);
    QFETCH(QString, right);
    QCOMPARE(mambogo::tui::fitLeft(text, width), left);
    QCOMPARE(mambogo::tui::fitRight(text, width), right);
  }

  void canvasClipsWritesAtEveryEdge() {
    Canvas canvas(5, 2);
    QCOMPARE(canvas.put(0, 3, QStringLiteral("abcd"), Style::Good), 7);
    canvas.put(1, -2, QStringLiteral("xyz"));
    canvas.put(2, 0, QStringLiteral("never"));
    canvas.put(-1, 0, QStringLiteral("never"));
    QCOMPARE(canvas.lines(), (QStringList{QStringLiteral("   ab"), QStringLiteral("z")}));
    QCOMPARE(canvas.styleAt(0, 4), Style::Good);
    QCOMPARE(canvas.styleAt(0, 2), Style::Normal);
  }

  void canvasRunsSplitWhereTheStyleChanges() {
    Canvas canvas(6, 1);
    canvas.put(0, 0, QStringLiteral("ok"), Style::Good);
    canvas.put(0, 3, QStringLiteral("▁█"), Style::Accent);
    const auto runs = canvas.runs(0);
    QCOMPARE(runs.size(), std::size_t(4));
    QCOMPARE(runs[0].text, std::u32string(U"ok"));
    QCOMPARE(runs[1].text, std::u32string(U" "));
    QCOMPARE(runs[2].text, std::u32string(U"▁█"));
    QCOMPARE(runs[2].style, Style::Accent);
    QCOMPARE(runs[3].col, 5);
  }

  void controlCharactersNeverReachTheTerminal() {
    Canvas canvas(8, 1);
    canvas.put(0, 0, QStringLiteral("a\x1b[2Jb\n"));
    QCOMPARE(canvas.lineText(0), QStringLiteral("a?[2Jb?"));
  }
};

QTEST_GUILESS_MAIN(TestTuiCanvas)
#include "tst_tui_canvas.moc"
