// A connection pool with HikariCP's semantics and the seed's defaults:
//   maximum-pool-size 20, minimum-idle 5, connection-timeout 30 s, idle-timeout 10 min,
//   max-lifetime 30 min, leak-detection-threshold 60 s.
//
//   acquire()      hands out the most recently returned idle connection; an idle connection
//                  unused for longer than alive_bypass_window (500 ms, Hikari's) is pinged
//                  first and evicted if the ping fails. With none idle it opens a new one
//                  while the pool is below maximum; otherwise it waits, at most
//                  connection_timeout, then throws DbError(timeout) and counts it.
//   lease return   an open transaction is rolled back; a connection whose last operation
//                  failed is pinged; a broken one, or one past max_lifetime, is closed, never
//                  handed out again.
//   housekeeping   idle connections above minimum_idle idle for idle_timeout, and idle ones
//                  past max_lifetime, are closed; the pool is refilled to minimum_idle; a
//                  lease held longer than leak_detection_threshold logs a warning once and
//                  counts hikaricp_connections_leak_total.
//
// Time: ages (idle, lifetime, leak, alive bypass, usage) are read from the injected Clock, so
// a test drives retirement with a FakeClock and run_housekeeping(). Waiting in acquire() is
// real time (a condition variable), and so is hikaricp_connections_acquire_seconds.
//
// Metrics (label pool=<name>), updated at every change: hikaricp_connections,
//   _active, _idle, _pending, _max, _min (gauges), _timeout_total, _leak_total (counters),
//   _acquire_seconds, _usage_seconds, _creation_seconds (histograms).
//
// Ownership: the pool owns every connection. The clock, registry and logger must outlive it.
//   Every lease must be returned (destroyed) before the pool is destroyed.
// Thread-safety: every public member may be called from any thread; a Lease is used by one
//   thread at a time, like the Connection it wraps.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/clock.h"
#include "runtime/db/connection.h"
#include "runtime/health.h"

namespace prometheus {
class Registry;
class Gauge;
class Counter;
class Histogram;
}  // namespace prometheus

namespace mambogo::runtime {
class Logger;
}

namespace mambogo::db {

struct PoolOptions {
  std::string name = "default";  // `pool` label of the metrics, and the name in logs
  int maximum_pool_size = 20;
  int minimum_idle = 5;
  std::chrono::milliseconds connection_timeout{30'000};
  std::chrono::milliseconds idle_timeout{600'000};               // 0 = never retire idle
  std::chrono::milliseconds max_lifetime{1'800'000};             // 0 = unlimited
  std::chrono::milliseconds leak_detection_threshold{60'000};    // 0 = off
  std::chrono::milliseconds alive_bypass_window{500};
  // How often the housekeeping thread runs. Hikari's housekeeper runs every 30 s; leak
  // detection rides on the same pass here, hence the shorter default.
  std::chrono::milliseconds housekeeping_period{1'000};
  // false: no thread and no fill at construction; the owner calls run_housekeeping() (tests).
  bool background_housekeeping = true;
};

struct PoolStats {
  int total = 0;
  int active = 0;   // leased, or being validated before lease
  int idle = 0;
  int pending = 0;  // callers waiting in acquire()
  std::uint64_t created = 0;
  std::uint64_t creation_failures = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t leaks = 0;
  std::uint64_t evicted_broken = 0;    // failed validation or marked broken
  std::uint64_t retired_idle = 0;      // idle_timeout above minimum_idle
  std::uint64_t retired_lifetime = 0;  // max_lifetime
};

namespace detail {
struct PoolEntry;
}

class ConnectionPool {
 public:
  // An RAII lease: gives the connection back to the pool when destroyed or release()d.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease() { release(); }

    Connection& operator*() const { return *get(); }
    Connection* operator->() const { return get(); }
    Connection* get() const;  // precondition: valid()
    bool valid() const { return entry_ != nullptr; }
    void release() noexcept;  // idempotent

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, detail::PoolEntry* entry) : pool_(pool), entry_(entry) {}
    ConnectionPool* pool_ = nullptr;
    detail::PoolEntry* entry_ = nullptr;
  };

  // registry and logger may be null. Throws std::invalid_argument on inconsistent options.
  // With background_housekeeping the thread starts filling to minimum_idle at once (a
  // failing factory is logged and retried, never thrown from here).
  ConnectionPool(PoolOptions options, ConnectionFactory factory, const runtime::Clock& clock,
                 prometheus::Registry* registry, runtime::Logger* logger);
  ~ConnectionPool();  // stops housekeeping and closes every connection
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Waits at most options().connection_timeout. Throws DbError(timeout) on timeout (the
  // message carries the last connection failure, if any).
  Lease acquire();
  // Same with an explicit wait limit (the replica router uses a short one).
  Lease acquire(std::chrono::milliseconds timeout);

  // A slower database on purpose (a drill's switch, as Chaos Monkey for Spring Boot's latency
  // assault on repositories): every lease holds its connection `extra` longer, as if each
  // query took that much more — spent after the connection is handed out, so acquire time
  // still measures only the wait. Zero (the default) is off.
  void set_extra_hold(std::chrono::milliseconds extra) { extra_hold_ms_.store(extra.count()); }
  std::chrono::milliseconds extra_hold() const { return std::chrono::milliseconds(extra_hold_ms_.load()); }

  // One housekeeping pass now: leak detection, idle and lifetime retirement, refill to
  // minimum_idle. The background thread calls this; tests call it directly.
  void run_housekeeping();

  PoolStats stats() const;
  // The options as constructed; maximum_pool_size may have changed since (see below).
  const PoolOptions& options() const { return options_; }

  // Run-time resize (a drill's switch). Growing lets waiters open connections at once;
  // shrinking closes surplus idle connections now and leased ones when they come back.
  // Below minimum_idle the pool keeps at most `maximum` idle (HikariCP clamps minimumIdle to
  // maximumPoolSize the same way). Throws std::invalid_argument below 1.
  void set_maximum_pool_size(int maximum);

  // For shutdown: from now on acquire() gives up at the first failed attempt to open a
  // connection (DbError connection_lost) instead of retrying until connection_timeout. The
  // database may be going away with the service, and a last flush or sweep must not hold the
  // exit for the whole timeout. Idle connections, and waits for a leased one to come back, are
  // unaffected.
  void stop_retrying_connects();
  int maximum_pool_size() const;
  Dialect dialect() const;  // from the last connection made; sqlite until one exists

  // Never blocks and never touches the database: UP while connections exist or can be made;
  // DEGRADED when saturated with callers waiting; DOWN when the pool is empty and the last
  // attempt to connect failed. details: counts and the last error.
  runtime::CheckResult health() const;

 private:
  void release(detail::PoolEntry* entry) noexcept;
  void housekeeping_loop();
  // Removes the entry from the pool (the connection is closed by the caller, outside the lock).
  std::unique_ptr<detail::PoolEntry> remove_locked(detail::PoolEntry* entry);
  void publish_locked();
  Lease acquire_now(std::chrono::milliseconds timeout);
  int min_idle_locked() const;  // minimum_idle, clamped to the current maximum
  std::unique_ptr<detail::PoolEntry> create_entry();  // no lock held; throws DbError

  // Constant after construction.
  const PoolOptions options_;
  const ConnectionFactory factory_;
  const runtime::Clock& clock_;
  runtime::Logger* const logger_;
  prometheus::Gauge* total_gauge_ = nullptr;
  prometheus::Gauge* active_gauge_ = nullptr;
  prometheus::Gauge* idle_gauge_ = nullptr;
  prometheus::Gauge* pending_gauge_ = nullptr;
  prometheus::Gauge* max_gauge_ = nullptr;
  prometheus::Counter* timeout_counter_ = nullptr;
  prometheus::Counter* leak_counter_ = nullptr;
  prometheus::Histogram* acquire_histogram_ = nullptr;
  prometheus::Histogram* usage_histogram_ = nullptr;
  prometheus::Histogram* creation_histogram_ = nullptr;

  // Guarded by mutex_.
  mutable std::mutex mutex_;
  std::condition_variable available_;      // an idle connection or a free slot appeared
  std::condition_variable housekeeping_;   // wakes the housekeeper early (shutdown)
  std::list<std::unique_ptr<detail::PoolEntry>> entries_;  // every connection, leased or idle
  std::deque<detail::PoolEntry*> idle_;    // front = most recently returned
  int maximum_ = options_.maximum_pool_size;  // set_maximum_pool_size() changes it
  std::atomic<std::int64_t> extra_hold_ms_{0};
  int creating_ = 0;                       // slots reserved by connections being opened
  int pending_ = 0;
  bool closing_ = false;
  bool retry_connects_ = true;
  bool dialect_known_ = false;
  Dialect dialect_ = Dialect::sqlite;
  std::string last_error_;                 // last connection failure; cleared on success
  PoolStats counts_;

  std::thread housekeeper_;  // started last, joined first
};

using PooledConnection = ConnectionPool::Lease;

}  // namespace mambogo::db
