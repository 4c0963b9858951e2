// A service's storage, opened from configuration in one call: the primary pool, the optional
// read-replica pool, the router between them, the schema migrated, the health checks and the
// run-time switches registered.
//
// Configuration (environment, or --kebab-case options):
//   DB_URL               "sqlite:<path>" (the embedded default, WAL, one file per service)
//                        or "postgresql://user@host:port/db?..." / a libpq "host=... dbname=..."
//                        string. Default: sqlite:<DATA_DIR>/<service>.db.
//   DB_REPLICA_URL       PostgreSQL replica for reads; empty = none (always none for SQLite).
//   DB_POOL_MAX_SIZE (20), DB_POOL_MIN_IDLE (5), DB_POOL_CONNECTION_TIMEOUT (30s),
//   DB_POOL_IDLE_TIMEOUT (10m), DB_POOL_MAX_LIFETIME (30m), DB_POOL_LEAK_DETECTION (60s):
//                        HikariCP's names and the seed's values, for both pools.
//   DB_REPLICA_MAX_LAG (1s): reads go to the primary while the replica lags more.
//   DB_READ_ROUTING (true): false sends every read to the primary.
//   DATA_DIR (./data)   where SQLite files live (created if missing).
//
// Health: "db" (critical: DOWN when the primary cannot give a connection) and "db-replica"
// (non-critical, DEGRADED when down or lagging). Switches (RuntimeSettings): db.pool.max-size,
// db.read-routing.
//
// Ownership: the Datasource owns its pools and router; destroy it after every lease is back.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "runtime/db/connection.h"
#include "runtime/db/migrations.h"
#include "runtime/db/pool.h"
#include "runtime/db/replica_router.h"

namespace mambogo::runtime {
class Config;
class Health;
class Logger;
class MetricsRegistry;
class RuntimeSettings;
}  // namespace mambogo::runtime

namespace mambogo::db {

struct DatasourceSettings {
  std::string url;          // as configured (sqlite:... or PostgreSQL)
  std::string replica_url;  // empty: no replica
  PoolOptions pool;         // name is set per pool ("primary", "replica")
  ReplicaRouterOptions routing;
  bool read_routing = true;
};

// Declares and reads the variables above; `service` names the default SQLite file.
DatasourceSettings read_datasource_settings(runtime::Config& config, const std::string& service);

// A connection factory for a URL: SQLite (WAL, busy timeout) or PostgreSQL. Throws
// std::invalid_argument for a URL of neither kind.
ConnectionFactory connection_factory(const std::string& url);
Dialect dialect_of(const std::string& url);

class Datasource {
 public:
  // Opens the pools, migrates the primary (throws SchemaTooNewError / DbError: a service
  // must not start on a schema it does not know or cannot reach within the pool's
  // connection timeout). metrics, logger, health, settings may be null.
  Datasource(const DatasourceSettings& settings, const std::vector<Migration>& migrations,
             runtime::MetricsRegistry* metrics, runtime::Logger* logger,
             runtime::Health* health, runtime::RuntimeSettings* switches,
             const runtime::Clock& clock = runtime::system_clock());
  ~Datasource();
  Datasource(const Datasource&) = delete;
  Datasource& operator=(const Datasource&) = delete;

  Dialect dialect() const { return dialect_; }
  ReplicaRouter& router() { return *router_; }
  ConnectionPool& primary() { return *primary_; }
  ConnectionPool* replica() { return replica_.get(); }
  const MigrationResult& migration() const { return migration_; }
  // For shutdown: neither pool waits any longer for a database it cannot reach
  // (ConnectionPool::stop_retrying_connects).
  void stop_retrying_connects() {
    primary_->stop_retrying_connects();
    if (replica_) replica_->stop_retrying_connects();
  }

  ReplicaRouter::Routed read() { return router_->for_read(); }
  ReplicaRouter::Routed write() { return router_->for_write(); }
  ReplicaRouter::Routed read_your_write() { return router_->for_read_your_write(); }

 private:
  Dialect dialect_;
  std::unique_ptr<ConnectionPool> primary_;
  std::unique_ptr<ConnectionPool> replica_;
  std::unique_ptr<ReplicaRouter> router_;
  MigrationResult migration_;
};

}  // namespace mambogo::db
