#include "metric_value.h"
#include <QtTest>

#include <cmath>
#include <map>
#include <optional>
#include <vector>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "runtime/resilience/retry.h"

using namespace mambogo::runtime;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {
double counter(prometheus::Registry& registry, const std::string& family, const prometheus::Labels& labels) {
  return mambogo::test::metric_value(registry, family, labels, NAN);
}

// What the jitter must be, computed independently of IntervalFunction: uniform in
// [i(1-f), i(1+f)) from the top 53 bits of the next mt19937_64 output.
std::int64_t expected_jitter(std::int64_t interval, double factor, std::mt19937_64& rng) {
  const double u = static_cast<double>(rng() >> 11) / 9007199254740992.0;  // 2^53
  const double low = static_cast<double>(interval) * (1 - factor);
  const double high = static_cast<double>(interval) * (1 + factor);
  return static_cast<std::int64_t>(low + u * (high - low));
}

struct Sleeps {
  std::vector<milliseconds> waits;
  void operator()(milliseconds d) { waits.push_back(d); }
};
}  // namespace

class TestRetry : public QObject {
  Q_OBJECT
 private slots:
  void defaultsAreResilience4jsAndEnvoys() {
    const RetryConfig c;
    QCOMPARE(c.max_attempts, 3);
    QVERIFY(!c.interval.is_randomized());
    std::mt19937_64 rng(1);
    for (int attempt = 1; attempt <= 5; ++attempt) QCOMPARE(c.interval(attempt, rng), milliseconds(500));
    QCOMPARE(IntervalFunction::kDefaultMultiplier, 1.5);
    QCOMPARE(IntervalFunction::kDefaultRandomizationFactor, 0.5);
    const RetryBudgetConfig budget;
    QCOMPARE(budget.budget_percent, 20.0);
    QCOMPARE(budget.min_retry_concurrency, 3);
  }

  void exponentialBackoffTruncatesEveryStepAsResilience4jDoes_data() {
    QTest::addColumn<int>("maxMs");  // 0: no cap
    QTest::addColumn<QList<int>>("waits");
    QTest::newRow("uncapped") << 0 << QList<int>{500, 750, 1125, 1687, 2530, 3795};
    QTest::newRow("capped at 2 s") << 2000 << QList<int>{500, 750, 1125, 1687, 2000, 2000};
  }
  void exponentialBackoffTruncatesEveryStepAsResilience4jDoes() {
    QFETCH(int, maxMs);
    QFETCH(QList<int>, waits);
    const auto f = IntervalFunction::exponential(
        500ms, 1.5, maxMs ? std::optional<milliseconds>(maxMs) : std::nullopt);
    std::mt19937_64 rng(7);
    const auto untouched = rng;
    for (int i = 0; i < waits.size(); ++i) QCOMPARE(f(i + 1, rng), milliseconds(waits[i]));
    QVERIFY(rng == untouched);  // no jitter, no draw
  }

  void jitterStaysInsideTheRandomizationBand() {
    const auto f = IntervalFunction::exponential_random(500ms);
    std::mt19937_64 rng(2024);
    for (int attempt = 1; attempt <= 4; ++attempt) {
      const double base = static_cast<double>(f.base(attempt).count());
      double low = 1e18, high = 0, sum = 0;
      const int n = 20000;
      for (int i = 0; i < n; ++i) {
        const double w = static_cast<double>(f(attempt, rng).count());
        low = std::min(low, w);
        high = std::max(high, w);
        sum += w;
      }
      QVERIFY(low >= std::floor(base * 0.5));
      QVERIFY(high < base * 1.5);
      // Uniform: both edges are reached closely and the mean sits in the middle.
      QVERIFY(low <= base * 0.5 + base * 0.01);
      QVERIFY(high >= base * 1.5 - base * 0.01 - 1);
      QVERIFY(std::abs(sum / n - base) < base * 0.02);
    }
  }

  void seededJitterGivesExactWaits() {
    const auto f = IntervalFunction::exponential_random(500ms, 1.5, 0.5);
    std::mt19937_64 rng(42), reference(42);
    const std::int64_t bases[] = {500, 750, 1125, 1687, 2530};
    for (int attempt = 1; attempt <= 5; ++attempt)
      QCOMPARE(f(attempt, rng).count(), expected_jitter(bases[attempt - 1], 0.5, reference));
    // The same seed replays the same waits; another seed does not.
    auto waits = [&](std::uint64_t seed) {
      std::mt19937_64 r(seed);
      std::vector<milliseconds> w;
      for (int attempt = 1; attempt <= 5; ++attempt) w.push_back(f(attempt, r));
      return w;
    };
    QCOMPARE(waits(42), waits(42));
    QVERIFY(waits(42) != waits(43));
  }

  void capAppliesAfterJitter() {
    const auto f = IntervalFunction::exponential_random(1000ms, 2.0, 0.5, 1500ms);
    std::mt19937_64 rng(5);
    for (int i = 0; i < 1000; ++i) QCOMPARE(f(3, rng), milliseconds(1500));  // 4000 +- 2000, capped
  }

  void retriesUntilSuccessWaitingTheConfiguredInterval() {
    Retry retry(RetryConfig{}, nullptr, nullptr, std::mt19937_64(1));
    Sleeps sleeps;
    int calls = 0;
    const int result = retry.execute(
        [&] {
          if (++calls < 3) throw std::runtime_error("connection reset");
          return 7;
        },
        std::ref(sleeps));
    QCOMPARE(result, 7);
    QCOMPARE(calls, 3);
    QCOMPARE(sleeps.waits, (std::vector<milliseconds>{500ms, 500ms}));
    QCOMPARE(retry.stats().successful_with_retry, std::uint64_t(1));
  }

  void givesUpAfterMaxAttemptsWithTheLastError() {
    RetryConfig c;
    c.max_attempts = 4;
    c.interval = IntervalFunction::exponential(100ms, 2.0);
    Retry retry(c, nullptr, nullptr, std::mt19937_64(1));
    Sleeps sleeps;
    int calls = 0;
    try {
      retry.execute([&] { throw std::runtime_error("attempt " + std::to_string(++calls)); }, std::ref(sleeps));
      QFAIL("no exception");
    } catch (const std::runtime_error& e) {
      QCOMPARE(std::string(e.what()), std::string("attempt 4"));
    }
    QCOMPARE(calls, 4);
    QCOMPARE(sleeps.waits, (std::vector<milliseconds>{100ms, 200ms, 400ms}));
    QCOMPARE(retry.stats().failed_with_retry, std::uint64_t(1));
  }

  void doesNotRetryErrorsOutsideThePredicate() {
    RetryConfig c;
    c.retry_on_exception = [](const std::exception& e) { return dynamic_cast<const std::runtime_error*>(&e) != nullptr; };
    Retry retry(c, nullptr, nullptr, std::mt19937_64(1));
    Sleeps sleeps;
    int calls = 0;
    QVERIFY_THROWS_EXCEPTION(std::logic_error,
                             retry.execute([&] { ++calls; throw std::logic_error("bad request"); }, std::ref(sleeps)));
    QCOMPARE(calls, 1);
    QVERIFY(sleeps.waits.empty());
    QCOMPARE(retry.stats().failed_without_retry, std::uint64_t(1));
  }

  void retriesOnlyTheConfiguredStatuses_data() {
    QTest::addColumn<QList<int>>("responses");
    QTest::addColumn<int>("attempts");
    QTest::addColumn<int>("returned");
    QTest::addColumn<QString>("kind");
    QTest::newRow("503 then 200") << QList<int>{503, 200} << 2 << 200 << "successful_with_retry";
    QTest::newRow("500 is not in the list") << QList<int>{500, 200} << 1 << 500 << "successful_without_retry";
    QTest::newRow("504 then 404") << QList<int>{504, 404} << 2 << 404 << "successful_with_retry";
    QTest::newRow("503 every time: last one returned") << QList<int>{503, 502, 503, 200} << 3 << 503
                                                       << "failed_with_retry";
  }
  void retriesOnlyTheConfiguredStatuses() {
    QFETCH(QList<int>, responses);
    QFETCH(int, attempts);
    QFETCH(int, returned);
    QFETCH(QString, kind);
    prometheus::Registry registry;
    RetryConfig c;
    c.name = "payment";
    c.retry_on_statuses = {502, 503, 504};
    Retry retry(c, nullptr, &registry, std::mt19937_64(1));
    Sleeps sleeps;
    int calls = 0;
    const int status = retry.execute([&] { return responses[calls++]; }, std::ref(sleeps),
                                     [&](const int& s) { return retry.is_retryable_status(s); });
    QCOMPARE(status, returned);
    QCOMPARE(calls, attempts);
    QCOMPARE(int(sleeps.waits.size()), attempts - 1);
    QCOMPARE(counter(registry, "resilience4j_retry_calls_total", {{"name", "payment"}, {"kind", kind.toStdString()}}), 1.0);
  }

  void jitteredWaitsAreReproducibleWithASeed() {
    RetryConfig c;
    c.max_attempts = 5;
    c.interval = IntervalFunction::exponential_random(500ms);
    Retry retry(c, nullptr, nullptr, std::mt19937_64(99));
    Sleeps sleeps;
    QVERIFY_THROWS_EXCEPTION(std::runtime_error,
                             retry.execute([] { throw std::runtime_error("down"); }, std::ref(sleeps)));
    std::mt19937_64 reference(99);
    const std::int64_t bases[] = {500, 750, 1125, 1687};
    QCOMPARE(int(sleeps.waits.size()), 4);
    for (int i = 0; i < 4; ++i) QCOMPARE(sleeps.waits[i].count(), expected_jitter(bases[i], 0.5, reference));
  }

  void maxAttemptsOfOneNeverRetries() {
    RetryConfig c;
    c.max_attempts = 1;
    Retry retry(c, nullptr, nullptr);
    auto call = retry.start();
    QVERIFY(!call.on_retryable_failure());
    QVERIFY(call.give_up() == Retry::GiveUp::attempts_exhausted);
    QCOMPARE(retry.stats().failed_without_retry, std::uint64_t(1));
  }

  void countsEachKindOnceInMetrics() {
    prometheus::Registry registry;
    RetryConfig c;
    c.name = "inventory";
    c.max_attempts = 2;
    Retry retry(c, nullptr, &registry, std::mt19937_64(1));
    {
      auto call = retry.start();
      call.on_success();
    }
    {
      auto call = retry.start();
      QVERIFY(call.on_retryable_failure());
      call.on_success();
    }
    {
      auto call = retry.start();
      call.on_failure();
    }
    {
      auto call = retry.start();
      QVERIFY(call.on_retryable_failure());
      QVERIFY(!call.on_retryable_failure());
      QVERIFY(!call.on_retryable_failure());  // finished: ignored, counted once
    }
    for (const char* kind : {"successful_without_retry", "successful_with_retry", "failed_without_retry", "failed_with_retry"})
      QCOMPARE(counter(registry, "resilience4j_retry_calls_total", {{"name", "inventory"}, {"kind", kind}}), 1.0);
    const auto text = prometheus::TextSerializer().Serialize(registry.Collect());
    QVERIFY(text.find("resilience4j_retry_calls_total{kind=\"failed_with_retry\",name=\"inventory\"} 1") != std::string::npos);
  }

  void budgetGrantsRetriesUpToTwentyPercentOfCallsInFlight_data() {
    QTest::addColumn<int>("inFlight");
    QTest::addColumn<int>("granted");
    QTest::newRow("2 calls: both, under the floor of 3") << 2 << 2;
    QTest::newRow("5 calls: the floor of 3") << 5 << 3;
    QTest::newRow("19 calls: 3.8 -> floor 3") << 19 << 3;
    QTest::newRow("20 calls: 4") << 20 << 4;
    QTest::newRow("100 calls: 20") << 100 << 20;
  }
  void budgetGrantsRetriesUpToTwentyPercentOfCallsInFlight() {
    QFETCH(int, inFlight);
    QFETCH(int, granted);
    prometheus::Registry registry;
    RetryBudget budget;
    RetryConfig c;
    c.name = "product";
    Retry retry(c, &budget, &registry, std::mt19937_64(1));
    std::vector<Retry::Call> calls;
    calls.reserve(static_cast<std::size_t>(inFlight));
    for (int i = 0; i < inFlight; ++i) calls.push_back(retry.start());
    QCOMPARE(budget.active_calls(), inFlight);
    int got = 0;
    for (auto& call : calls)
      if (call.on_retryable_failure()) ++got;
      else QVERIFY(call.give_up() == Retry::GiveUp::budget_exhausted);
    QCOMPARE(got, granted);
    QCOMPARE(budget.active_retries(), granted);
    QCOMPARE(retry.stats().budget_overflow, std::uint64_t(inFlight - granted));
    QCOMPARE(counter(registry, "retry_budget_overflow_total", {{"name", "product"}}), double(inFlight - granted));
  }

  void retrySlotIsFreedWhenTheRetriedAttemptReports() {
    RetryBudget budget({0.0, 1});  // exactly one retry in flight
    Retry retry(RetryConfig{}, &budget, nullptr, std::mt19937_64(1));
    auto a = retry.start();
    auto b = retry.start();
    QVERIFY(a.on_retryable_failure());
    QVERIFY(!b.on_retryable_failure());
    QVERIFY(b.give_up() == Retry::GiveUp::budget_exhausted);
    a.on_success();  // the retried attempt reported: its slot is free
    QCOMPARE(budget.active_retries(), 0);
    auto c = retry.start();
    QVERIFY(c.on_retryable_failure());
    // A retry that fails again frees its own slot before asking for the next, so with room for
    // one retry in flight the same call gets its second retry...
    QVERIFY(c.on_retryable_failure());
    QCOMPARE(budget.active_retries(), 1);
    // ...and its third failure ends it at max_attempts.
    QVERIFY(!c.on_retryable_failure());
    QVERIFY(c.give_up() == Retry::GiveUp::attempts_exhausted);
    QCOMPARE(budget.active_retries(), 0);
    QCOMPARE(budget.active_calls(), 0);
  }

  void budgetBoundsTheLoadOnAFailingDependency_data() {
    QTest::addColumn<bool>("withBudget");
    QTest::addColumn<int>("attempts");
    QTest::newRow("no budget: every call tries 3 times") << false << 300;
    // 100 first attempts; 20 retries (20% of 100 in flight); when those fail, 20 calls remain
    // in flight and only 3 (the floor) may retry again: 123.
    QTest::newRow("Envoy's budget") << true << 123;
  }
  void budgetBoundsTheLoadOnAFailingDependency() {
    QFETCH(bool, withBudget);
    QFETCH(int, attempts);
    RetryBudget budget;
    Retry retry(RetryConfig{}, withBudget ? &budget : nullptr, nullptr, std::mt19937_64(1));
    std::vector<Retry::Call> pending;
    for (int i = 0; i < 100; ++i) pending.push_back(retry.start());
    int sent = 0;
    while (!pending.empty()) {  // one round: every call in flight sends an attempt, which fails
      std::vector<Retry::Call> again;
      for (auto& call : pending) {
        ++sent;
        if (call.on_retryable_failure()) again.push_back(std::move(call));
      }
      pending = std::move(again);
    }
    QCOMPARE(sent, attempts);
    QCOMPARE(budget.active_calls(), 0);
    QCOMPARE(budget.active_retries(), 0);
  }

  void abandonedCallFreesItsBudgetShareAndCountsAsFailed() {
    RetryBudget budget;
    Retry retry(RetryConfig{}, &budget, nullptr, std::mt19937_64(1));
    {
      auto call = retry.start();
      QVERIFY(call.on_retryable_failure());
      QCOMPARE(budget.active_retries(), 1);
    }  // cancelled while waiting
    QCOMPARE(budget.active_retries(), 0);
    QCOMPARE(budget.active_calls(), 0);
    QCOMPARE(retry.stats().failed_with_retry, std::uint64_t(1));
  }

  void refusesInvalidConfig() {
    RetryConfig c;
    c.max_attempts = 0;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, Retry(c, nullptr, nullptr));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, IntervalFunction::fixed(0ms));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, IntervalFunction::randomized(100ms, 1.5));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, IntervalFunction::exponential(100ms, 0.0));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, RetryBudget({120.0, 3}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, RetryBudget({20.0, -1}));
    std::mt19937_64 rng(1);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, IntervalFunction()(0, rng));
  }
};

QTEST_APPLESS_MAIN(TestRetry)
#include "tst_retry.moc"
