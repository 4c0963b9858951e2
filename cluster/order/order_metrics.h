// order-service's own metrics, named as the seed's PerformanceMetricsCollector (Micrometer's
// orders.created -> orders_created_total in Prometheus):
//   orders_created_total                       orders accepted (201; not idempotent replays)
//   orders_processed_total                     orders CONFIRMED
//   orders_failed_total{reason}                orders FAILED or EXPIRED; reason is one of the
//                                              bounded set in order.h ("other" otherwise)
//   orders_processing_time_seconds             one processing pass (reserve and/or charge)
//   inventory_reservation_time_seconds         the reserve call, retries included (client side)
//   payment_processing_time_seconds            the charge call, retries included (client side)
//   order_batch_size                           rows per committed insert batch
//   orders_in_state{state}                     orders in each state: recounted from the
//                                              database periodically, moved by this process's
//                                              own transitions in between
//   orders_sweep_seconds                       one sweep's query for expired PENDING orders
//   orders_sweep_index_present                 1 while idx_orders_pending_expired exists (drill 3
//                                              drops it), recounted with the states
//   orders_sweep_index_scans                   PostgreSQL's count of planner uses of that index
//                                              (pg_stat_user_indexes.idx_scan; absent on SQLite)
//
// Thread-safety: every member may be called from any thread (prometheus-cpp metrics).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

#include "order/order.h"

namespace prometheus {
template <typename T>
class Family;
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace mambogo::order {

class OrderMetrics {
 public:
  explicit OrderMetrics(prometheus::Registry& registry);

  void created(std::size_t n = 1);
  // Counts a transition: the state gauges move, and a terminal state counts as processed
  // (CONFIRMED) or failed (FAILED/EXPIRED, with the order's reason).
  void moved(OrderStatus from, OrderStatus to, std::string_view failure_reason = {});
  void set_state_counts(const std::array<std::int64_t, kOrderStatusCount>& counts);

  void processing_time(double seconds);
  void inventory_time(double seconds);
  void payment_time(double seconds);
  void batch_committed(std::size_t rows);
  void sweep_time(double seconds);
  void sweep_index(bool present, std::optional<std::int64_t> scans);

 private:
  prometheus::Counter* created_ = nullptr;
  prometheus::Counter* processed_ = nullptr;
  prometheus::Counter* failed_other_ = nullptr;
  std::array<std::pair<std::string_view, prometheus::Counter*>, 6> failed_{};
  std::array<prometheus::Gauge*, kOrderStatusCount> in_state_{};
  prometheus::Histogram* processing_ = nullptr;
  prometheus::Histogram* inventory_ = nullptr;
  prometheus::Histogram* payment_ = nullptr;
  prometheus::Histogram* batch_ = nullptr;
  prometheus::Histogram* sweep_ = nullptr;
  prometheus::Gauge* index_present_ = nullptr;
  prometheus::Family<prometheus::Gauge>* index_scans_family_ = nullptr;
  prometheus::Gauge* index_scans_ = nullptr;  // added at the first reading (the sweep or the switch)
  std::once_flag index_scans_once_;
};

}  // namespace mambogo::order
