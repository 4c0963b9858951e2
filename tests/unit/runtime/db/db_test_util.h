// Helpers shared by the mambogo::db unit tests.
#pragma once

#include <QTemporaryDir>

#include <string>

#include <prometheus/registry.h>

namespace dbtest {

// The value of a metric with the given labels (first match); -1 when absent. For histograms,
// the sample count.
inline double metric(prometheus::Registry& r, const std::string& name, const prometheus::Labels& labels = {}) {
  for (const auto& f : r.Collect()) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      bool match = true;
      for (const auto& [k, v] : labels) {
        bool found = false;
        for (const auto& l : m.label) found = found || (l.name == k && l.value == v);
        match = match && found;
      }
      if (!match) continue;
      switch (f.type) {
        case prometheus::MetricType::Counter: return m.counter.value;
        case prometheus::MetricType::Gauge: return m.gauge.value;
        case prometheus::MetricType::Histogram: return static_cast<double>(m.histogram.sample_count);
        default: return -1;
      }
    }
  }
  return -1;
}

}  // namespace dbtest
