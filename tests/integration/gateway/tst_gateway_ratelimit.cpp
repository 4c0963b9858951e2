// Rate limiting through the gateway process with a real redis-server: Spring Cloud Gateway's
// token bucket (burst, then 429, then refill), its keys and TTL in Redis, keyed per user and
// per anonymous client, the script reloaded after SCRIPT FLUSH, and Redis going away under
// both failure modes (fail-open counted and shown on /health; fail-closed refusing with 503),
// and a busy user's decisions answered from tokens taken ahead (prefetch) when pipelined.
// Every case runs over both transports (global data): the pipelined AsyncRedis on the I/O
// thread, and the blocking pool on the executor; they must decide alike.
#include "gateway_harness.h"
#include "redis_server.h"

using namespace gwtest;
using mambogo::test::RedisServer;

namespace {

std::map<QString, QString> env_with(const TestUpstream& u, const Keys& k, const RedisServer& redis,
                                    std::map<QString, QString> extra) {
  auto env = all_services(u, k);
  QFETCH_GLOBAL(QString, pipelined);
  env["GATEWAY_RATELIMIT_PIPELINED"] = pipelined;
  env["REDIS_URL"] = QString("redis://127.0.0.1:%1").arg(redis.port());
  env["REDIS_COMMAND_TIMEOUT"] = "300ms";
  for (auto& [key, value] : extra) env[key] = value;
  return env;
}

// Polls until `check` holds (at most `limit`); true when it did.
template <class F>
bool eventually(F check, std::chrono::milliseconds limit = 8s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return check();
}

}  // namespace

class TestGatewayRateLimit : public QObject {
  Q_OBJECT

  std::unique_ptr<Keys> keys;
  std::unique_ptr<TestUpstream> upstream;

 private slots:
  void initTestCase_data() {
    QTest::addColumn<QString>("pipelined");
    QTest::newRow("pipelined") << QString("true");
    QTest::newRow("pool") << QString("false");
  }

  void initTestCase() {
    keys = std::make_unique<Keys>();
    upstream = std::make_unique<TestUpstream>("svc");
  }

  void burstThenDeniedThenRefilled() {
    RedisServer redis;
    GatewayProcess gw(env_with(*upstream, *keys, redis,
                               {{"GATEWAY_RATELIMIT_REPLENISH_RATE", "1"}, {"GATEWAY_RATELIMIT_BURST_CAPACITY", "3"}}));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    const std::string alice = bearer(keys->token("alice"));
    // A fresh bucket holds the burst. Whole-second refills (Redis TIME seconds, as Spring's
    // script) may add a token between two requests, so count rather than expect exact values.
    int allowed = 0;
    std::optional<RawResponse> denied;
    for (int i = 0; i < 20 && !denied; ++i) {
      auto r = gw.get("/api/cart", alice);
      QVERIFY(r);
      if (r->status == 429) denied = r;
      else {
        QCOMPARE(r->status, 200);
        QCOMPARE(r->header("x-ratelimit-replenish-rate"), std::string("1"));
        QCOMPARE(r->header("x-ratelimit-burst-capacity"), std::string("3"));
        QCOMPARE(r->header("x-ratelimit-requested-tokens"), std::string("1"));
        ++allowed;
      }
    }
    QVERIFY(denied);
    QVERIFY2(allowed >= 3 && allowed <= 5, qPrintable(QString::number(allowed)));
    QCOMPARE(denied->header("x-ratelimit-remaining"), std::string("0"));
    QCOMPARE(body_json(denied)["error"].get<std::string>(), std::string("too_many_requests"));
    // The bucket lives in Redis under Spring's keys, with ttl = floor(2 * burst / rate) = 6 s.
    const long long ttl = std::stoll(redis.query({"TTL", "request_rate_limiter.{alice}.tokens"}));
    QVERIFY2(ttl > 0 && ttl <= 6, qPrintable(QString::number(ttl)));
    QCOMPARE(redis.query({"EXISTS", "request_rate_limiter.{alice}.timestamp"}), std::string("1"));
    // Another caller has a bucket of its own.
    QCOMPARE(gw.get("/api/cart", bearer(keys->token("bob")))->status, 200);
    // Waiting refills: one token per second.
    QVERIFY(eventually([&] { return gw.get("/api/cart", alice)->status == 200; }, 5s));
    QVERIFY(scrape(gw.port, "gateway_requests_total", {"route=\"cart\"", "status=\"429\""}) >= 1);
  }

  // The drill's switch: the manifests' roomy bucket lowered at run time for one noisy user,
  // the others keeping buckets of their own; 0 puts the configured values back.
  void runTimeSwitchesLowerTheBucket() {
    RedisServer redis;
    GatewayProcess gw(env_with(*upstream, *keys, redis,
                               {{"GATEWAY_RATELIMIT_REPLENISH_RATE", "10000"}, {"GATEWAY_RATELIMIT_BURST_CAPACITY", "20000"}}));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    const std::string admin = bearer(keys->token("root", {"user", "admin"}));
    auto patch = [&](const char* json) {
      return http_request(gw.port, "PATCH", "/admin/settings", json, admin + "Content-Type: application/json\r\n");
    };
    const std::string noisy = bearer(keys->token("noisy"));
    QCOMPARE(gw.get("/api/cart", noisy)->header("x-ratelimit-burst-capacity"), std::string("20000"));
    QCOMPARE(patch("{\"gateway.ratelimit.replenish-rate\": 1, \"gateway.ratelimit.burst-capacity\": 3}")->status, 200);
    int denied = 0;
    for (int i = 0; i < 12; ++i) {
      auto r = gw.get("/api/cart", noisy);
      QVERIFY(r);
      if (r->status == 429) ++denied;
      else QCOMPARE(r->header("x-ratelimit-burst-capacity"), std::string("3"));
    }
    QVERIFY2(denied >= 6, qPrintable(QString::number(denied)));
    QCOMPARE(gw.get("/api/cart", bearer(keys->token("quiet")))->status, 200);  // a bucket of its own
    QCOMPARE(patch("{\"gateway.ratelimit.replenish-rate\": 0, \"gateway.ratelimit.burst-capacity\": 0}")->status, 200);
    auto back = gw.get("/api/cart", bearer(keys->token("later")));
    QCOMPARE(back->status, 200);
    QCOMPARE(back->header("x-ratelimit-burst-capacity"), std::string("20000"));
  }

  void anonymousCallersAreLimitedByAddress() {
    RedisServer redis;
    GatewayProcess gw(env_with(*upstream, *keys, redis,
                               {{"GATEWAY_RATELIMIT_REPLENISH_RATE", "1"}, {"GATEWAY_RATELIMIT_BURST_CAPACITY", "2"}}));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    int denied = 0;
    for (int i = 0; i < 10; ++i) denied += gw.get("/api/products")->status == 429 ? 1 : 0;
    QVERIFY(denied > 0);
    QCOMPARE(redis.query({"EXISTS", "request_rate_limiter.{ip:127.0.0.1}.tokens"}), std::string("1"));
  }

  // One user's 200 requests in a row on the manifests' roomy bucket (10000/s, burst 20000):
  // pipelined, the prefetch takes the user's pace ahead, so Redis runs the script a handful of
  // times and the rest are answered on the I/O thread; the blocking pool asks once per request.
  // Either way each response's Remaining is one less than the one before (a whole second's
  // refill aside), as Spring's script called per request would say.
  void aBusyUserCostsRedisAFewScriptRunsWhenPipelined() {
    RedisServer redis;
    GatewayProcess gw(env_with(*upstream, *keys, redis,
                               {{"GATEWAY_RATELIMIT_REPLENISH_RATE", "10000"}, {"GATEWAY_RATELIMIT_BURST_CAPACITY", "20000"}}));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    const std::string user = bearer(keys->token("busy"));
    const long long before = redis.command_calls("evalsha");
    long long previous = 0;
    int refills = 0;
    for (int i = 0; i < 200; ++i) {
      auto r = gw.get("/api/cart", user);
      QVERIFY(r);
      QCOMPARE(r->status, 200);
      const long long remaining = std::stoll(r->header("x-ratelimit-remaining"));
      if (i == 0) QCOMPARE(remaining, 19999LL);
      else if (remaining != previous - 1) {
        ++refills;
        QVERIFY2(remaining > previous, qPrintable(QString("%1 after %2").arg(remaining).arg(previous)));
      }
      previous = remaining;
    }
    QVERIFY2(refills <= 2, qPrintable(QString::number(refills)));
    const long long runs = redis.command_calls("evalsha") - before;
    const double prefetched = scrape(gw.port, "gateway_ratelimit_prefetched_total");
    QFETCH_GLOBAL(QString, pipelined);
    if (pipelined == "true") {
      QVERIFY2(runs <= 20, qPrintable(QString::number(runs)));
      QCOMPARE(prefetched, double(200 - runs));
      QVERIFY(gw.get("/health")->body.find("\"prefetchMs\":50") != std::string::npos);
    } else {
      QCOMPARE(runs, 200LL);
      QCOMPARE(prefetched, 0.0);
    }
  }

  void theScriptIsLoadedAgainAfterAFlush() {
    RedisServer redis;
    // Without prefetch, so the request after the flush is a script run of its own.
    GatewayProcess gw(env_with(*upstream, *keys, redis, {{"GATEWAY_RATELIMIT_PREFETCH", "0"}}));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    const std::string alice = bearer(keys->token("alice"));
    QCOMPARE(gw.get("/api/cart", alice)->header("x-ratelimit-remaining"), std::string("199"));
    redis.query({"SCRIPT", "FLUSH"});
    auto r = gw.get("/api/cart", alice);
    QCOMPARE(r->status, 200);
    // The same bucket, no failure (a whole-second refill may have added the token back).
    const std::string remaining = r->header("x-ratelimit-remaining");
    QVERIFY2(remaining == "198" || remaining == "199", remaining.c_str());
    QCOMPARE(scrape(gw.port, "gateway_ratelimit_redis_failures_total"), 0.0);
    QVERIFY(redis.command_calls("evalsha") >= 3);  // the NOSCRIPT answer, then the repeat
  }

  void redisDownFailsOpenCountedAndShownOnHealth() {
    RedisServer redis;
    GatewayProcess gw(env_with(*upstream, *keys, redis, {}));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    const std::string alice = bearer(keys->token("alice"));
    QCOMPARE(gw.get("/api/cart", alice)->status, 200);
    redis.stop();
    // The token the first request's run took ahead (prefetch, 1% of the burst of 200) lapses
    // within 2 x GATEWAY_RATELIMIT_PREFETCH (50 ms); from then on every decision needs Redis.
    std::this_thread::sleep_for(150ms);
    for (int i = 0; i < 5; ++i) {
      auto r = gw.get("/api/cart", alice);
      QCOMPARE(r->status, 200);
      QCOMPARE(r->header("x-ratelimit-remaining"), std::string("-1"));
    }
    QVERIFY(scrape(gw.port, "gateway_ratelimit_redis_failures_total") >= 5);
    auto health = body_json(gw.get("/health"));
    QVERIFY2(health.dump().find("\"failureMode\":\"open\"") != std::string::npos, health.dump().c_str());
    QVERIFY2(health.dump().find("DEGRADED") != std::string::npos, health.dump().c_str());
    QFETCH_GLOBAL(QString, pipelined);
    const std::string transport = pipelined == "true" ? "\"transport\":\"pipelined\"" : "\"transport\":\"pool\"";
    QVERIFY2(health.dump().find(transport) != std::string::npos, health.dump().c_str());
    QVERIFY(gw.drain_output().contains("rate limiter: Redis failed"));
    // Back again: limiting resumes.
    redis.start();
    QVERIFY(eventually([&] { return gw.get("/api/cart", alice)->header("x-ratelimit-remaining") != "-1"; }, 15s));
  }

  void redisDownFailsClosedWith503() {
    RedisServer redis;
    GatewayProcess gw(env_with(*upstream, *keys, redis, {{"GATEWAY_RATELIMIT_FAILURE_MODE", "closed"}}));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    const std::string alice = bearer(keys->token("alice"));
    QCOMPARE(gw.get("/api/cart", alice)->status, 200);
    redis.stop();
    std::this_thread::sleep_for(150ms);  // the token taken ahead lapses (as above)
    const int before = upstream->hits.load();
    for (int i = 0; i < 3; ++i) {
      auto r = gw.get("/api/cart", alice);
      QCOMPARE(r->status, 503);
      QCOMPARE(body_json(r)["error"].get<std::string>(), std::string("rate_limiter_unavailable"));
      QCOMPARE(r->header("retry-after"), std::string("1"));
    }
    QCOMPARE(upstream->hits.load(), before);
    QVERIFY(gw.get("/health")->body.find("\"failureMode\":\"closed\"") != std::string::npos);
  }
};

QTEST_GUILESS_MAIN(TestGatewayRateLimit)
#include "tst_gateway_ratelimit.moc"
