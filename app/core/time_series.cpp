#include "core/time_series.h"

#include <algorithm>
#include <limits>

namespace mambogo::core {

namespace {
constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();

std::int64_t floorDiv(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

struct Slot {
  std::int64_t key = kNone;  // the second (fine) or the 10 s step (coarse) it holds
  double value = 0;
};
static_assert(sizeof(Slot) == 16);
}  // namespace

// A fine ring indexed by second and a coarse ring indexed by 10 s step. A second is folded into
// its step's accumulator when a later second arrives (so an overwritten second counts once),
// and the step goes into the coarse ring when a second of a later step arrives.
class TimeSeriesStore::Series {
 public:
  explicit Series(Aggregation aggregation)
      : m_aggregation(aggregation), m_fine(kFineSeconds), m_coarse(kCoarseSlots) {}

  bool append(std::int64_t second, double value) {
    if (m_last != kNone && second < m_last) return false;
    if (m_last != kNone && second > m_last) {
      fold(m_last, fineAt(m_last)->value);
      // Seconds only move forward: a step is complete as soon as a later one begins.
      if (floorDiv(second, kCoarseStepSeconds) != m_step) closeStep();
    }
    Slot& slot = m_fine[static_cast<std::size_t>(floorMod(second, kFineSeconds))];
    slot = {second, value};
    m_last = second;
    return true;
  }

  void query(std::int64_t fromSec, std::int64_t toSec, std::vector<TimePoint>& out) const {
    if (m_last == kNone) return;
    // The hour in the fine ring begins at fineStart; the coarse step holding fineStart is closed
    // (m_last is an hour later) and answers for it, so the fine points begin at the next step.
    const std::int64_t fineStart = m_last - kFineSeconds + 1;
    const std::int64_t boundary = floorDiv(fineStart + kCoarseStepSeconds - 1, kCoarseStepSeconds) * kCoarseStepSeconds;
    if (m_lastStepClosed != kNone) queryCoarse(fromSec, std::min(toSec, boundary - 1), out);
    for (std::int64_t sec = std::max(fromSec, boundary); sec <= std::min(toSec, m_last); ++sec) {
      if (const Slot* s = fineAt(sec)) out.push_back({sec * 1000, s->value});
    }
  }

  std::optional<TimePoint> latest() const {
    if (m_last == kNone) return std::nullopt;
    return TimePoint{m_last * 1000, fineAt(m_last)->value};
  }

 private:
  static std::int64_t floorMod(std::int64_t a, std::int64_t b) { return a - floorDiv(a, b) * b; }

  // Steps that lie wholly in [fromSec, toSec].
  void queryCoarse(std::int64_t fromSec, std::int64_t toSec, std::vector<TimePoint>& out) const {
    const std::int64_t firstStep = std::max(floorDiv(fromSec + kCoarseStepSeconds - 1, kCoarseStepSeconds),
                                            m_lastStepClosed - kCoarseSlots + 1);
    const std::int64_t lastStep = std::min(floorDiv(toSec + 1, kCoarseStepSeconds) - 1, m_lastStepClosed);
    for (std::int64_t step = firstStep; step <= lastStep; ++step) {
      const Slot& s = m_coarse[static_cast<std::size_t>(floorMod(step, kCoarseSlots))];
      if (s.key == step) out.push_back({step * kCoarseStepSeconds * 1000, s.value});
    }
  }

  const Slot* fineAt(std::int64_t second) const {
    const Slot& s = m_fine[static_cast<std::size_t>(floorMod(second, kFineSeconds))];
    return s.key == second ? &s : nullptr;
  }

  void fold(std::int64_t second, double value) {
    if (m_step == kNone) {
      m_step = floorDiv(second, kCoarseStepSeconds);
      m_sum = 0;
      m_max = -std::numeric_limits<double>::infinity();
      m_count = 0;
    }
    m_sum += value;
    m_max = std::max(m_max, value);
    ++m_count;
  }

  void closeStep() {
    if (m_step == kNone) return;
    const double v = m_aggregation == Aggregation::Max ? m_max : m_sum / m_count;
    m_coarse[static_cast<std::size_t>(floorMod(m_step, kCoarseSlots))] = {m_step, v};
    m_lastStepClosed = m_step;
    m_step = kNone;
  }

  const Aggregation m_aggregation;
  std::vector<Slot> m_fine;    // sized once
  std::vector<Slot> m_coarse;  // sized once
  std::int64_t m_last = kNone;            // newest second
  std::int64_t m_step = kNone;            // step being accumulated
  std::int64_t m_lastStepClosed = kNone;  // newest step in m_coarse
  double m_sum = 0, m_max = 0;
  int m_count = 0;
};

TimeSeriesStore::TimeSeriesStore(int maxSeries) : m_maxSeries(maxSeries) {}
TimeSeriesStore::~TimeSeriesStore() = default;

bool TimeSeriesStore::append(const QString& series, std::int64_t tMs, double value, Aggregation aggregation) {
  auto it = m_series.find(series);
  if (it == m_series.end()) {
    if (m_series.size() >= static_cast<std::size_t>(m_maxSeries)) return false;
    it = m_series.emplace(series, std::make_unique<Series>(aggregation)).first;
  }
  return it->second->append(floorDiv(tMs, 1000), value);
}

std::vector<TimePoint> TimeSeriesStore::query(const QString& series, std::int64_t fromMs, std::int64_t toMs) const {
  std::vector<TimePoint> out;
  const auto it = m_series.find(series);
  if (it == m_series.end() || fromMs > toMs) return out;
  // A point stamped t covers [t, t + resolution); ask for the seconds whose stamp is in range.
  const std::int64_t fromSec = floorDiv(fromMs + 999, 1000);
  it->second->query(fromSec, floorDiv(toMs, 1000), out);
  return out;
}

std::optional<TimePoint> TimeSeriesStore::latest(const QString& series) const {
  const auto it = m_series.find(series);
  return it == m_series.end() ? std::nullopt : it->second->latest();
}

QStringList TimeSeriesStore::seriesNames() const {
  QStringList names;
  for (const auto& entry : m_series) names.append(entry.first);
  names.sort();
  return names;
}

}  // namespace mambogo::core
