#include "runtime/db/replica_router.h"

#include <cstdio>
#include <limits>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "runtime/db/db_error.h"
#include "runtime/logging.h"

namespace mambogo::db {
namespace {

// "16/B374D848" -> 0x16B374D848.
std::uint64_t parse_lsn(const std::string& text) {
  unsigned long hi = 0, lo = 0;
  if (std::sscanf(text.c_str(), "%lX/%lX", &hi, &lo) != 2)
    throw DbError(DbErrorKind::other, "unparsable LSN '" + text + "'");
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

}  // namespace

const char* to_string(RouteTarget t) { return t == RouteTarget::primary ? "primary" : "replica"; }

const char* to_string(RouteReason r) {
  switch (r) {
    case RouteReason::write: return "write";
    case RouteReason::read: return "read";
    case RouteReason::fallback_down: return "fallback_down";
    case RouteReason::fallback_lag: return "fallback_lag";
    case RouteReason::read_your_write: return "read_your_write";
    case RouteReason::routing_off: return "routing_off";
  }
  return "read";
}

RouteDecision decide_route(Access access, const ReplicaState& replica, std::chrono::duration<double> max_lag) {
  if (access == Access::write) return {RouteTarget::primary, RouteReason::write};
  if (access == Access::read_your_write) return {RouteTarget::primary, RouteReason::read_your_write};
  if (!replica.configured) return {RouteTarget::primary, RouteReason::read};
  if (!replica.up) return {RouteTarget::primary, RouteReason::fallback_down};
  if (replica.lag_seconds > max_lag.count()) return {RouteTarget::primary, RouteReason::fallback_lag};
  return {RouteTarget::replica, RouteReason::read};
}

ReplicaRouter::ReplicaRouter(ConnectionPool& primary, ConnectionPool* replica, ReplicaRouterOptions options,
                             prometheus::Registry* registry, runtime::Logger* logger)
    : primary_(primary), replica_(replica), options_(options), logger_(logger) {
  if (registry) {
    auto& routes = prometheus::BuildCounter()
                       .Name("db_route_total")
                       .Help("Database operations by routing target and reason")
                       .Register(*registry);
    for (auto target : {RouteTarget::primary, RouteTarget::replica})
      for (auto reason : {RouteReason::write, RouteReason::read, RouteReason::fallback_down,
                          RouteReason::fallback_lag, RouteReason::read_your_write, RouteReason::routing_off}) {
        if (target == RouteTarget::replica && reason != RouteReason::read) continue;  // impossible pairs
        route_counters_[static_cast<int>(target)][static_cast<int>(reason)] =
            &routes.Add({{"target", to_string(target)}, {"reason", to_string(reason)}});
      }
    lag_gauge_ = &prometheus::BuildGauge()
                      .Name("db_replica_lag_seconds")
                      .Help("Replication lag of the read replica, last measurement")
                      .Register(*registry)
                      .Add({});
    up_gauge_ = &prometheus::BuildGauge()
                     .Name("db_replica_up")
                     .Help("1 when the read replica answered the last check")
                     .Register(*registry)
                     .Add({});
  }
  state_.configured = replica_ != nullptr;
  measure_lag();
  if (replica_ && options_.background_lag_check) lag_checker_ = std::thread([this] { lag_loop(); });
}

ReplicaRouter::~ReplicaRouter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (lag_checker_.joinable()) lag_checker_.join();
}

void ReplicaRouter::count(RouteDecision d) {
  if (auto* c = route_counters_[static_cast<int>(d.target)][static_cast<int>(d.reason)]) c->Increment();
}

ReplicaRouter::Routed ReplicaRouter::acquire(Access access) {
  RouteDecision d = decide_route(access, replica_state(), options_.max_lag);
  if (d.target == RouteTarget::replica && !read_routing_) d = {RouteTarget::primary, RouteReason::routing_off};
  if (d.target == RouteTarget::replica) {
    try {
      auto lease = replica_->acquire(options_.replica_acquire_timeout);
      count(d);
      return {std::move(lease), d.target, d.reason};
    } catch (const DbError& e) {
      // Down until the next lag check reaches it again: later reads do not wait for it.
      ReplicaState s = replica_state();
      s.up = false;
      s.last_error = e.what();
      set_state(std::move(s));
      d = {RouteTarget::primary, RouteReason::fallback_down};
    }
  }
  auto lease = primary_.acquire();
  count(d);
  return {std::move(lease), d.target, d.reason};
}

void ReplicaRouter::measure_lag() {
  if (!replica_) return;
  ReplicaState next;
  next.configured = true;
  try {
    // Primary first: a replica that has replayed up to this LSN has everything committed
    // before the measurement started.
    std::optional<std::uint64_t> primary_lsn;
    try {
      auto p = primary_.acquire(options_.replica_acquire_timeout);
      if (p->dialect() == Dialect::postgres)
        primary_lsn = parse_lsn(p->query("SELECT pg_current_wal_insert_lsn()::text")[0].text(0));
    } catch (const DbError&) {
      // Primary unreachable: the replica's own replay timestamp is all there is to judge by.
    }
    auto r = replica_->acquire(options_.replica_acquire_timeout);
    if (r->dialect() == Dialect::postgres) {
      const Result res = r->query(
          "SELECT pg_last_wal_replay_lsn()::text,"
          " EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))::float8");
      const Field& replay = res[0][0];
      const Field& since = res[0][1];
      const bool caught_up = primary_lsn && replay && parse_lsn(*replay) >= *primary_lsn;
      if (caught_up)
        next.lag_seconds = 0;
      else if (since)
        next.lag_seconds = std::max(0.0, std::stod(*since));
      else
        next.lag_seconds = std::numeric_limits<double>::infinity();
    }
    next.up = true;
  } catch (const std::exception& e) {
    next.up = false;
    next.last_error = e.what();
  }
  set_state(std::move(next));
}

void ReplicaRouter::set_state(ReplicaState state) {
  bool changed_up = false;
  {
    std::lock_guard lock(mutex_);
    changed_up = state.up != state_.up;
    state_ = state;
    if (lag_gauge_) lag_gauge_->Set(state.lag_seconds);
    if (up_gauge_) up_gauge_->Set(state.up ? 1 : 0);
  }
  if (logger_ && changed_up && state.configured) {
    if (state.up)
      logger_->info("read replica is reachable; reads go to it again");
    else
      logger_->warn("read replica is down; reads fall back to the primary", {{"error", state.last_error}});
  }
}

ReplicaState ReplicaRouter::replica_state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void ReplicaRouter::lag_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.lag_check_interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    measure_lag();
    lock.lock();
  }
}

runtime::CheckResult ReplicaRouter::health() const {
  runtime::CheckResult primary = primary_.health();
  runtime::CheckResult r;
  r.details["primary"] = primary.details;
  r.status = primary.status == runtime::HealthStatus::down ? runtime::HealthStatus::down : runtime::HealthStatus::up;
  if (!replica_) return r;
  const ReplicaState s = replica_state();
  r.details["replica"] = replica_->health().details;
  r.details["replicaUp"] = s.up;
  r.details["replicaLagSeconds"] = s.lag_seconds;  // +Inf serialises as null
  if (!s.last_error.empty()) r.details["replicaError"] = s.last_error;
  if (r.status == runtime::HealthStatus::up &&
      (!s.up || s.lag_seconds > std::chrono::duration<double>(options_.max_lag).count())) {
    r.status = runtime::HealthStatus::degraded;
    r.details["reason"] = s.up ? "replica lagging; reads on primary" : "replica down; reads on primary";
  }
  return r;
}

}  // namespace mambogo::db
