// payment-service as a real process over real sockets: on SQLite, and on a real PostgreSQL
// primary + streaming replica. Idempotency under concurrency, declines, outages with
// Retry-After and recovery, the breaker opening and closing (as /metrics shows it), who may
// see a payment, and bad input.
#include <QtTest>

#include <future>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "pg_cluster.h"
#include "service_process.h"

using namespace mambogo::test;
using namespace std::chrono_literals;

namespace {

const std::string kOrderA = "6f1c2c1e-3a5b-4c8e-9a0f-1b2c3d4e5f60";
const std::string kOrderB = "0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f70";

std::string order_id(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
  return buf;
}

std::string payment_body(const std::string& order, const std::string& user = "user-1", double amount = 49.99) {
  return nlohmann::json{{"orderId", order}, {"userId", user}, {"amount", amount}, {"currency", "USD"},
                        {"paymentMethod", "CREDIT_CARD"}}
      .dump();
}

// A payment-service on its own SQLite file (or the given DB_URL), provider latency 0 unless
// the test says otherwise.
class Payment : public ServiceProcess {
 public:
  explicit Payment(const QStringList& env, const QString& data_dir)
      : ServiceProcess(MAMBOGO_PAYMENT_BINARY, QStringList{"DATA_DIR=" + data_dir, "PROVIDER_LATENCY_P50_MS=0",
                                                           "PROVIDER_SEED=7"} +
                                                   env) {}
  RawResponse pay(const Tokens& t, const std::string& order, double amount = 49.99) const {
    return request("POST", "/api/payments", payment_body(order, "user-1", amount), t.service());
  }
  double charges(const std::string& result) const { return scrape(port, "provider_charges_total", {{"result", result}}); }
  double breaker(const std::string& state) const {
    return scrape(port, "resilience4j_circuitbreaker_state", {{"name", "payment-provider"}, {"state", state}});
  }
};

// 20 identical POSTs at once: one charge, one 201, nineteen 200 with the same payment.
void check_concurrent_requests_charge_once(const Payment& p, const Tokens& t) {
  std::vector<std::future<RawResponse>> calls;
  for (int i = 0; i < 20; ++i)
    calls.push_back(std::async(std::launch::async, [&] { return p.pay(t, kOrderA); }));
  int created = 0, replayed = 0;
  std::set<std::string> payment_ids;
  for (auto& c : calls) {
    RawResponse r = c.get();
    QVERIFY2(r.status == 201 || r.status == 200, r.body.c_str());
    (r.status == 201 ? created : replayed)++;
    auto j = p.json_of(r);
    QCOMPARE(j["status"].get<std::string>(), std::string("CAPTURED"));
    QCOMPARE(j["attempts"].get<int>(), 1);
    payment_ids.insert(j["paymentId"].get<std::string>());
  }
  QCOMPARE(created, 1);
  QCOMPARE(replayed, 19);
  QCOMPARE(payment_ids.size(), std::size_t{1});
  QCOMPARE(p.charges("captured"), 1.0);
  QCOMPARE(p.charges("replayed"), 0.0);  // the row said CAPTURED: the provider was not asked again
}

void check_decline_is_terminal(const Payment& p, const Tokens& t) {
  QVERIFY(p.set(t, {{"provider.decline-rate", 1.0}}));
  RawResponse r = p.pay(t, kOrderB);
  QCOMPARE(r.status, 402);
  QCOMPARE(p.json_of(r)["error"].get<std::string>(), std::string("payment_declined"));
  QVERIFY(p.set(t, {{"provider.decline-rate", 0.0}}));
  QCOMPARE(p.pay(t, kOrderB).status, 402);  // terminal: not charged again when the card would pass
  QCOMPARE(p.charges("declined"), 1.0);
  auto g = p.request("GET", "/api/payments/" + kOrderB, {}, t.user("user-1"));
  QCOMPARE(g.status, 200);
  QCOMPARE(p.json_of(g)["status"].get<std::string>(), std::string("DECLINED"));
}

}  // namespace

class TestPaymentService : public QObject {
  Q_OBJECT
 private slots:
  void init() {
    dir_ = std::make_unique<QTemporaryDir>();  // a fresh database file per test
    QVERIFY(dir_->isValid());
  }

  void twentyConcurrentIdenticalRequestsChargeOnce() {
    // Latency keeps the first charge in flight while the other nineteen arrive.
    Payment p({"PROVIDER_LATENCY_P50_MS=300", "PROVIDER_LATENCY_P99_MS=300"}, dir_->path());
    QVERIFY(p.wait_started() > 0);
    check_concurrent_requests_charge_once(p, tokens_);
    auto g = p.request("GET", "/api/payments/" + kOrderA, {}, tokens_.user("user-1"));
    QCOMPARE(g.status, 200);
    QCOMPARE(p.json_of(g)["amount"].get<double>(), 49.99);
    QCOMPARE(scrape(p.port, "payments_total", {{"status", "captured"}}), 1.0);
    QCOMPARE(scrape(p.port, "payment_processing_time_seconds_count"), 1.0);
  }

  void declineIs402AndTerminal() {
    Payment p({}, dir_->path());
    QVERIFY(p.wait_started() > 0);
    check_decline_is_terminal(p, tokens_);
  }

  void outageIs503WithRetryAfterThenRecovers_data() {
    QTest::addColumn<QString>("mode");
    QTest::newRow("calls fail") << "fail";
    QTest::newRow("calls hang until the time limiter") << "hang";
  }
  void outageIs503WithRetryAfterThenRecovers() {
    QFETCH(QString, mode);
    Payment p({"PROVIDER_TIMEOUT=200ms", "PROVIDER_RETRY_WAIT=10ms"}, dir_->path());
    QVERIFY(p.wait_started() > 0);
    QVERIFY(p.set(tokens_, {{"provider.outage", true}, {"provider.outage-mode", mode.toStdString()}}));
    RawResponse r = p.pay(tokens_, kOrderA);
    QCOMPARE(r.status, 503);
    QCOMPARE(p.json_of(r)["error"].get<std::string>(), std::string("payment_unavailable"));
    QVERIFY(std::stoi(r.header("retry-after")) >= 1);
    auto pending = p.json_of(p.request("GET", "/api/payments/" + kOrderA, {}, tokens_.service()));
    QCOMPARE(pending["status"].get<std::string>(), std::string("PENDING"));
    QCOMPARE(pending["attempts"].get<int>(), 3);  // the retry made every attempt it may
    QCOMPARE(p.charges("captured"), 0.0);

    QVERIFY(p.set(tokens_, {{"provider.outage", false}}));
    RawResponse again = p.pay(tokens_, kOrderA);
    QCOMPARE(again.status, 201);
    QCOMPARE(p.json_of(again)["attempts"].get<int>(), 4);
    QCOMPARE(p.charges("captured"), 1.0);
  }

  void breakerOpensThenClosesAsMetricsShow() {
    Payment p({"PROVIDER_RETRY_MAX_ATTEMPTS=1", "PROVIDER_BREAKER_WINDOW_SIZE=4", "PROVIDER_BREAKER_MINIMUM_CALLS=4",
               "PROVIDER_BREAKER_WAIT_IN_OPEN=5s", "PROVIDER_BREAKER_HALF_OPEN_CALLS=2"},
              dir_->path());
    QVERIFY(p.wait_started() > 0);
    QCOMPARE(p.breaker("closed"), 1.0);
    QVERIFY(p.set(tokens_, {{"provider.outage", true}}));
    for (int i = 0; i < 4; ++i) QCOMPARE(p.pay(tokens_, order_id(i)).status, 503);
    QCOMPARE(p.breaker("open"), 1.0);
    QCOMPARE(p.breaker("closed"), 0.0);
    auto health = p.json_of(p.request("GET", "/health"));
    QCOMPARE(health["components"]["payment-provider"]["status"].get<std::string>(), std::string("DEGRADED"));

    // Open (for 5 s, ample for the next request): rejected without reaching the provider.
    const double errors_before = p.charges("error");
    RawResponse rejected = p.pay(tokens_, order_id(4));
    QCOMPARE(rejected.status, 503);
    const int retry_after = std::stoi(rejected.header("retry-after"));
    QVERIFY(retry_after >= 1 && retry_after <= 5);  // what is left of the OPEN wait
    QCOMPARE(p.charges("error"), errors_before);
    QVERIFY(scrape(p.port, "resilience4j_circuitbreaker_not_permitted_calls_total", {{"name", "payment-provider"}}) >= 1);

    // The provider heals; after the wait the probes pass and the breaker closes.
    QVERIFY(p.set(tokens_, {{"provider.outage", false}}));
    QDeadlineTimer deadline(30s);
    int created = 0;
    for (int i = 5; created < 2 && !deadline.hasExpired(); ++i) {
      if (p.pay(tokens_, order_id(i)).status == 201) ++created;
      else std::this_thread::sleep_for(200ms);
    }
    QCOMPARE(created, 2);
    QCOMPARE(p.breaker("closed"), 1.0);
    health = p.json_of(p.request("GET", "/health"));
    QCOMPARE(health["components"]["payment-provider"]["status"].get<std::string>(), std::string("UP"));
  }

  void anotherAmountForTheSameOrderIs409() {
    Payment p({}, dir_->path());
    QVERIFY(p.wait_started() > 0);
    QCOMPARE(p.pay(tokens_, kOrderA, 10.00).status, 201);
    RawResponse r = p.pay(tokens_, kOrderA, 10.01);
    QCOMPARE(r.status, 409);
    QCOMPARE(p.json_of(r)["error"].get<std::string>(), std::string("payment_conflict"));
    QCOMPARE(p.charges("captured"), 1.0);
    auto g = p.json_of(p.request("GET", "/api/payments/" + kOrderA, {}, tokens_.service()));
    QCOMPARE(g["amount"].get<double>(), 10.0);
  }

  void onlyOwnerServiceOrAdminSeeAPayment() {
    Payment p({}, dir_->path());
    QVERIFY(p.wait_started() > 0);
    QCOMPARE(p.pay(tokens_, kOrderA).status, 201);
    const std::string path = "/api/payments/" + kOrderA;
    QCOMPARE(p.request("GET", path, {}, tokens_.user("user-1")).status, 200);
    QCOMPARE(p.request("GET", path, {}, tokens_.service()).status, 200);
    QCOMPARE(p.request("GET", path, {}, tokens_.admin()).status, 200);
    RawResponse foreign = p.request("GET", path, {}, tokens_.user("user-2"));
    QCOMPARE(foreign.status, 404);
    QCOMPARE(foreign.body.find(kOrderA) != std::string::npos, true);  // same answer as "no such payment"
    QCOMPARE(p.request("GET", "/api/payments/" + kOrderB, {}, tokens_.user("user-1")).status, 404);
    QCOMPARE(p.request("GET", path).status, 401);
    // Upper-case ids name the same payment.
    std::string upper = kOrderA;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    QCOMPARE(p.request("GET", "/api/payments/" + upper, {}, tokens_.user("user-1")).status, 200);
  }

  void chargingNeedsTheServiceOrAdminRole() {
    Payment p({}, dir_->path());
    QVERIFY(p.wait_started() > 0);
    QCOMPARE(p.request("POST", "/api/payments", payment_body(kOrderA)).status, 401);
    RawResponse user = p.request("POST", "/api/payments", payment_body(kOrderA), tokens_.user("user-1"));
    QCOMPARE(user.status, 403);
    QCOMPARE(p.request("POST", "/api/payments", payment_body(kOrderA), "Authorization: Bearer not.a.token\r\n").status, 401);
    QCOMPARE(p.charges("captured"), 0.0);
    QCOMPARE(p.request("GET", "/api/payments/" + kOrderA, {}, tokens_.service()).status, 404);  // nothing stored
    QCOMPARE(p.request("POST", "/api/payments", payment_body(kOrderA), tokens_.admin()).status, 201);
    QCOMPARE(p.request("GET", "/admin/settings", {}, tokens_.service()).status, 403);
    auto settings = p.json_of(p.request("GET", "/admin/settings", {}, tokens_.admin()));
    for (const char* name : {"provider.latency-p50-ms", "provider.latency-p99-ms", "provider.failure-rate",
                             "provider.decline-rate", "provider.outage", "provider.outage-mode"})
      QVERIFY2(settings.contains(name) && !settings[name]["help"].get<std::string>().empty(), name);
    QVERIFY(!p.set(tokens_, {{"provider.failure-rate", 1.5}}));  // out of range: refused
  }

  void badInputIs400AndChangesNothing_data() {
    QTest::addColumn<QString>("body");
    QTest::addColumn<int>("status");
    QTest::newRow("not JSON") << "{\"orderId\": " << 400;
    QTest::newRow("array") << "[1, 2]" << 400;
    QTest::newRow("no orderId") << R"({"userId":"u","amount":1,"paymentMethod":"CARD"})" << 400;
    QTest::newRow("orderId not a UUID") << R"({"orderId":"42","userId":"u","amount":1,"paymentMethod":"CARD"})" << 400;
    QTest::newRow("amount zero") << R"({"orderId":"6f1c2c1e-3a5b-4c8e-9a0f-1b2c3d4e5f60","userId":"u","amount":0,"paymentMethod":"CARD"})" << 400;
    QTest::newRow("amount three decimals") << R"({"orderId":"6f1c2c1e-3a5b-4c8e-9a0f-1b2c3d4e5f60","userId":"u","amount":1.005,"paymentMethod":"CARD"})" << 400;
    QTest::newRow("amount as text") << R"({"orderId":"6f1c2c1e-3a5b-4c8e-9a0f-1b2c3d4e5f60","userId":"u","amount":"1.00","paymentMethod":"CARD"})" << 400;
    QTest::newRow("currency lower case") << R"({"orderId":"6f1c2c1e-3a5b-4c8e-9a0f-1b2c3d4e5f60","userId":"u","amount":1,"currency":"usd","paymentMethod":"CARD"})" << 400;
    QTest::newRow("no paymentMethod") << R"({"orderId":"6f1c2c1e-3a5b-4c8e-9a0f-1b2c3d4e5f60","userId":"u","amount":1})" << 400;
    QTest::newRow("empty userId") << R"({"orderId":"6f1c2c1e-3a5b-4c8e-9a0f-1b2c3d4e5f60","userId":"","amount":1,"paymentMethod":"CARD"})" << 400;
  }
  void badInputIs400AndChangesNothing() {
    QFETCH(QString, body);
    QFETCH(int, status);
    Payment p({}, dir_->path());
    QVERIFY(p.wait_started() > 0);
    RawResponse r = p.request("POST", "/api/payments", body.toStdString(), tokens_.service());
    QCOMPARE(r.status, status);
    auto j = p.json_of(r);
    QVERIFY(j.contains("error") && j.contains("message") && j.contains("requestId"));
    QCOMPARE(p.request("GET", "/api/payments/" + kOrderA, {}, tokens_.service()).status, 404);
    QCOMPARE(p.request("GET", "/api/payments/not-a-uuid", {}, tokens_.service()).status, 400);
    QCOMPARE(p.charges("captured") + p.charges("declined") + p.charges("error"), 0.0);
  }

  void wrongContentTypeIs415() {
    Payment p({}, dir_->path());
    QVERIFY(p.wait_started() > 0);
    auto r = http_request(p.port, "POST", "/api/payments", payment_body(kOrderA),
                          tokens_.service() + "Content-Type: text/plain\r\n");
    QVERIFY(r);
    QCOMPARE(r->status, 415);
  }

  void postgresPrimaryAndReplica() {
    if (!mambogo::testing::PgCluster::available()) QSKIP("PostgreSQL 15 binaries not installed");
    mambogo::testing::PgCluster pg;
    Payment p({"DB_URL=" + QString::fromStdString(pg.primary_conninfo()),
               "DB_REPLICA_URL=" + QString::fromStdString(pg.replica_conninfo()), "PROVIDER_LATENCY_P50_MS=300",
               "PROVIDER_LATENCY_P99_MS=300"},
              dir_->path());
    QVERIFY(p.wait_started() > 0);
    auto health = p.json_of(p.request("GET", "/health"));
    QCOMPARE(health["components"]["db"]["status"].get<std::string>(), std::string("UP"));
    check_concurrent_requests_charge_once(p, tokens_);
    check_decline_is_terminal(p, tokens_);
    QCOMPARE(p.request("GET", "/api/payments/" + kOrderA, {}, tokens_.user("user-2")).status, 404);
    // Once the replica has caught up, reads go to it.
    QTRY_VERIFY_WITH_TIMEOUT(scrape(p.port, "db_replica_lag_seconds") >= 0 &&
                                 scrape(p.port, "db_replica_lag_seconds") < 1,
                             15'000);
    QCOMPARE(p.request("GET", "/api/payments/" + kOrderA, {}, tokens_.user("user-1")).status, 200);
    QVERIFY(scrape(p.port, "db_route_total", {{"target", "replica"}}) > 0);  // GETs were served by the replica

    // Two replicas of the service, each with its own provider: only the row lock
    // (SELECT ... FOR UPDATE) keeps them from charging one order twice.
    Payment twin({"DB_URL=" + QString::fromStdString(pg.primary_conninfo()), "PROVIDER_LATENCY_P50_MS=300",
                  "PROVIDER_LATENCY_P99_MS=300"},
                 dir_->path());
    QVERIFY(twin.wait_started() > 0);
    const std::string order = order_id(99);
    std::vector<std::future<RawResponse>> calls;
    for (int i = 0; i < 20; ++i)
      calls.push_back(std::async(std::launch::async, [&, i] { return (i % 2 ? twin : p).pay(tokens_, order); }));
    int created = 0;
    for (auto& c : calls) {
      const int status = c.get().status;
      QVERIFY(status == 201 || status == 200);
      created += status == 201;
    }
    QCOMPARE(created, 1);
    QCOMPARE(p.charges("captured") + twin.charges("captured"), 2.0);  // kOrderA earlier, and this one
  }

 private:
  Tokens tokens_;
  std::unique_ptr<QTemporaryDir> dir_;
};

QTEST_GUILESS_MAIN(TestPaymentService)
#include "tst_payment_service.moc"
