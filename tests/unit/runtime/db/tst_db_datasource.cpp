// A service's storage from configuration: the seed's HikariCP values by default, bad values
// named before anything opens, the SQLite file created and migrated, the switches live.
#include <QtTest>

#include <QTemporaryDir>

#include "db_test_util.h"
#include "runtime/admin/settings.h"
#include "runtime/config.h"
#include "runtime/db/datasource.h"
#include "runtime/health.h"
#include "runtime/metrics.h"

using namespace mambogo::db;
using namespace mambogo::runtime;
using namespace std::chrono_literals;

namespace {
const std::vector<Migration> kV1{{1, "t", "CREATE TABLE t (v INTEGER)", "CREATE TABLE t (v INTEGER)"}};
}

class TestDatasource : public QObject {
  Q_OBJECT

 private slots:
  void defaultsAreTheSeedsAndAnSqliteFilePerService() {
    Config config({"DATA_DIR=/var/lib/x"}, {});
    const auto s = read_datasource_settings(config, "order-service");
    config.finish();
    QCOMPARE(s.url, std::string("sqlite:/var/lib/x/order-service.db"));
    QVERIFY(s.replica_url.empty());
    QCOMPARE(s.pool.maximum_pool_size, 20);
    QCOMPARE(s.pool.minimum_idle, 5);
    QCOMPARE(s.pool.connection_timeout, 30s);
    QCOMPARE(s.pool.idle_timeout, 10min);
    QCOMPARE(s.pool.max_lifetime, 30min);
    QCOMPARE(s.pool.leak_detection_threshold, 60s);
    QVERIFY(s.read_routing);
  }

  void badValuesAreNamed() {
    auto problems = [](std::vector<std::string> env) -> std::string {
      Config config(env, {});
      read_datasource_settings(config, "svc");
      try {
        config.finish();
      } catch (const ConfigError& e) {
        return e.what();
      }
      return "";
    };
    QVERIFY(problems({"DB_URL=mysql://x"}).find("DB_URL") != std::string::npos);
    QVERIFY(problems({"DB_URL=sqlite:/tmp/a.db", "DB_REPLICA_URL=host=x dbname=y"}).find("DB_REPLICA_URL") != std::string::npos);
    QVERIFY(problems({"DB_POOL_MAX_SIZE=2", "DB_POOL_MIN_IDLE=5"}).find("DB_POOL_MIN_IDLE") != std::string::npos);
    QVERIFY(problems({"DB_POOL_MAX_SIZE=0"}).find("DB_POOL_MAX_SIZE") != std::string::npos);
    const std::string secret = problems({"DB_URL=mysql://me:hunter2@db"});
    QVERIFY2(secret.find("hunter2") == std::string::npos, secret.c_str());  // passwords never printed
    QCOMPARE(problems({"DB_URL=postgresql://me@127.0.0.1:5432/shop"}), std::string());
  }

  void sqliteDatasourceIsCreatedMigratedAndSwitchable() {
    QTemporaryDir dir;
    const std::string data = dir.filePath("nested/data").toStdString();
    Config config({"DATA_DIR=" + data, "DB_POOL_MIN_IDLE=1"}, {});
    const auto settings = read_datasource_settings(config, "product-service");
    config.finish();
    MetricsRegistry metrics;
    Health health;
    RuntimeSettings switches(&metrics);
    {
      Datasource ds(settings, kV1, &metrics, nullptr, &health, &switches);
      QCOMPARE(ds.dialect(), Dialect::sqlite);
      QCOMPARE(ds.migration().applied, std::vector<int>{1});
      QVERIFY(QFile::exists(QString::fromStdString(data + "/product-service.db")));
      {
        auto w = ds.write();
        w->execute("INSERT INTO t (v) VALUES ($1)", {std::int64_t(7)});
      }
      auto r = ds.read();
      QCOMPARE(r.target, RouteTarget::primary);  // SQLite has no replica
      QCOMPARE(r->query("SELECT v FROM t")[0].integer(0), std::optional<std::int64_t>(7));
      r.lease.release();
      QCOMPARE(health.readiness(), HealthStatus::up);
      QVERIFY(switches.apply({{"db.pool.max-size", 3}}).ok);
      QCOMPARE(ds.primary().maximum_pool_size(), 3);
      QVERIFY(!switches.apply({{"db.pool.max-size", 0}}).ok);
    }
    // A binary that knows only an older schema refuses to start on the newer database.
    const std::vector<Migration> v2{kV1[0], {2, "u", "CREATE TABLE u (v INTEGER)", "CREATE TABLE u (v INTEGER)"}};
    { Datasource ds(settings, v2, nullptr, nullptr, nullptr, nullptr); }
    QVERIFY_THROWS_EXCEPTION(SchemaTooNewError, Datasource(settings, kV1, nullptr, nullptr, nullptr, nullptr));
  }

  void connectionFactoryRefusesUnknownUrls() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, connection_factory("mysql://x"));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, connection_factory("sqlite:"));
    QCOMPARE(dialect_of("postgres://u@h/d"), Dialect::postgres);
    QCOMPARE(dialect_of("host=127.0.0.1 dbname=x"), Dialect::postgres);
  }
};

QTEST_GUILESS_MAIN(TestDatasource)
#include "tst_db_datasource.moc"
