// Read-replica routing: read-only work goes to the replica pool, writes and reads that must
// see the caller's own writes go to the primary. When the replica is down (its pool cannot
// hand out a connection, or the last lag measurement could not reach it) or it lags more
// than max_lag, reads fall back to the primary. Lag is measured periodically, never per
// query (PostgreSQL: the replica's pg_last_wal_replay_lsn() against the primary's
// pg_current_wal_insert_lsn(), which includes WAL not yet flushed; when behind,
// now() - pg_last_xact_replay_timestamp() on the replica).
// Without a replica (SQLite, or PostgreSQL without one) everything goes to the one pool.
//
// Metrics: db_route_total{target=primary|replica, reason=write|read|fallback_down|
//   fallback_lag|read_your_write}, db_replica_lag_seconds (+Inf while behind with no replayed
//   transaction to date it), db_replica_up.
//
// Ownership: the router borrows both pools; they, the registry and the logger must outlive it.
// Thread-safety: every public member may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/db/pool.h"
#include "runtime/health.h"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace mambogo::runtime {
class Logger;
}

namespace mambogo::db {

enum class Access { read, write, read_your_write };
enum class RouteTarget { primary, replica };
enum class RouteReason { write, read, fallback_down, fallback_lag, read_your_write, routing_off };
const char* to_string(RouteTarget t);
const char* to_string(RouteReason r);

struct ReplicaState {
  bool configured = false;  // a replica pool exists
  bool up = false;          // last contact succeeded
  double lag_seconds = 0;   // last measurement; +Inf when behind by an unknown time
  std::string last_error;
};

struct RouteDecision {
  RouteTarget target;
  RouteReason reason;
  friend bool operator==(const RouteDecision&, const RouteDecision&) = default;
};

// The routing rule, a pure function of the access and the replica's last known state.
RouteDecision decide_route(Access access, const ReplicaState& replica, std::chrono::duration<double> max_lag);

struct ReplicaRouterOptions {
  std::chrono::milliseconds max_lag{1'000};
  std::chrono::milliseconds lag_check_interval{1'000};
  // A read waits this long for a replica connection before falling back to the primary.
  std::chrono::milliseconds replica_acquire_timeout{250};
  // false: no thread; the owner calls measure_lag() (tests). The first measurement is taken
  // in the constructor either way.
  bool background_lag_check = true;
};

class ReplicaRouter {
 public:
  struct Routed {
    ConnectionPool::Lease lease;
    RouteTarget target;
    RouteReason reason;
    Connection* operator->() const { return lease.get(); }
    Connection& operator*() const { return *lease.get(); }
  };

  // replica may be null (no replica: everything goes to primary). registry, logger may be null.
  ReplicaRouter(ConnectionPool& primary, ConnectionPool* replica, ReplicaRouterOptions options,
                prometheus::Registry* registry, runtime::Logger* logger);
  ~ReplicaRouter();
  ReplicaRouter(const ReplicaRouter&) = delete;
  ReplicaRouter& operator=(const ReplicaRouter&) = delete;

  // Throws DbError when the primary cannot hand out a connection (its own timeout).
  Routed acquire(Access access);
  Routed for_read() { return acquire(Access::read); }
  Routed for_write() { return acquire(Access::write); }
  Routed for_read_your_write() { return acquire(Access::read_your_write); }

  // Run-time switch: false sends every read to the primary (reason routing_off), to show
  // in a drill what the replica takes off the primary.
  void set_read_routing(bool on) { read_routing_ = on; }
  bool read_routing() const { return read_routing_; }

  // One lag measurement now (the background thread calls it every lag_check_interval).
  void measure_lag();
  ReplicaState replica_state() const;

  // Never blocks: DOWN when the primary pool is DOWN; DEGRADED when the replica is down or
  // lagging (reads still work, on the primary); else UP. details: both pools and the lag.
  runtime::CheckResult health() const;

 private:
  void set_state(ReplicaState state);
  void count(RouteDecision d);
  void lag_loop();

  // Constant after construction.
  ConnectionPool& primary_;
  ConnectionPool* const replica_;
  const ReplicaRouterOptions options_;
  runtime::Logger* const logger_;
  prometheus::Counter* route_counters_[2][6] = {};  // [target][reason]
  prometheus::Gauge* lag_gauge_ = nullptr;
  prometheus::Gauge* up_gauge_ = nullptr;

  // Guarded by mutex_.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  ReplicaState state_;
  bool stopping_ = false;

  std::atomic<bool> read_routing_{true};
  std::thread lag_checker_;  // started last, joined first
};

}  // namespace mambogo::db
