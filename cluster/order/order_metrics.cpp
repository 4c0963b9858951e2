#include "order/order_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace mambogo::order {
namespace {

const prometheus::Histogram::BucketBoundaries kSeconds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                          1,     2.5,  5,     10,   30,  60};

prometheus::Histogram* histogram(prometheus::Registry& r, const char* name, const char* help,
                                 const prometheus::Histogram::BucketBoundaries& buckets = kSeconds) {
  return &prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({}, buckets);
}

}  // namespace

OrderMetrics::OrderMetrics(prometheus::Registry& r) {
  created_ = &prometheus::BuildCounter().Name("orders_created_total").Help("Number of orders created").Register(r).Add({});
  processed_ = &prometheus::BuildCounter()
                    .Name("orders_processed_total")
                    .Help("Number of orders successfully processed (CONFIRMED)")
                    .Register(r)
                    .Add({});
  auto& failed = prometheus::BuildCounter()
                     .Name("orders_failed_total")
                     .Help("Number of orders that failed processing (FAILED or EXPIRED), by reason")
                     .Register(r);
  const std::array<std::string_view, 6> reasons = {reason::kInsufficientStock, reason::kUnknownProduct,
                                                   reason::kInventoryRejected, reason::kPaymentDeclined,
                                                   reason::kPaymentRejected,   reason::kExpired};
  for (std::size_t i = 0; i < reasons.size(); ++i)
    failed_[i] = {reasons[i], &failed.Add({{"reason", std::string(reasons[i])}})};
  failed_other_ = &failed.Add({{"reason", "other"}});
  auto& in_state = prometheus::BuildGauge().Name("orders_in_state").Help("Orders in each state").Register(r);
  for (int s = 0; s < kOrderStatusCount; ++s)
    in_state_[s] = &in_state.Add({{"state", std::string(to_string(static_cast<OrderStatus>(s)))}});
  processing_ = histogram(r, "orders_processing_time_seconds", "Time taken to process orders (one processing pass)");
  inventory_ = histogram(r, "inventory_reservation_time_seconds", "Time taken to reserve inventory (client side)");
  payment_ = histogram(r, "payment_processing_time_seconds", "Time taken to process payments (client side)");
  batch_ = histogram(r, "order_batch_size", "Orders per committed insert batch",
                     {1, 2, 5, 10, 20, 30, 40, 50, 100, 200, 500});
  sweep_ = histogram(r, "orders_sweep_seconds", "Time taken by one sweep's query for expired PENDING orders");
  index_present_ = &prometheus::BuildGauge()
                        .Name("orders_sweep_index_present")
                        .Help("1 while the sweep's partial index idx_orders_pending_expired exists")
                        .Register(r)
                        .Add({});
  index_present_->Set(1);
  index_scans_family_ = &prometheus::BuildGauge()
                             .Name("orders_sweep_index_scans")
                             .Help("Planner uses of idx_orders_pending_expired (PostgreSQL pg_stat_user_indexes.idx_scan)")
                             .Register(r);
}

void OrderMetrics::created(std::size_t n) {
  created_->Increment(static_cast<double>(n));
  in_state_[static_cast<std::size_t>(OrderStatus::pending)]->Increment(static_cast<double>(n));
}

void OrderMetrics::moved(OrderStatus from, OrderStatus to, std::string_view failure_reason) {
  if (from == to) return;
  in_state_[static_cast<std::size_t>(from)]->Decrement();
  in_state_[static_cast<std::size_t>(to)]->Increment();
  if (to == OrderStatus::confirmed) processed_->Increment();
  if (to != OrderStatus::failed && to != OrderStatus::expired) return;
  for (const auto& [name, counter] : failed_)
    if (name == failure_reason) return counter->Increment();
  failed_other_->Increment();
}

void OrderMetrics::set_state_counts(const std::array<std::int64_t, kOrderStatusCount>& counts) {
  for (int s = 0; s < kOrderStatusCount; ++s) in_state_[s]->Set(static_cast<double>(counts[s]));
}

void OrderMetrics::processing_time(double s) { processing_->Observe(s); }
void OrderMetrics::inventory_time(double s) { inventory_->Observe(s); }
void OrderMetrics::payment_time(double s) { payment_->Observe(s); }
void OrderMetrics::batch_committed(std::size_t rows) { batch_->Observe(static_cast<double>(rows)); }
void OrderMetrics::sweep_time(double s) { sweep_->Observe(s); }

void OrderMetrics::sweep_index(bool present, std::optional<std::int64_t> scans) {
  index_present_->Set(present ? 1 : 0);
  if (!scans) return;
  std::call_once(index_scans_once_, [this] { index_scans_ = &index_scans_family_->Add({}); });  // none on SQLite
  index_scans_->Set(static_cast<double>(*scans));
}

}  // namespace mambogo::order
