// Helpers shared by the mambogo::db unit tests.
#pragma once

#include "metric_value.h"
#include <QTemporaryDir>

#include <string>

#include <prometheus/registry.h>

namespace dbtest {

// The value of a metric with the given labels (first match); -1 when absent. For histograms,
// the sample count.
inline double metric(prometheus::Registry& r, const std::string& name, const prometheus::Labels& labels = {}) {
  return mambogo::test::metric_value(r, name, labels);
}

}  // namespace dbtest
