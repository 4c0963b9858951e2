#include "runtime/db/pool.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "runtime/db/db_error.h"
#include "runtime/logging.h"

namespace mambogo::db {

namespace detail {
struct PoolEntry {
  std::unique_ptr<Connection> conn;
  std::uint64_t id = 0;
  runtime::Clock::time_point created{};
  runtime::Clock::time_point last_access{};  // returned to idle, or validated
  runtime::Clock::time_point leased_at{};
  bool leased = false;
  bool leak_reported = false;
};
}  // namespace detail

using detail::PoolEntry;
using RealClock = std::chrono::steady_clock;

namespace {
double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

// ---- Lease ----------------------------------------------------------------------------------

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), entry_(std::exchange(other.entry_, nullptr)) {}

ConnectionPool::Lease& ConnectionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::exchange(other.pool_, nullptr);
    entry_ = std::exchange(other.entry_, nullptr);
  }
  return *this;
}

Connection* ConnectionPool::Lease::get() const {
  if (!entry_) throw std::logic_error("ConnectionPool::Lease: no connection (moved from or released)");
  return entry_->conn.get();
}

void ConnectionPool::Lease::release() noexcept {
  if (entry_) pool_->release(std::exchange(entry_, nullptr));
  pool_ = nullptr;
}

// ---- Pool -----------------------------------------------------------------------------------

ConnectionPool::ConnectionPool(PoolOptions options, ConnectionFactory factory,
                               const runtime::Clock& clock, prometheus::Registry* registry,
                               runtime::Logger* logger)
    : options_(std::move(options)), factory_(std::move(factory)), clock_(clock), logger_(logger) {
  if (options_.maximum_pool_size < 1 || options_.minimum_idle < 0 ||
      options_.minimum_idle > options_.maximum_pool_size ||
      options_.connection_timeout.count() < 0 || options_.housekeeping_period.count() <= 0 ||
      !factory_)
    throw std::invalid_argument("pool '" + options_.name +
                                "': need 0 <= minimum_idle <= maximum_pool_size, maximum >= 1, "
                                "housekeeping_period > 0 and a factory");
  if (registry) {
    const prometheus::Labels labels{{"pool", options_.name}};
    auto gauge = [&](const char* name, const char* help) {
      return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry).Add(labels);
    };
    auto counter = [&](const char* name, const char* help) {
      return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry).Add(labels);
    };
    auto histogram = [&](const char* name, const char* help, prometheus::Histogram::BucketBoundaries b) {
      return &prometheus::BuildHistogram().Name(name).Help(help).Register(*registry).Add(labels, std::move(b));
    };
    total_gauge_ = gauge("hikaricp_connections", "Total connections");
    active_gauge_ = gauge("hikaricp_connections_active", "Active connections");
    idle_gauge_ = gauge("hikaricp_connections_idle", "Idle connections");
    pending_gauge_ = gauge("hikaricp_connections_pending", "Threads awaiting connections");
    max_gauge_ = gauge("hikaricp_connections_max", "Max connections");
    max_gauge_->Set(options_.maximum_pool_size);
    gauge("hikaricp_connections_min", "Min idle connections")->Set(options_.minimum_idle);
    timeout_counter_ = counter("hikaricp_connections_timeout_total", "Connection acquire timeouts");
    leak_counter_ = counter("hikaricp_connections_leak_total",
                            "Leases held longer than the leak detection threshold");
    acquire_histogram_ = histogram("hikaricp_connections_acquire_seconds", "Connection acquire time",
                                   {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30});
    usage_histogram_ = histogram("hikaricp_connections_usage_seconds", "Connection usage time",
                                 {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60});
    creation_histogram_ = histogram("hikaricp_connections_creation_seconds", "Connection creation time",
                                    {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10});
  }
  {
    std::lock_guard lock(mutex_);
    publish_locked();
  }
  if (options_.background_housekeeping) housekeeper_ = std::thread([this] { housekeeping_loop(); });
}

ConnectionPool::~ConnectionPool() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  housekeeping_.notify_all();
  available_.notify_all();
  if (housekeeper_.joinable()) housekeeper_.join();
  std::list<std::unique_ptr<PoolEntry>> closing;
  {
    std::lock_guard lock(mutex_);
    closing.swap(entries_);
    idle_.clear();
    publish_locked();
  }
}

std::unique_ptr<PoolEntry> ConnectionPool::create_entry() {
  const auto started = RealClock::now();
  auto conn = factory_();
  if (!conn) throw DbError(DbErrorKind::connection_lost, "connection factory returned nothing");
  if (creation_histogram_) creation_histogram_->Observe(seconds(RealClock::now() - started));
  auto entry = std::make_unique<PoolEntry>();
  entry->conn = std::move(conn);
  entry->created = entry->last_access = clock_.now();
  return entry;
}

ConnectionPool::Lease ConnectionPool::acquire() { return acquire(options_.connection_timeout); }

ConnectionPool::Lease ConnectionPool::acquire(std::chrono::milliseconds timeout) {
  Lease lease = acquire_now(timeout);
  if (const auto extra = extra_hold_ms_.load(); extra > 0) std::this_thread::sleep_for(std::chrono::milliseconds(extra));
  return lease;
}

ConnectionPool::Lease ConnectionPool::acquire_now(std::chrono::milliseconds timeout) {
  const auto started = RealClock::now();
  const auto deadline = started + timeout;
  std::unique_lock lock(mutex_);
  bool waiting = false;
  auto start_waiting = [&] {
    if (!waiting) {
      waiting = true;
      ++pending_;
      publish_locked();
    }
  };
  auto hand_out = [&](PoolEntry* e) {
    if (waiting) --pending_;
    e->leased = true;
    e->leased_at = clock_.now();
    e->leak_reported = false;
    publish_locked();
    if (acquire_histogram_) acquire_histogram_->Observe(seconds(RealClock::now() - started));
    return Lease(this, e);
  };
  while (true) {
    if (closing_) {
      if (waiting) --pending_;
      publish_locked();
      throw DbError(DbErrorKind::other, "pool '" + options_.name + "' is closed");
    }
    if (!idle_.empty()) {
      PoolEntry* e = idle_.front();
      idle_.pop_front();
      e->leased = true;  // active while it is validated
      const auto now = clock_.now();
      const bool expired =
          options_.max_lifetime.count() > 0 && now - e->created >= options_.max_lifetime;
      const bool stale = now - e->last_access > options_.alive_bypass_window;
      if (expired || stale) {
        publish_locked();
        lock.unlock();
        const bool alive = !expired && e->conn->ping();
        lock.lock();
        if (!alive) {
          auto dead = remove_locked(e);
          ++(expired ? counts_.retired_lifetime : counts_.evicted_broken);
          publish_locked();
          available_.notify_one();
          lock.unlock();
          dead.reset();  // close outside the lock
          lock.lock();
          continue;
        }
        e->last_access = clock_.now();
      }
      return hand_out(e);
    }
    if (static_cast<int>(entries_.size()) + creating_ < maximum_) {
      ++creating_;
      lock.unlock();
      std::unique_ptr<PoolEntry> created;
      std::string error;
      try {
        created = create_entry();
      } catch (const std::exception& ex) {
        error = ex.what();
      }
      lock.lock();
      --creating_;
      if (created) {
        if (!dialect_known_) {
          dialect_ = created->conn->dialect();
          dialect_known_ = true;
        }
        created->id = ++counts_.created;
        last_error_.clear();
        entries_.push_back(std::move(created));
        return hand_out(entries_.back().get());
      }
      ++counts_.creation_failures;
      last_error_ = error;
      available_.notify_one();  // the slot is free again
      if (!retry_connects_) {
        if (waiting) --pending_;
        publish_locked();
        throw DbError(DbErrorKind::connection_lost,
                      "pool '" + options_.name + "' is shutting down and cannot connect: " + error);
      }
      start_waiting();
      if (RealClock::now() >= deadline) break;
      // Do not hammer a server that refuses connections: pause before the next attempt.
      available_.wait_until(lock, std::min(deadline, RealClock::now() + std::chrono::milliseconds(50)));
      continue;
    }
    if (RealClock::now() >= deadline) break;
    start_waiting();
    available_.wait_until(lock, deadline);
  }
  if (waiting) --pending_;
  ++counts_.timeouts;
  if (timeout_counter_) timeout_counter_->Increment();
  publish_locked();
  std::string message = "pool '" + options_.name + "': connection not available, request timed out after " +
                        std::to_string(timeout.count()) + " ms (total=" + std::to_string(entries_.size()) +
                        ", active=" + std::to_string(entries_.size() - idle_.size()) +
                        ", idle=" + std::to_string(idle_.size()) + ", waiting=" + std::to_string(pending_) + ")";
  if (!last_error_.empty()) message += "; last connection error: " + last_error_;
  throw DbError(DbErrorKind::timeout, message);
}

void ConnectionPool::set_maximum_pool_size(int maximum) {
  if (maximum < 1) throw std::invalid_argument("pool '" + options_.name + "': maximum_pool_size must be >= 1");
  std::vector<std::unique_ptr<PoolEntry>> dead;
  {
    std::lock_guard lock(mutex_);
    maximum_ = maximum;
    // Idle connections above the new maximum go now (oldest-returned first); leased ones
    // go when they come back.
    while (static_cast<int>(entries_.size()) > maximum_ && !idle_.empty()) dead.push_back(remove_locked(idle_.back()));
    if (max_gauge_) max_gauge_->Set(maximum_);
    publish_locked();
  }
  available_.notify_all();  // a larger maximum lets waiters open connections
}

void ConnectionPool::stop_retrying_connects() {
  {
    std::lock_guard lock(mutex_);
    retry_connects_ = false;
  }
  available_.notify_all();  // a caller pausing between attempts gives up now
}

int ConnectionPool::min_idle_locked() const { return std::min(options_.minimum_idle, maximum_); }

int ConnectionPool::maximum_pool_size() const {
  std::lock_guard lock(mutex_);
  return maximum_;
}

void ConnectionPool::release(PoolEntry* e) noexcept {
  Connection& c = *e->conn;
  const auto now = clock_.now();
  if (usage_histogram_) usage_histogram_->Observe(seconds(now - e->leased_at));
  if (c.in_transaction() && !c.is_broken()) {
    try {
      c.rollback();  // a lease never leaks an open transaction into the next one
    } catch (...) {
    }
  }
  bool broken = c.is_broken();
  if (!broken && c.last_operation_failed()) broken = !c.ping();
  const bool expired = options_.max_lifetime.count() > 0 && now - e->created >= options_.max_lifetime;
  std::unique_ptr<PoolEntry> dead;
  {
    std::lock_guard lock(mutex_);
    e->leased = false;
    const bool surplus = static_cast<int>(entries_.size()) > maximum_;  // the maximum was lowered
    if (broken || expired || closing_ || surplus) {
      dead = remove_locked(e);
      if (broken)
        ++counts_.evicted_broken;
      else if (expired)
        ++counts_.retired_lifetime;
    } else {
      e->last_access = now;
      idle_.push_front(e);
    }
    publish_locked();
  }
  available_.notify_one();
}

std::unique_ptr<PoolEntry> ConnectionPool::remove_locked(PoolEntry* e) {
  std::unique_ptr<PoolEntry> out;
  idle_.erase(std::remove(idle_.begin(), idle_.end(), e), idle_.end());
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->get() == e) {
      out = std::move(*it);
      entries_.erase(it);
      break;
    }
  }
  return out;
}

void ConnectionPool::run_housekeeping() {
  const auto now = clock_.now();
  std::vector<std::unique_ptr<PoolEntry>> dead;
  std::vector<nlohmann::json> leaks;
  {
    std::lock_guard lock(mutex_);
    if (options_.leak_detection_threshold.count() > 0) {
      for (auto& e : entries_) {
        if (e->leased && !e->leak_reported && now - e->leased_at >= options_.leak_detection_threshold) {
          e->leak_reported = true;
          ++counts_.leaks;
          if (leak_counter_) leak_counter_->Increment();
          leaks.push_back({{"pool", options_.name},
                           {"connection", e->id},
                           {"held_seconds", seconds(now - e->leased_at)}});
        }
      }
    }
    // Oldest-returned first, so that the connections kept are the most recently used.
    std::vector<PoolEntry*> candidates(idle_.rbegin(), idle_.rend());
    int removable = static_cast<int>(idle_.size()) - min_idle_locked();
    for (PoolEntry* e : candidates) {
      if (options_.max_lifetime.count() > 0 && now - e->created >= options_.max_lifetime) {
        dead.push_back(remove_locked(e));
        ++counts_.retired_lifetime;
        --removable;
      } else if (removable > 0 && options_.idle_timeout.count() > 0 &&
                 min_idle_locked() < maximum_ &&
                 now - e->last_access >= options_.idle_timeout) {
        dead.push_back(remove_locked(e));
        ++counts_.retired_idle;
        --removable;
      }
    }
    publish_locked();
  }
  if (!dead.empty()) available_.notify_all();
  dead.clear();  // closed outside the lock
  if (logger_)
    for (const auto& fields : leaks)
      logger_->warn("connection leak detection triggered: a lease is held longer than the threshold", fields);

  // Refill to minimum_idle, one connection at a time, without holding the lock while connecting.
  while (true) {
    {
      std::lock_guard lock(mutex_);
      const int idle = static_cast<int>(idle_.size());
      const int total = static_cast<int>(entries_.size());
      if (closing_ || idle + creating_ >= min_idle_locked() ||
          total + creating_ >= maximum_)
        break;
      ++creating_;
    }
    std::unique_ptr<PoolEntry> created;
    std::string error;
    try {
      created = create_entry();
    } catch (const std::exception& ex) {
      error = ex.what();
    }
    bool first_failure = false;
    {
      std::lock_guard lock(mutex_);
      --creating_;
      if (created) {
        if (!dialect_known_) {
          dialect_ = created->conn->dialect();
          dialect_known_ = true;
        }
        created->id = ++counts_.created;
        last_error_.clear();
        idle_.push_back(created.get());
        entries_.push_back(std::move(created));
        publish_locked();
      } else {
        ++counts_.creation_failures;
        first_failure = last_error_.empty();
        last_error_ = error;
      }
    }
    available_.notify_one();
    if (!error.empty()) {
      if (logger_ && first_failure)
        logger_->warn("pool cannot open a connection", {{"pool", options_.name}, {"error", error}});
      break;  // the next pass tries again
    }
  }
}

void ConnectionPool::housekeeping_loop() {
  std::unique_lock lock(mutex_);
  while (!closing_) {
    lock.unlock();
    run_housekeeping();
    lock.lock();
    housekeeping_.wait_for(lock, options_.housekeeping_period, [this] { return closing_; });
  }
}

void ConnectionPool::publish_locked() {
  const int total = static_cast<int>(entries_.size());
  const int idle = static_cast<int>(idle_.size());
  counts_.total = total;
  counts_.idle = idle;
  counts_.active = total - idle;
  counts_.pending = pending_;
  if (!total_gauge_) return;
  total_gauge_->Set(total);
  idle_gauge_->Set(idle);
  active_gauge_->Set(total - idle);
  pending_gauge_->Set(pending_);
}

PoolStats ConnectionPool::stats() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

Dialect ConnectionPool::dialect() const {
  std::lock_guard lock(mutex_);
  return dialect_;
}

runtime::CheckResult ConnectionPool::health() const {
  std::lock_guard lock(mutex_);
  runtime::CheckResult r;
  r.details = {{"pool", options_.name},
               {"total", counts_.total},
               {"active", counts_.active},
               {"idle", counts_.idle},
               {"pending", counts_.pending},
               {"max", maximum_},
               {"minIdle", options_.minimum_idle}};
  if (!last_error_.empty()) r.details["lastError"] = last_error_;
  if (counts_.total == 0 && !last_error_.empty()) {
    r.status = runtime::HealthStatus::down;
  } else if (counts_.pending > 0 && counts_.idle == 0 && counts_.total >= maximum_) {
    r.status = runtime::HealthStatus::degraded;
    r.details["reason"] = "saturated";
  }
  return r;
}

}  // namespace mambogo::db
