// Reading one sample out of a prometheus-cpp Registry in a test: the first series of `family`
// whose labels include every pair in `labels` (other labels are ignored). Counters and gauges
// give their value, histograms their sample count. `absent` when no such series exists.
#pragma once

#include <string>

#include <prometheus/registry.h>

namespace mambogo::test {

inline double metric_value(prometheus::Registry& registry, const std::string& family,
                           const prometheus::Labels& labels = {}, double absent = -1) {
  for (const auto& f : registry.Collect()) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      bool match = true;
      for (const auto& [key, value] : labels) {
        bool found = false;
        for (const auto& l : m.label) found = found || (l.name == key && l.value == value);
        match = match && found;
      }
      if (!match) continue;
      switch (f.type) {
        case prometheus::MetricType::Counter: return m.counter.value;
        case prometheus::MetricType::Gauge: return m.gauge.value;
        case prometheus::MetricType::Histogram: return static_cast<double>(m.histogram.sample_count);
        default: return absent;
      }
    }
  }
  return absent;
}

}  // namespace mambogo::test
