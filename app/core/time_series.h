// TimeSeriesStore: bounded in-memory time series for the console's charts.
//
// Offers
//   - append(series, tMs, value): one sample per second per series (a later sample in the same
//     second replaces the earlier one; samples older than the series' newest second are
//     refused). Series are created on first append with the aggregation given then (Average
//     for rates and ratios, Max for latency quantiles).
//   - query(series, fromMs, toMs): the points in [fromMs, toMs], oldest first. The last hour
//     comes at 1 s resolution; older data (up to 24 h) as one point per 10 s, the average or
//     the maximum of the seconds it covers, stamped with the start of its 10 s. Seconds without
//     a sample give no point (gaps stay gaps).
//
// Memory: every series preallocates its two rings when created and never grows:
//   fine   3600 slots x 16 bytes  =  57,600 bytes  (1 h at 1 s)
//   coarse 8640 slots x 16 bytes  = 138,240 bytes  (24 h at 10 s)
//   about 196 KB per series; at most maxSeries series (constructor, default 256, ~50 MB).
//   An append that would create a series beyond maxSeries is refused (returns false).
//   memoryBytes() reports the current total.
//
// Thread-safety: none; one owner thread (the collector's). Lifetime: plain value owner.
#pragma once

#include <QString>
#include <QStringList>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace mambogo::core {

struct TimePoint {
  std::int64_t tMs = 0;
  double value = 0;
  bool operator==(const TimePoint&) const = default;
};

class TimeSeriesStore {
 public:
  enum class Aggregation { Average, Max };

  static constexpr int kFineSeconds = 3600;
  static constexpr int kCoarseStepSeconds = 10;
  static constexpr int kCoarseSlots = 24 * 3600 / kCoarseStepSeconds;
  static constexpr std::size_t kBytesPerSeries = (kFineSeconds + kCoarseSlots) * 16;

  explicit TimeSeriesStore(int maxSeries = 256);
  ~TimeSeriesStore();
  TimeSeriesStore(const TimeSeriesStore&) = delete;
  TimeSeriesStore& operator=(const TimeSeriesStore&) = delete;

  bool append(const QString& series, std::int64_t tMs, double value, Aggregation aggregation = Aggregation::Average);
  std::vector<TimePoint> query(const QString& series, std::int64_t fromMs, std::int64_t toMs) const;
  std::optional<TimePoint> latest(const QString& series) const;

  QStringList seriesNames() const;
  int maxSeries() const { return m_maxSeries; }
  std::size_t memoryBytes() const { return static_cast<std::size_t>(m_series.size()) * kBytesPerSeries; }

 private:
  class Series;
  const int m_maxSeries;
  std::unordered_map<QString, std::unique_ptr<Series>> m_series;
};

}  // namespace mambogo::core
