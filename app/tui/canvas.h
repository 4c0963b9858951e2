// Canvas: the terminal UI's frame as plain data — a grid of cells, each a Unicode code point
// and a Style — plus the text helpers the screen is drawn with (fitting to a width, sparklines).
// The ncurses layer only copies a Canvas to the terminal; everything that decides what the
// screen shows is a pure function producing a Canvas, so tests read it as lines of text.
//
// Width: one code point is one terminal column. The console draws only ASCII, box-drawing and
// block characters (all one column wide); other text (object names, event messages) comes
// from Kubernetes and is ASCII in practice. Control characters are replaced by '?'.
//
// Thread-safety: plain values and pure functions, any thread.
#pragma once

#include <QString>
#include <QStringList>
#include <string>
#include <vector>

namespace mambogo::tui {

// What a cell means; the ncurses layer maps it to colours and attributes (or to attributes
// only when the terminal has no colours).
enum class Style {
  Normal,
  Dim,       // secondary text: units, hints, empty values
  Title,     // section titles
  Header,    // the top bar and table column headers
  Selected,  // the row under the cursor
  Good,      // Running, Available, closed breakers, connected
  Warn,      // Pending, Progressing, half-open breakers, scaling
  Bad,       // CrashLoopBackOff, errors, open breakers
  Accent,    // sparklines, key names in hints
  Overlay,   // dialog boxes
  OverlayHighlight,  // the chosen item in a dialog
};

class Canvas {
 public:
  Canvas(int width, int height);

  int width() const { return m_width; }
  int height() const { return m_height; }

  // Writes `text` at (row, col), clipped to the canvas (also on the left for negative col).
  // Returns the column after the text (unclipped), so calls can be chained.
  int put(int row, int col, const QString& text, Style style = Style::Normal);
  // Sets the style of `count` cells from (row, col) without changing their text.
  void paint(int row, int col, int count, Style style);
  void fill(int row, Style style);  // the whole row: spaces in `style`

  char32_t charAt(int row, int col) const;
  Style styleAt(int row, int col) const;
  // A row as text, trailing spaces removed.
  QString lineText(int row) const;
  QStringList lines() const;  // every row, as lineText
  // The row's runs of equal style, for the terminal layer.
  struct Run {
    int col = 0;
    std::u32string text;
    Style style = Style::Normal;
  };
  std::vector<Run> runs(int row) const;

 private:
  bool inside(int row, int col) const { return row >= 0 && row < m_height && col >= 0 && col < m_width; }
  int m_width, m_height;
  std::vector<char32_t> m_chars;
  std::vector<Style> m_styles;
};

// Number of columns `text` takes (code points).
int textWidth(const QString& text);
// `text` cut to `width` columns, ending in "…" when cut; "" for width <= 0.
QString elide(const QString& text, int width);
// `text` elided and padded with spaces to exactly `width` columns, left or right aligned.
QString fitLeft(const QString& text, int width);
QString fitRight(const QString& text, int width);

// The eight block heights a sparkline is drawn with, lowest first: ▁▂▃▄▅▆▇█.
extern const char32_t kSparkBlocks[8];

// A sparkline of exactly `width` columns over `values` (oldest first; NaN is a gap, drawn as a
// space). The newest value is the rightmost column; with fewer values than columns the line is
// right-aligned (blank on the left); with more, only the newest `width` are shown. Heights are
// scaled from 0 to the largest finite value shown (or to `scaleMax` when that is larger), a
// value v taking ceil(8 v / max) eighths with a minimum of one (▁): 0 → ▁, max → █.
QString sparkline(const std::vector<double>& values, int width, double scaleMax = 0);

}  // namespace mambogo::tui
