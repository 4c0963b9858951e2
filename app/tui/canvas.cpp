#include "tui/canvas.h"

#include <algorithm>
#include <cmath>

namespace mambogo::tui {

namespace {

std::u32string toCodePoints(const QString& text) {
  std::u32string out;
  out.reserve(static_cast<std::size_t>(text.size()));
  for (char32_t c : text.toUcs4()) out.push_back(c < 0x20 || c == 0x7f ? U'?' : c);
  return out;
}

}  // namespace

const char32_t kSparkBlocks[8] = {U'▁', U'▂', U'▃', U'▄', U'▅', U'▆', U'▇', U'█'};

Canvas::Canvas(int width, int height)
    : m_width(std::max(width, 0)),
      m_height(std::max(height, 0)),
      m_chars(static_cast<std::size_t>(m_width) * m_height, U' '),
      m_styles(static_cast<std::size_t>(m_width) * m_height, Style::Normal) {}

int Canvas::put(int row, int col, const QString& text, Style style) {
  const std::u32string chars = toCodePoints(text);
  for (std::size_t i = 0; i < chars.size(); ++i) {
    const int c = col + static_cast<int>(i);
    if (!inside(row, c)) continue;
    const std::size_t at = static_cast<std::size_t>(row) * m_width + c;
    m_chars[at] = chars[i];
    m_styles[at] = style;
  }
  return col + static_cast<int>(chars.size());
}

void Canvas::paint(int row, int col, int count, Style style) {
  for (int c = col; c < col + count; ++c)
    if (inside(row, c)) m_styles[static_cast<std::size_t>(row) * m_width + c] = style;
}

void Canvas::fill(int row, Style style) {
  if (row < 0 || row >= m_height) return;
  const auto begin = static_cast<std::ptrdiff_t>(row) * m_width;
  std::fill(m_chars.begin() + begin, m_chars.begin() + begin + m_width, U' ');
  std::fill(m_styles.begin() + begin, m_styles.begin() + begin + m_width, style);
}

char32_t Canvas::charAt(int row, int col) const {
  return inside(row, col) ? m_chars[static_cast<std::size_t>(row) * m_width + col] : U' ';
}

Style Canvas::styleAt(int row, int col) const {
  return inside(row, col) ? m_styles[static_cast<std::size_t>(row) * m_width + col] : Style::Normal;
}

QString Canvas::lineText(int row) const {
  if (row < 0 || row >= m_height) return {};
  const char32_t* begin = m_chars.data() + static_cast<std::size_t>(row) * m_width;
  int length = m_width;
  while (length > 0 && begin[length - 1] == U' ') --length;
  return QString::fromUcs4(begin, length);
}

QStringList Canvas::lines() const {
  QStringList out;
  for (int row = 0; row < m_height; ++row) out << lineText(row);
  return out;
}

std::vector<Canvas::Run> Canvas::runs(int row) const {
  std::vector<Run> out;
  for (int col = 0; col < m_width && row >= 0 && row < m_height; ++col) {
    const std::size_t at = static_cast<std::size_t>(row) * m_width + col;
    if (out.empty() || out.back().style != m_styles[at]) out.push_back(Run{col, {}, m_styles[at]});
    out.back().text.push_back(m_chars[at]);
  }
  return out;
}

int textWidth(const QString& text) { return static_cast<int>(text.toUcs4().size()); }

QString elide(const QString& text, int width) {
  if (width <= 0) return {};
  const QList<uint> chars = text.toUcs4();
  if (chars.size() <= width) return text;
  return QString::fromUcs4(reinterpret_cast<const char32_t*>(chars.constData()), width - 1) + QChar(0x2026);
}

QString fitLeft(const QString& text, int width) {
  const QString cut = elide(text, width);
  return cut + QString(std::max(0, width - textWidth(cut)), QLatin1Char(' '));
}

QString fitRight(const QString& text, int width) {
  const QString cut = elide(text, width);
  return QString(std::max(0, width - textWidth(cut)), QLatin1Char(' ')) + cut;
}

QString sparkline(const std::vector<double>& values, int width, double scaleMax) {
  if (width <= 0) return {};
  const std::size_t shown = std::min(values.size(), static_cast<std::size_t>(width));
  const auto first = values.end() - static_cast<std::ptrdiff_t>(shown);
  double max = scaleMax;
  for (auto it = first; it != values.end(); ++it)
    if (std::isfinite(*it)) max = std::max(max, *it);
  std::u32string out(static_cast<std::size_t>(width) - shown, U' ');
  for (auto it = first; it != values.end(); ++it) {
    if (!std::isfinite(*it)) {
      out.push_back(U' ');
      continue;
    }
    const int eighths = max > 0 ? static_cast<int>(std::ceil(8.0 * std::max(*it, 0.0) / max)) : 1;
    out.push_back(kSparkBlocks[std::clamp(eighths, 1, 8) - 1]);
  }
  return QString::fromUcs4(out.data(), static_cast<qsizetype>(out.size()));
}

}  // namespace mambogo::tui
