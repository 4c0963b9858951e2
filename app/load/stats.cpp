#include "load/stats.h"

namespace mambogo::load {

void StatusClasses::add(int status) {
  switch (status / 100) {
    case 1:
      ++c1xx;
      break;
    case 2:
      ++c2xx;
      break;
    case 3:
      ++c3xx;
      break;
    case 4:
      ++c4xx;
      break;
    case 5:
      ++c5xx;
      break;
    default:
      ++transport;
      break;
  }
}

void StatusClasses::merge(const StatusClasses& o) {
  c1xx += o.c1xx;
  c2xx += o.c2xx;
  c3xx += o.c3xx;
  c4xx += o.c4xx;
  c5xx += o.c5xx;
  transport += o.transport;
}

void RequestStats::merge(const RequestStats& o) {
  count += o.count;
  failed += o.failed;
  bytes_sent += o.bytes_sent;
  bytes_received += o.bytes_received;
  classes.merge(o.classes);
  for (const auto& [k, v] : o.errors) errors[k] += v;
  corrected.merge(o.corrected);
  service.merge(o.service);
}

Percentiles Percentiles::of(const Histogram& h) {
  auto ms = [&](double p) { return static_cast<double>(h.value_at_percentile(p)) / 1000.0; };
  return {ms(50), ms(90), ms(95), ms(99), ms(99.9), static_cast<double>(h.max()) / 1000.0};
}

}  // namespace mambogo::load
