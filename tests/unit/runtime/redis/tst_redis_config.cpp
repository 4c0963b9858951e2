// REDIS_URL as an operator writes it: accepted forms, refused forms named, and no Redis at all
// when it is empty (the services then run on their in-process layers).
#include <QtTest>

#include "runtime/config.h"
#include "runtime/redis/redis_config.h"

using namespace mambogo::runtime;
using namespace mambogo::runtime::redis;

class TestRedisConfig : public QObject {
  Q_OBJECT

 private slots:
  void urlForms() {
    auto a = parse_redis_url("redis://127.0.0.1:6380");
    QVERIFY(a);
    QCOMPARE(a->host, std::string("127.0.0.1"));
    QCOMPARE(a->port, 6380);
    auto b = parse_redis_url("redis-host");
    QVERIFY(b);
    QCOMPARE(b->port, 6379);
    QVERIFY(parse_redis_url("redis://h:6379/"));
    for (const char* bad : {"", "redis://", ":6379", "h:0", "h:70000", "h:12ab", "redis://user:pw@h:1", "h:1/2"})
      QVERIFY2(!parse_redis_url(bad), bad);
  }

  void settings() {
    {
      Config c({}, {});
      QVERIFY(!read_redis_settings(c).options);
      c.finish();
    }
    {
      Config c({"REDIS_URL=redis://127.0.0.1:7000", "REDIS_POOL_SIZE=3", "REDIS_COMMAND_TIMEOUT=50ms"}, {});
      const auto s = read_redis_settings(c);
      c.finish();
      QCOMPARE(s.options->pool_size, 3);
      QCOMPARE(s.options->command_timeout.count(), 50);
    }
    {
      Config c({"REDIS_URL=nonsense:port"}, {});
      read_redis_settings(c);
      QVERIFY_THROWS_EXCEPTION(ConfigError, c.finish());
    }
  }

  void noRedisConfiguredMeansNoPool() {
    ServiceRedis redis(RedisSettings{}, nullptr, nullptr);
    QVERIFY(redis.pool() == nullptr);
  }
};

QTEST_GUILESS_MAIN(TestRedisConfig)
#include "tst_redis_config.moc"
