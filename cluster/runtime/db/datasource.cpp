#include "runtime/db/datasource.h"

#include <filesystem>
#include <stdexcept>

#include "runtime/admin/settings.h"
#include "runtime/config.h"
#include "runtime/health.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/db/pg_connection.h"
#include "runtime/db/sqlite_connection.h"

namespace mambogo::db {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kSqlitePrefix = "sqlite:";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string sqlite_path(const std::string& url) {
  std::string path = url.substr(kSqlitePrefix.size());
  if (starts_with(path, "//")) path.erase(0, 2);  // sqlite://relative/or//absolute
  return path;
}

// libpq waits for the OS's TCP timeout by default; a pool wants to know sooner.
std::string with_connect_timeout(const std::string& url) {
  if (url.find("connect_timeout") != std::string::npos) return url;
  if (starts_with(url, "postgresql://") || starts_with(url, "postgres://"))
    return url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=5";
  return url + " connect_timeout=5";
}

std::string redacted(const std::string& url) {
  // postgresql://user:secret@host -> postgresql://user:***@host; password=secret -> password=***
  std::string out = url;
  if (const auto at = out.find('@'); at != std::string::npos) {
    const auto scheme = out.find("://");
    const auto colon = out.find(':', scheme == std::string::npos ? 0 : scheme + 3);
    if (scheme != std::string::npos && colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  if (const auto pw = out.find("password="); pw != std::string::npos) {
    const auto end = out.find_first_of(" &", pw);
    out.replace(pw + 9, (end == std::string::npos ? out.size() : end) - pw - 9, "***");
  }
  return out;
}

}  // namespace

Dialect dialect_of(const std::string& url) {
  if (starts_with(url, kSqlitePrefix)) return Dialect::sqlite;
  if (starts_with(url, "postgresql://") || starts_with(url, "postgres://") || url.find('=') != std::string::npos)
    return Dialect::postgres;
  throw std::invalid_argument("database URL '" + redacted(url) +
                              "': expected sqlite:<path>, postgresql://... or a libpq \"host=... dbname=...\" string");
}

ConnectionFactory connection_factory(const std::string& url) {
  if (dialect_of(url) == Dialect::sqlite) {
    SqliteOptions options;
    options.path = sqlite_path(url);
    if (options.path.empty()) throw std::invalid_argument("database URL 'sqlite:': no file path");
    return sqlite_factory(options);
  }
  return pg_factory(with_connect_timeout(url));
}

DatasourceSettings read_datasource_settings(runtime::Config& c, const std::string& service) {
  DatasourceSettings s;
  const std::string data_dir = c.string("DATA_DIR", "./data", "where SQLite database files live");
  s.url = c.string("DB_URL", "sqlite:" + data_dir + "/" + service + ".db",
                   "database: sqlite:<path>, postgresql://user@host:port/db, or a libpq key=value string");
  s.replica_url = c.string("DB_REPLICA_URL", "", "PostgreSQL read replica for read-only queries; empty = none");
  auto& p = s.pool;
  p.maximum_pool_size = static_cast<int>(c.integer("DB_POOL_MAX_SIZE", 20, 1, 1000, "maximum-pool-size (HikariCP)"));
  p.minimum_idle = static_cast<int>(c.integer("DB_POOL_MIN_IDLE", 5, 0, 1000, "minimum-idle (HikariCP)"));
  p.connection_timeout = c.duration("DB_POOL_CONNECTION_TIMEOUT", milliseconds(30'000), milliseconds(250), milliseconds(600'000),
                                    "connection-timeout: longest wait for a connection (HikariCP)");
  p.idle_timeout = c.duration("DB_POOL_IDLE_TIMEOUT", milliseconds(600'000), milliseconds(0), milliseconds(86'400'000),
                              "idle-timeout: idle connections above minimum-idle are closed after (HikariCP)");
  p.max_lifetime = c.duration("DB_POOL_MAX_LIFETIME", milliseconds(1'800'000), milliseconds(0), milliseconds(86'400'000),
                              "max-lifetime: connections are retired after (HikariCP)");
  p.leak_detection_threshold = c.duration("DB_POOL_LEAK_DETECTION", milliseconds(60'000), milliseconds(0),
                                          milliseconds(86'400'000), "leak-detection-threshold (HikariCP); 0 = off");
  s.routing.max_lag = c.duration("DB_REPLICA_MAX_LAG", milliseconds(1'000), milliseconds(0), milliseconds(3'600'000),
                                 "reads go to the primary while the replica lags more than this");
  s.read_routing = c.boolean("DB_READ_ROUTING", true, "send read-only queries to the replica (when one is configured)");
  if (p.minimum_idle > p.maximum_pool_size) {
    c.report_invalid("DB_POOL_MIN_IDLE", std::to_string(p.minimum_idle),
                     "an integer from 0 to DB_POOL_MAX_SIZE (" + std::to_string(p.maximum_pool_size) + ")");
    p.minimum_idle = p.maximum_pool_size;
  }
  for (const auto& [name, url] : {std::pair{"DB_URL", s.url}, std::pair{"DB_REPLICA_URL", s.replica_url}}) {
    if (url.empty()) continue;
    try {
      (void)dialect_of(url);
    } catch (const std::invalid_argument& e) {
      c.report_invalid(name, redacted(url), "sqlite:<path>, postgresql://..., or host=... dbname=...");
    }
  }
  if (!s.replica_url.empty() && starts_with(s.url, kSqlitePrefix))
    c.report_invalid("DB_REPLICA_URL", redacted(s.replica_url), "empty when DB_URL is SQLite (SQLite has no replicas)");
  return s;
}

Datasource::Datasource(const DatasourceSettings& settings, const std::vector<Migration>& migrations,
                       runtime::MetricsRegistry* metrics, runtime::Logger* logger, runtime::Health* health,
                       runtime::RuntimeSettings* switches, const runtime::Clock& clock)
    : dialect_(dialect_of(settings.url)) {
  if (dialect_ == Dialect::sqlite) {
    const std::filesystem::path file(sqlite_path(settings.url));
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  }
  prometheus::Registry* registry = metrics ? &metrics->registry() : nullptr;
  PoolOptions primary_options = settings.pool;
  primary_options.name = "primary";
  primary_ = std::make_unique<ConnectionPool>(primary_options, connection_factory(settings.url), clock, registry, logger);
  if (!settings.replica_url.empty()) {
    PoolOptions replica_options = settings.pool;
    replica_options.name = "replica";
    replica_ = std::make_unique<ConnectionPool>(replica_options, connection_factory(settings.replica_url), clock, registry, logger);
  }
  {
    auto lease = primary_->acquire();
    migration_ = migrate(*lease, migrations);
  }
  if (logger)
    logger->info("database ready", {{"dialect", to_string(dialect_)},
                                    {"url", redacted(settings.url)},
                                    {"replica", settings.replica_url.empty() ? "none" : redacted(settings.replica_url)},
                                    {"schemaVersion", migration_.current_version},
                                    {"migrationsApplied", migration_.applied}});
  router_ = std::make_unique<ReplicaRouter>(*primary_, replica_.get(), settings.routing, registry, logger);
  router_->set_read_routing(settings.read_routing);

  if (health) {
    health->add_check("db", [this] { return primary_->health(); }, true);
    if (replica_) health->add_check("db-replica", [this] { return router_->health(); }, false);
  }
  if (switches) {
    switches->add_integer("db.pool.max-size", "maximum-pool-size of the database pools (HikariCP)", 1, 1000,
                          [this] { return primary_->maximum_pool_size(); },
                          [this](std::int64_t v) {
                            primary_->set_maximum_pool_size(static_cast<int>(v));
                            if (replica_) replica_->set_maximum_pool_size(static_cast<int>(v));
                          });
    switches->add_integer("db.latency-ms",
                          "a slower database: every connection is held this many ms longer, as if each query "
                          "took that much more (a latency assault for drills; 0 off)",
                          0, 10'000, [this] { return primary_->extra_hold().count(); },
                          [this](std::int64_t v) {
                            primary_->set_extra_hold(std::chrono::milliseconds(v));
                            if (replica_) replica_->set_extra_hold(std::chrono::milliseconds(v));
                          });
    switches->add_bool("db.read-routing", "send read-only queries to the replica (false: all to the primary)",
                       [this] { return router_->read_routing(); }, [this](bool on) { router_->set_read_routing(on); });
  }
}

Datasource::~Datasource() = default;

}  // namespace mambogo::db
