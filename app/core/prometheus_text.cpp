#include "core/prometheus_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_set>

namespace mambogo::core::prom {

std::optional<std::string_view> Sample::label(std::string_view key) const {
  for (const auto& [name, value] : labels)
    if (name == key) return std::string_view(value);
  return std::nullopt;
}

namespace {

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool isNameStart(char c, bool metric) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
}
bool isNameChar(char c, bool metric) { return isNameStart(c, metric) || (c >= '0' && c <= '9'); }

std::optional<MetricType> typeFromName(std::string_view t) {
  if (t == "counter") return MetricType::Counter;
  if (t == "gauge") return MetricType::Gauge;
  if (t == "histogram") return MetricType::Histogram;
  if (t == "summary") return MetricType::Summary;
  if (t == "untyped") return MetricType::Untyped;
  return std::nullopt;
}

struct LineError {
  std::string reason;
};

// A cursor over one line; every read either succeeds or throws LineError (caught per line).
class Cursor {
 public:
  explicit Cursor(std::string_view line) : m_s(line) {}

  bool atEnd() const { return m_i >= m_s.size(); }
  char peek() const { return atEnd() ? '\0' : m_s[m_i]; }
  void skipBlanks() {
    while (!atEnd() && (m_s[m_i] == ' ' || m_s[m_i] == '\t')) ++m_i;
  }
  bool consume(char c) {
    if (peek() != c || atEnd()) return false;
    ++m_i;
    return true;
  }
  void expect(char c, const char* where) {
    if (!consume(c)) fail(std::string("expected '") + c + "' " + where + found());
  }
  std::string_view name(bool metric, const char* what) {
    const std::size_t start = m_i;
    if (!isNameStart(peek(), metric) || atEnd()) fail(std::string("invalid ") + what + found());
    while (!atEnd() && isNameChar(m_s[m_i], metric)) ++m_i;
    return m_s.substr(start, m_i - start);
  }
  std::string_view token() {
    const std::size_t start = m_i;
    while (!atEnd() && m_s[m_i] != ' ' && m_s[m_i] != '\t') ++m_i;
    return m_s.substr(start, m_i - start);
  }
  std::string_view rest() {
    auto r = m_s.substr(std::min(m_i, m_s.size()));
    m_i = m_s.size();
    return r;
  }
  // Reads up to the closing quote, applying the escapes \\ \" and \n.
  std::string quoted() {
    std::string out;
    while (true) {
      if (atEnd()) fail("label value not terminated (missing '\"')");
      const char c = m_s[m_i++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (atEnd()) fail("label value not terminated (backslash at end of line)");
      const char e = m_s[m_i++];
      if (e == 'n') out += '\n';
      else if (e == '\\' || e == '"') out += e;
      else fail(std::string("invalid escape \\") + e + " in label value");
    }
  }
  [[noreturn]] static void fail(std::string reason) { throw LineError{std::move(reason)}; }

 private:
  std::string found() const {
    if (atEnd()) return ", found end of line";
    return std::string(", found '") + m_s[m_i] + "'";
  }
  std::string_view m_s;
  std::size_t m_i = 0;
};

std::string unescapeHelp(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (i + 1 >= text.size()) Cursor::fail("HELP text ends with a lone backslash");
    const char e = text[++i];
    if (e == 'n') out += '\n';
    else if (e == '\\') out += '\\';
    else Cursor::fail(std::string("invalid escape \\") + e + " in HELP text");
  }
  return out;
}

class Parser {
 public:
  Exposition run(std::string_view text) {
    int lineNo = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      pos = end + 1;
      ++lineNo;
      try {
        parseLine(line);
      } catch (const LineError& e) {
        m_out.errors.push_back({lineNo, e.reason});
      }
    }
    return std::move(m_out);
  }

 private:
  void parseLine(std::string_view line) {
    Cursor c(line);
    c.skipBlanks();
    if (c.atEnd()) return;
    if (c.consume('#')) return parseComment(c);
    parseSample(c);
  }

  void parseComment(Cursor& c) {
    c.skipBlanks();
    const std::string_view keyword = c.token();
    if (keyword != "HELP" && keyword != "TYPE") return;  // an ordinary comment
    c.skipBlanks();
    const std::string family(c.name(true, "metric name"));
    if (!c.atEnd() && c.peek() != ' ' && c.peek() != '\t') Cursor::fail("invalid character in metric name");
    c.skipBlanks();
    FamilyInfo& info = m_out.families[family];
    if (keyword == "HELP") {
      if (!m_helpSeen.insert(family).second) Cursor::fail("second HELP line for " + family);
      info.help = unescapeHelp(c.rest());
      return;
    }
    const std::string_view typeName = c.token();
    const auto type = typeFromName(typeName);
    if (!type) Cursor::fail("unknown metric type \"" + std::string(typeName) + "\" for " + family);
    c.skipBlanks();
    if (!c.atEnd()) Cursor::fail("text after the type in TYPE line for " + family);
    if (!m_typeSeen.insert(family).second) Cursor::fail("second TYPE line for " + family);
    if (m_sampled.count(family)) Cursor::fail("TYPE line for " + family + " after its samples");
    info.type = *type;
  }

  void parseSample(Cursor& c) {
    Sample s;
    s.name = std::string(c.name(true, "metric name"));
    if (!c.atEnd() && c.peek() != ' ' && c.peek() != '\t' && c.peek() != '{')
      Cursor::fail(std::string("invalid character '") + c.peek() + "' in metric name " + s.name);
    c.skipBlanks();
    if (c.consume('{')) {
      parseLabels(c, s);
      if (!c.atEnd() && c.peek() != ' ' && c.peek() != '\t')
        Cursor::fail(std::string("expected a blank before the value, found '") + c.peek() + "'");
    }
    c.skipBlanks();
    const std::string_view valueText = c.token();
    if (valueText.empty()) Cursor::fail("missing value for " + s.name);
    const auto value = parseFloat(valueText);
    if (!value) Cursor::fail("invalid value \"" + std::string(valueText) + "\" for " + s.name);
    s.value = *value;
    c.skipBlanks();
    if (!c.atEnd()) {
      const std::string_view ts = c.token();
      std::int64_t ms = 0;
      const auto [ptr, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), ms);
      if (ec != std::errc() || ptr != ts.data() + ts.size())
        Cursor::fail("invalid timestamp \"" + std::string(ts) + "\" for " + s.name);
      s.timestampMs = ms;
      c.skipBlanks();
      if (!c.atEnd()) Cursor::fail("unexpected text after the timestamp of " + s.name);
    }
    checkTypedLabels(s);
    m_sampled.insert(m_out.familyOf(s.name));
    m_out.samples.push_back(std::move(s));
  }

  void parseLabels(Cursor& c, Sample& s) {
    c.skipBlanks();
    while (!c.consume('}')) {
      std::string name(c.name(false, "label name"));
      c.skipBlanks();
      c.expect('=', ("after label name " + name).c_str());
      c.skipBlanks();
      c.expect('"', ("to open the value of label " + name).c_str());
      std::string value = c.quoted();
      for (const auto& l : s.labels)
        if (l.first == name) Cursor::fail("duplicate label " + name);
      s.labels.emplace_back(std::move(name), std::move(value));
      c.skipBlanks();
      if (c.consume(',')) {
        c.skipBlanks();
        continue;
      }
      c.skipBlanks();
      if (c.peek() != '}') Cursor::fail("expected ',' or '}' after a label" + std::string(c.atEnd() ? ", found end of line" : ""));
    }
  }

  void checkTypedLabels(const Sample& s) const {
    const MetricType type = m_out.typeOf(s.name);
    if (type == MetricType::Histogram && endsWith(s.name, "_bucket")) {
      const auto le = s.label("le");
      if (!le) Cursor::fail("histogram bucket " + s.name + " has no le label");
      if (!parseFloat(*le)) Cursor::fail("invalid le \"" + std::string(*le) + "\" on " + s.name);
    }
    if (type == MetricType::Summary && !endsWith(s.name, "_sum") && !endsWith(s.name, "_count")) {
      const auto q = s.label("quantile");
      if (!q) Cursor::fail("summary sample " + s.name + " has no quantile label");
      if (!parseFloat(*q)) Cursor::fail("invalid quantile \"" + std::string(*q) + "\" on " + s.name);
    }
  }

  Exposition m_out;
  std::unordered_set<std::string> m_helpSeen, m_typeSeen, m_sampled;
};

}  // namespace

std::optional<double> parseFloat(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.front() == '+' || text.front() == '-') return std::nullopt;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ptr != text.data() + text.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // Go's ParseFloat answers ±Inf or 0 on overflow/underflow; keep the sign and magnitude.
    value = std::abs(value) >= 1 ? std::numeric_limits<double>::infinity() : 0.0;
  } else if (ec != std::errc()) {
    return std::nullopt;
  }
  return negative ? -value : value;
}

std::string Exposition::familyOf(std::string_view sampleName) const {
  if (families.count(std::string(sampleName))) return std::string(sampleName);
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (!endsWith(sampleName, suffix)) continue;
    const std::string base(sampleName.substr(0, sampleName.size() - suffix.size()));
    const auto it = families.find(base);
    if (it == families.end()) continue;
    const MetricType t = it->second.type;
    if (t == MetricType::Histogram || (t == MetricType::Summary && suffix != "_bucket")) return base;
  }
  return std::string(sampleName);
}

MetricType Exposition::typeOf(std::string_view sampleName) const {
  const auto it = families.find(familyOf(sampleName));
  return it == families.end() ? MetricType::Untyped : it->second.type;
}

Exposition parsePrometheusText(std::string_view text) { return Parser().run(text); }

double histogramQuantile(double q, std::vector<Bucket> buckets) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  std::erase_if(buckets, [](const Bucket& b) { return std::isnan(b.upperBound); });
  if (buckets.empty()) return kNaN;
  std::sort(buckets.begin(), buckets.end(), [](const Bucket& a, const Bucket& b) { return a.upperBound < b.upperBound; });
  if (buckets.back().upperBound != kInf) return kNaN;
  // Merge equal bounds (series that differ only in labels dropped by an aggregation).
  std::vector<Bucket> merged;
  for (const Bucket& b : buckets) {
    if (!merged.empty() && merged.back().upperBound == b.upperBound) merged.back().count += b.count;
    else merged.push_back(b);
  }
  for (std::size_t i = 1; i < merged.size(); ++i) merged[i].count = std::max(merged[i].count, merged[i - 1].count);
  if (merged.size() < 2) return kNaN;
  const double observations = merged.back().count;
  if (!(observations > 0)) return kNaN;
  double rank = q * observations;
  std::size_t b = 0;
  while (b < merged.size() - 1 && merged[b].count < rank) ++b;
  if (b == merged.size() - 1) return merged[merged.size() - 2].upperBound;
  if (b == 0 && merged[0].upperBound <= 0) return merged[0].upperBound;
  double start = 0;
  double count = merged[b].count;
  if (b > 0) {
    start = merged[b - 1].upperBound;
    count -= merged[b - 1].count;
    rank -= merged[b - 1].count;
  }
  const double end = merged[b].upperBound;
  return start + (end - start) * (rank / count);
}

double counterIncrease(std::span<const CounterPoint> points) {
  double increase = 0;
  for (std::size_t i = 1; i < points.size(); ++i) {
    const double delta = points[i].value - points[i - 1].value;
    increase += delta >= 0 ? delta : points[i].value;  // a drop is a restart from zero
  }
  return increase;
}

double counterRate(std::span<const CounterPoint> points) {
  if (points.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  const double seconds = static_cast<double>(points.back().timestampMs - points.front().timestampMs) / 1000.0;
  if (!(seconds > 0)) return std::numeric_limits<double>::quiet_NaN();
  return counterIncrease(points) / seconds;
}

}  // namespace mambogo::core::prom
