#include "order/order_processor.h"

#include <random>

#include "runtime/db/db_error.h"
#include "runtime/logging.h"
#include "runtime/resilience/interval_function.h"

namespace mambogo::order {
namespace {

// Orders held in memory at most; beyond, new ones wait in the database for the sweeper.
constexpr std::size_t kMaxScheduled = 10'000;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A 4xx that will never turn into a success (the release has nothing to do).
bool final_client_error(const UpstreamAnswer& a) {
  return a.status && *a.status >= 400 && *a.status < 500 && *a.status != 401 && *a.status != 403 &&
         *a.status != 408 && *a.status != 429;
}

}  // namespace

std::int64_t system_wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

OrderProcessor::OrderProcessor(OrderRepository& repository, ResilientClient& inventory, ResilientClient& payment,
                               ServiceTokens& tokens, OrderMetrics& metrics, runtime::Logger& logger,
                               prometheus::Registry* registry, ProcessorSettings settings, WallClock now)
    : repository_(repository),
      inventory_(inventory),
      payment_(payment),
      tokens_(tokens),
      metrics_(metrics),
      logger_(logger),
      settings_(std::move(settings)),
      now_(std::move(now)),
      executor_(std::make_unique<runtime::BoundedExecutor>(settings_.executor, registry)),
      enabled_(settings_.enabled) {}

OrderProcessor::~OrderProcessor() { stop(); }

void OrderProcessor::start() {
  try {
    const auto counts = repository_.count_by_status();
    metrics_.set_state_counts(counts);
    std::int64_t open = 0;
    for (int s = 0; s < kOrderStatusCount; ++s)
      if (!is_terminal(static_cast<OrderStatus>(s))) open += counts[s];
    logger_.info("resuming orders", {{"non_terminal", open}, {"processing_enabled", enabled()}});
  } catch (const db::DbError& e) {
    logger_.warn("cannot count orders at start", {{"error", e.what()}});
  }
  dispatcher_ = std::thread([this] { dispatch_loop(); });
  sweeper_ = std::thread([this] { sweep_loop(); });
}

void OrderProcessor::stop() {
  {
    std::lock_guard lock(mutex_);  // no waiter may miss the flag between its check and its wait
    if (stopping_.exchange(true)) return;
  }
  work_.notify_all();
  sweep_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
  if (dispatcher_.joinable()) dispatcher_.join();
  executor_->shutdown();
}

void OrderProcessor::schedule(const std::vector<Order>& created) {
  if (!enabled()) return;
  for (const auto& o : created) schedule_id(o.id);
}

void OrderProcessor::set_enabled(bool enabled) {
  enabled_ = enabled;
  if (!enabled) return;
  std::lock_guard lock(mutex_);
  sweep_requested_ = true;
  sweep_.notify_all();
}

std::size_t OrderProcessor::scheduled() const {
  std::lock_guard lock(mutex_);
  return scheduled_.size();
}

void OrderProcessor::schedule_id(const std::string& id) {
  std::lock_guard lock(mutex_);
  if (scheduled_.size() >= kMaxScheduled || !scheduled_.insert(id).second) return;
  queue_.push_back(id);
  work_.notify_one();
}

void OrderProcessor::dispatch_loop() {
  while (true) {
    std::string id;
    {
      std::unique_lock lock(mutex_);
      work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;  // what is queued stays due in the database
      id = std::move(queue_.front());
      queue_.pop_front();
    }
    // Caller-runs: with pool and queue full the pass runs here, which holds back the
    // dispatch of more work: backpressure instead of an unbounded queue.
    const auto submitted = executor_->submit([this, id] {
      try {
        run_pass(id);
      } catch (const std::exception& e) {
        logger_.warn("order pass failed; the order stays due", {{"orderId", id}, {"error", e.what()}});
      }
      std::lock_guard lock(mutex_);
      scheduled_.erase(id);
    });
    if (submitted == runtime::BoundedExecutor::Submitted::rejected) {
      std::lock_guard lock(mutex_);
      scheduled_.erase(id);
    }
  }
}

void OrderProcessor::sweep_loop() {
  while (!stopping_) {
    sweep();
    std::unique_lock lock(mutex_);
    sweep_.wait_for(lock, settings_.sweep_interval, [this] { return stopping_ || sweep_requested_; });
    sweep_requested_ = false;
  }
}

void OrderProcessor::sweep() {
  try {
    const std::int64_t now = now_();
    const auto started = std::chrono::steady_clock::now();
    const auto expirable = repository_.expirable(now, settings_.sweep_limit);
    metrics_.sweep_time(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    for (const auto& id : expirable) {
      if (!repository_.expire(id, now)) continue;
      metrics_.moved(OrderStatus::pending, OrderStatus::expired, reason::kExpired);
      logger_.info("order expired", {{"orderId", id}});
      schedule_id(id);  // its stock release
    }
    for (const auto& id : repository_.due(now, settings_.sweep_limit, !enabled())) schedule_id(id);
    if (std::chrono::steady_clock::now() >= next_recount_) {
      metrics_.set_state_counts(repository_.count_by_status());
      metrics_.sweep_index(repository_.sweep_index_exists(), repository_.sweep_index_scans());
      next_recount_ = std::chrono::steady_clock::now() + settings_.recount_interval;
    }
  } catch (const db::DbError& e) {
    logger_.warn("order sweep failed; retrying at the next one", {{"error", e.what()}});
  }
}

void OrderProcessor::run_pass(const std::string& id) {
  if (stopping_) return;
  const std::int64_t now = now_();
  auto order = repository_.find(id);
  if (!order || !order->next_attempt_at_ms || *order->next_attempt_at_ms > now) return;
  const bool release_only = is_terminal(order->status);
  if (!release_only && !enabled()) return;
  auto claimed = repository_.claim(*order, now, now + settings_.lease.count());
  if (!claimed) return;  // someone else's pass, or it changed meanwhile
  if (release_only) return release_stock(std::move(*claimed));
  const auto started = std::chrono::steady_clock::now();
  advance(std::move(*claimed));
  metrics_.processing_time(seconds_since(started));
}

void OrderProcessor::advance(Order order) {
  if (order.status == OrderStatus::pending) {
    const auto started = std::chrono::steady_clock::now();
    const UpstreamAnswer answer = inventory_.post("/api/inventory/reserve", reserve_body(order), tokens_.bearer());
    metrics_.inventory_time(seconds_since(started));
    ReserveOutcome outcome = classify_reserve(answer, order.items);
    Order next = order;
    switch (outcome.kind) {
      case ReserveOutcome::Kind::unavailable:
        logger_.warn("inventory-service unavailable, using fallback", {{"orderId", order.id}, {"reason", outcome.reason}});
        next.next_attempt_at_ms = now_() + backoff_ms(order.attempts);
        transition(order, next);
        return;
      case ReserveOutcome::Kind::rejected:
        next.status = OrderStatus::failed;
        next.failure_reason = outcome.reason;
        next.next_attempt_at_ms = now_() + settings_.lease.count();  // this pass releases now
        if (transition(order, next)) release_stock(std::move(next));
        else lost_race(order.id, false);
        return;
      case ReserveOutcome::Kind::reserved:
        next.status = OrderStatus::inventory_reserved;
        next.items = std::move(outcome.priced);
        next.total_cents = outcome.total_cents;
        if (!transition(order, next)) return lost_race(order.id, true);
        order = std::move(next);
        break;
    }
  }
  charge(order);
}

void OrderProcessor::charge(const Order& order) {
  const auto started = std::chrono::steady_clock::now();
  const UpstreamAnswer answer = payment_.post("/api/payments", charge_body(order), tokens_.bearer());
  metrics_.payment_time(seconds_since(started));
  const ChargeOutcome outcome = classify_charge(answer);
  Order next = order;
  switch (outcome.kind) {
    case ChargeOutcome::Kind::charged:
      next.status = OrderStatus::confirmed;
      next.payment_id = outcome.payment_id;
      next.next_attempt_at_ms.reset();
      if (!transition(order, next)) lost_race(order.id, true);
      return;
    case ChargeOutcome::Kind::rejected:
      next.status = OrderStatus::failed;
      next.failure_reason = outcome.reason;
      next.next_attempt_at_ms = now_() + settings_.lease.count();
      if (transition(order, next)) release_stock(std::move(next));
      else lost_race(order.id, true);
      return;
    case ChargeOutcome::Kind::unavailable:
      logger_.warn("payment-service unavailable, order waits in PENDING_PAYMENT",
                   {{"orderId", order.id}, {"reason", outcome.reason}});
      next.status = OrderStatus::pending_payment;
      next.next_attempt_at_ms = now_() + backoff_ms(order.attempts);
      transition(order, next);
      return;
  }
}

void OrderProcessor::release_stock(Order order) {
  const UpstreamAnswer answer = inventory_.post("/api/inventory/release", release_body(order.id), tokens_.bearer());
  Order next = order;
  const bool done = (answer.status && *answer.status == 200) || final_client_error(answer);
  if (!done) {
    logger_.warn("stock release failed; retrying later",
                 {{"orderId", order.id}, {"reason", answer.status ? "http_" + std::to_string(*answer.status) : answer.failure}});
  } else if (answer.status != 200) {
    logger_.warn("stock release refused; nothing to release", {{"orderId", order.id}, {"status", *answer.status}});
  }
  if (done) next.next_attempt_at_ms.reset();
  else next.next_attempt_at_ms = now_() + backoff_ms(order.attempts);
  repository_.update(order, next, now_());
}

bool OrderProcessor::transition(const Order& before, Order& after) {
  if (!can_transition(before.status, after.status)) {
    logger_.error("refused an order transition the state machine does not have",
                  {{"orderId", before.id}, {"from", to_string(before.status)}, {"to", to_string(after.status)}});
    return false;
  }
  if (!repository_.update(before, after, now_())) return false;
  metrics_.moved(before.status, after.status, after.failure_reason);
  if (before.status != after.status)
    logger_.info("order moved", {{"orderId", after.id},
                                 {"from", to_string(before.status)},
                                 {"to", to_string(after.status)},
                                 {"failureReason", after.failure_reason}});
  return true;
}

void OrderProcessor::lost_race(const std::string& id, bool reserved) {
  const auto current = repository_.find(id);
  logger_.info("order changed during its pass; leaving it to its new owner",
               {{"orderId", id}, {"status", current ? to_string(current->status) : "gone"}});
  // Stock this pass reserved must not outlive an order that failed or expired meanwhile.
  if (reserved && current && (current->status == OrderStatus::failed || current->status == OrderStatus::expired))
    inventory_.post("/api/inventory/release", release_body(id), tokens_.bearer());
}

std::int64_t OrderProcessor::backoff_ms(int attempts) const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto backoff = runtime::IntervalFunction::exponential_random(settings_.retry_initial, 2.0, 0.5, settings_.retry_max);
  return backoff(std::max(1, attempts), rng).count();
}

}  // namespace mambogo::order
