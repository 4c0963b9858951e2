// AsyncRedis against a real redis-server on a free loopback port, driven from I/O loops the
// test runs itself (an io_context thread inside an IoLoop::Scope, as HttpServer's threads are):
// replies in order under pipelining, one connection per loop, completion on the calling loop,
// an idle connection killed by the server, a restart, a hung server (SIGSTOP) and the
// fail-fast window. Down/backoff time runs on a FakeClock; socket timeouts are real.
#include "metric_value.h"
#include <QtTest>

#include <csignal>
#include <fstream>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <prometheus/registry.h>

#include "loop_thread.h"
#include "redis_server.h"
#include "runtime/clock.h"
#include "runtime/http_server.h"
#include "runtime/redis/async_redis.h"

using namespace mambogo::runtime;
using namespace mambogo::runtime::redis;
using namespace std::chrono_literals;
using Type = RedisReply::Type;
using mambogo::test::LoopThread;

namespace {

struct Answer {
  RedisReply reply;
  std::thread::id thread;
};

// One command issued on `loop`; waits (bounded) for its reply.
Answer ask(LoopThread& loop, AsyncRedis& redis, std::vector<std::string> args) {
  auto promise = std::make_shared<std::promise<Answer>>();
  auto future = promise->get_future();
  loop.post([&redis, args = std::move(args), promise] {
    std::vector<std::string_view> argv(args.begin(), args.end());
    redis.command_argv(argv, [promise](RedisReply r) { promise->set_value({std::move(r), std::this_thread::get_id()}); });
  });
  if (future.wait_for(10s) != std::future_status::ready) throw std::runtime_error("no reply within 10 s");
  return future.get();
}

RedisOptions options_for(const mambogo::test::RedisServer& server) {
  RedisOptions o;
  o.port = server.port();
  o.connect_timeout = 500ms;
  o.command_timeout = 300ms;
  o.backoff_initial = 1s;
  o.backoff_max = 8s;
  return o;
}

pid_t redis_pid(const mambogo::test::RedisServer& server) {
  std::ifstream in(server.dir() + "/redis.pid");
  pid_t pid = -1;
  in >> pid;
  return pid;
}

}  // namespace

class TestAsyncRedis : public QObject {
  Q_OBJECT
 private slots:
  void repliesAreTypedBinarySafeAndOnTheCallingLoop() {
    mambogo::test::RedisServer server;
    FakeClock clock;
    LoopThread loop;
    AsyncRedis redis(options_for(server), nullptr, clock);
    const std::string key("bin\0key", 7);
    const std::string value("a\0b\r\n\xff\0", 7);
    Answer set = ask(loop, redis, {"SET", key, value});
    QCOMPARE(set.reply.type, Type::status);
    QCOMPARE(set.reply.str, std::string("OK"));
    QCOMPARE(set.thread, loop.id());
    QCOMPARE(ask(loop, redis, {"GET", key}).reply.str, value);
    QCOMPARE(ask(loop, redis, {"GET", "missing"}).reply.type, Type::nil);
    QCOMPARE(ask(loop, redis, {"INCRBY", "n", "41"}).reply.integer, 41LL);
    const Answer err = ask(loop, redis, {"LPUSH", key, "x"});  // WRONGTYPE: an answer, not an outage
    QCOMPARE(err.reply.type, Type::error);
    QVERIFY(err.reply.str.starts_with("WRONGTYPE"));
    QCOMPARE(redis.health_check().status, HealthStatus::up);
    QCOMPARE(redis.stats().connects, std::uint64_t(1));
  }

  void callersOffTheLoopsAreServedByTheClientsOwnLoop() {
    mambogo::test::RedisServer server;
    FakeClock clock;
    AsyncRedis redis(options_for(server), nullptr, clock);
    std::promise<std::thread::id> done;
    const std::string_view argv[] = {"PING"};
    redis.command_argv(argv, [&done](RedisReply r) {
      QCOMPARE(r.str, std::string("PONG"));
      done.set_value(std::this_thread::get_id());
    });
    auto future = done.get_future();
    QCOMPARE(future.wait_for(10s), std::future_status::ready);
    QVERIFY(future.get() != std::this_thread::get_id());
  }

  void pipelinedRepliesKeepTheirOrderWithOneConnectionPerLoop() {
    mambogo::test::RedisServer server;
    prometheus::Registry registry;
    FakeClock clock;
    LoopThread a, b;
    AsyncRedis redis(options_for(server), &registry, clock);
    const long long connections_before = server.info_field("stats", "total_connections_received");
    constexpr int kPerLoop = 300;
    struct Seen {
      std::vector<long long> own;
      std::promise<void> all;
    };
    Seen seen_a, seen_b;
    // Every command issued in one go from the loop: they are in flight together on one connection.
    auto burst = [&redis](Seen& seen, std::string own_key) {
      for (int i = 0; i < kPerLoop; ++i) {
        const std::string_view shared[] = {"INCR", "shared"};
        redis.command_argv(shared, [](RedisReply) {});
        const std::string_view own[] = {"INCR", own_key};
        redis.command_argv(own, [&seen](RedisReply r) {
          seen.own.push_back(r.integer);
          if (seen.own.size() == kPerLoop) seen.all.set_value();
        });
      }
    };
    a.post([&] { burst(seen_a, "a"); });
    b.post([&] { burst(seen_b, "b"); });
    QCOMPARE(seen_a.all.get_future().wait_for(10s), std::future_status::ready);
    QCOMPARE(seen_b.all.get_future().wait_for(10s), std::future_status::ready);
    for (int i = 0; i < kPerLoop; ++i) {
      QCOMPARE(seen_a.own[i], i + 1LL);
      QCOMPARE(seen_b.own[i], i + 1LL);
    }
    QCOMPARE(server.query({"GET", "shared"}), std::to_string(2 * kPerLoop));
    // One connection per loop; the other two are the oracle's GET and this INFO.
    QCOMPARE(redis.stats().connects, std::uint64_t(2));
    QCOMPARE(redis.stats().connections, 2);
    QCOMPARE(server.info_field("stats", "total_connections_received") - connections_before, 2LL + 2LL);
    QCOMPARE(mambogo::test::metric_value(registry, "redis_async_connections"), 2.0);
    QCOMPARE(mambogo::test::metric_value(registry, "redis_async_commands_total", {{"result", "ok"}}),
             4.0 * kPerLoop);
  }

  void anIdleConnectionTheServerClosesIsReplacedWithoutAFailure() {
    mambogo::test::RedisServer server;
    FakeClock clock;
    LoopThread loop;
    AsyncRedis redis(options_for(server), nullptr, clock);
    QCOMPARE(ask(loop, redis, {"PING"}).reply.str, std::string("PONG"));
    server.query({"CLIENT", "KILL", "TYPE", "normal"});  // every client but the oracle's
    QTRY_COMPARE_WITH_TIMEOUT(redis.stats().connections, 0, 5000);
    QCOMPARE(ask(loop, redis, {"PING"}).reply.str, std::string("PONG"));
    QCOMPARE(redis.stats().connects, std::uint64_t(2));
    QCOMPARE(redis.stats().fast_failures, std::uint64_t(0));
    QCOMPARE(redis.health_check().status, HealthStatus::up);
  }

  void aStoppedRedisFailsFastUntilTheBackoffPassesThenRecovers() {
    mambogo::test::RedisServer server;
    prometheus::Registry registry;
    FakeClock clock;
    LoopThread loop;
    AsyncRedis redis(options_for(server), &registry, clock);
    QCOMPARE(ask(loop, redis, {"SET", "k", "before"}).reply.type, Type::status);
    QCOMPARE(mambogo::test::metric_value(registry, "redis_async_up"), 1.0);
    server.stop();
    QCOMPARE(ask(loop, redis, {"GET", "k"}).reply.type, Type::unavailable);
    QCOMPARE(redis.health_check().status, HealthStatus::degraded);
    QCOMPARE(mambogo::test::metric_value(registry, "redis_async_up"), 0.0);

    // Down: refused without touching the network, even once Redis is back, until the backoff.
    server.start();
    const long long connections = server.info_field("stats", "total_connections_received");
    const Answer fast = ask(loop, redis, {"GET", "k"});
    QCOMPARE(fast.reply.type, Type::unavailable);
    QVERIFY2(fast.reply.str.find("is down") != std::string::npos, fast.reply.str.c_str());
    QCOMPARE(fast.thread, loop.id());
    QCOMPARE(redis.stats().fast_failures, std::uint64_t(1));
    QCOMPARE(server.info_field("stats", "total_connections_received"), connections + 1);  // INFO's own

    clock.advance(1s);
    QCOMPARE(ask(loop, redis, {"SET", "k", "after"}).reply.type, Type::status);  // the probe
    QCOMPARE(ask(loop, redis, {"GET", "k"}).reply.str, std::string("after"));
    QCOMPARE(redis.health_check().status, HealthStatus::up);
    QCOMPARE(mambogo::test::metric_value(registry, "redis_async_up"), 1.0);
  }

  void aHungRedisTimesOutEveryPipelinedCommand() {
    mambogo::test::RedisServer server;
    FakeClock clock;
    LoopThread loop;
    AsyncRedis redis(options_for(server), nullptr, clock);
    QCOMPARE(ask(loop, redis, {"PING"}).reply.str, std::string("PONG"));
    const pid_t pid = redis_pid(server);
    QVERIFY(pid > 0);
    QCOMPARE(::kill(pid, SIGSTOP), 0);
    auto resume = qScopeGuard([pid] { ::kill(pid, SIGCONT); });

    // Three commands in flight together on the hung connection: all fail, none waits forever.
    auto results = std::make_shared<std::vector<RedisReply>>();
    auto all = std::make_shared<std::promise<void>>();
    const auto t0 = std::chrono::steady_clock::now();
    loop.post([&redis, results, all] {
      for (int i = 0; i < 3; ++i) {
        const std::string_view argv[] = {"INCR", "hung"};
        redis.command_argv(argv, [results, all](RedisReply r) {
          results->push_back(std::move(r));
          if (results->size() == 3) all->set_value();
        });
      }
    });
    QCOMPARE(all->get_future().wait_for(10s), std::future_status::ready);
    QVERIFY(std::chrono::steady_clock::now() - t0 >= 250ms);  // not before the command timeout
    for (const RedisReply& r : *results) {
      QCOMPARE(r.type, Type::unavailable);
      QVERIFY2(r.str.find("timed out") != std::string::npos, r.str.c_str());
    }
    QCOMPARE(redis.stats().timeouts, std::uint64_t(1));
    QCOMPARE(ask(loop, redis, {"PING"}).reply.type, Type::unavailable);  // down: fails fast
    QCOMPARE(redis.stats().fast_failures, std::uint64_t(1));

    ::kill(pid, SIGCONT);
    clock.advance(1s);
    QCOMPARE(ask(loop, redis, {"PING"}).reply.str, std::string("PONG"));
    QCOMPARE(redis.health_check().status, HealthStatus::up);
  }

  // The first command on a new connection has its own deadline too: with connect_timeout
  // longer than command_timeout it used to wait for the connect deadline's timer instead.
  void aCommandJustAfterConnectingTimesOutAtItsOwnDeadline() {
    mambogo::test::RedisServer server;
    FakeClock clock;
    LoopThread loop;
    RedisOptions options = options_for(server);
    options.connect_timeout = 5s;
    options.command_timeout = 200ms;
    AsyncRedis redis(options, nullptr, clock);
    QCOMPARE(ask(loop, redis, {"PING"}).reply.str, std::string("PONG"));  // connected: timer armed for +5 s
    const pid_t pid = redis_pid(server);
    QVERIFY(pid > 0);
    QCOMPARE(::kill(pid, SIGSTOP), 0);
    auto resume = qScopeGuard([pid] { ::kill(pid, SIGCONT); });
    const auto t0 = std::chrono::steady_clock::now();
    const Answer hung = ask(loop, redis, {"INCR", "hung"});
    const auto waited = std::chrono::steady_clock::now() - t0;
    QCOMPARE(hung.reply.type, Type::unavailable);
    QVERIFY2(hung.reply.str.find("timed out") != std::string::npos, hung.reply.str.c_str());
    QVERIFY(waited >= 200ms);
    QVERIFY2(waited < 3s, qPrintable(QString::number(std::chrono::duration<double>(waited).count()) + " s"));
  }

  void onlyOneCommandProbesWhileTheOthersFailFast() {
    mambogo::test::RedisServer server;
    FakeClock clock;
    LoopThread loop;
    AsyncRedis redis(options_for(server), nullptr, clock);
    QCOMPARE(ask(loop, redis, {"PING"}).reply.str, std::string("PONG"));
    server.stop();
    QCOMPARE(ask(loop, redis, {"PING"}).reply.type, Type::unavailable);
    server.start();
    clock.advance(1s);
    // Issued together: the first probes, the rest are refused while it is out.
    auto results = std::make_shared<std::vector<RedisReply>>();
    auto all = std::make_shared<std::promise<void>>();
    loop.post([&redis, results, all] {
      for (int i = 0; i < 4; ++i) {
        const std::string_view argv[] = {"PING"};
        redis.command_argv(argv, [results, all](RedisReply r) {
          results->push_back(std::move(r));
          if (results->size() == 4) all->set_value();
        });
      }
    });
    QCOMPARE(all->get_future().wait_for(10s), std::future_status::ready);
    int pongs = 0;
    for (const RedisReply& r : *results) pongs += r.str == "PONG" ? 1 : 0;
    QCOMPARE(pongs, 1);
    QCOMPARE(ask(loop, redis, {"PING"}).reply.str, std::string("PONG"));
  }

  void destroyingTheClientAnswersWhatIsOutstanding_data() {
    QTest::addColumn<bool>("loopStillRunning");
    QTest::newRow("on its running loop") << true;
    QTest::newRow("after its loop ended") << false;
  }
  void destroyingTheClientAnswersWhatIsOutstanding() {
    QFETCH(bool, loopStillRunning);
    mambogo::test::RedisServer server;
    FakeClock clock;
    auto o = options_for(server);
    o.command_timeout = 30s;
    LoopThread loop;
    auto redis = std::make_unique<AsyncRedis>(o, nullptr, clock);
    auto answered = std::make_shared<std::promise<Answer>>();
    loop.post([&redis, answered] {
      const std::string_view argv[] = {"BLPOP", "never", "20"};
      redis->command_argv(argv, [answered](RedisReply r) { answered->set_value({std::move(r), std::this_thread::get_id()}); });
    });
    QTRY_COMPARE_WITH_TIMEOUT(server.info_field("clients", "blocked_clients"), 1LL, 5000);
    if (!loopStillRunning) loop.stop();
    const auto t0 = std::chrono::steady_clock::now();
    redis.reset();
    QVERIFY(std::chrono::steady_clock::now() - t0 < 5s);
    auto future = answered->get_future();
    QCOMPARE(future.wait_for(1s), std::future_status::ready);
    const Answer a = future.get();
    QCOMPARE(a.reply.type, Type::unavailable);
    QCOMPARE(a.thread, loopStillRunning ? loop.id() : std::this_thread::get_id());
  }

  void refusesNonsenseOptions() {
    FakeClock clock;
    RedisOptions o;
    o.command_timeout = 0ms;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, AsyncRedis(o, nullptr, clock));
    o = RedisOptions{};
    o.backoff_max = 1ms;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, AsyncRedis(o, nullptr, clock));
  }
};

QTEST_APPLESS_MAIN(TestAsyncRedis)
#include "tst_async_redis.moc"
