// The load engine against a real HTTP server on loopback: rates, coordinated-omission
// correction, captures, weights, the seed's plans, errors and stopping. Timing is only ever
// asserted as a lower bound or with wide margins, so a slow machine cannot fail these tests.
#include <QtTest>
#include <thread>

#include "load/engine.h"
#include "load/plan_parsers.h"
#include "load_test_server.h"

using namespace mambogo::load;
using mambogo::test::LoadTestServer;
using namespace std::chrono_literals;

namespace {

const std::string scenarios_dir = MAMBOGO_SCENARIOS_DIR;

Step get(const std::string& url) {
  Step s;
  s.request.method = "GET";
  s.request.name = "GET " + url;
  s.request.url = Template::compile(url);
  return s;
}

Plan plan_of(const std::string& target, std::vector<Scenario> scenarios) {
  Plan p;
  p.format = "test";
  p.target = target;
  p.scenarios = std::move(scenarios);
  return p;
}

EngineOptions quiet_options() {
  EngineOptions o;
  o.seed = 12345;
  o.env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "AUTH_TOKEN") return std::string("test-token");
    return std::nullopt;
  };
  return o;
}

double ms(std::int64_t us) { return static_cast<double>(us) / 1000.0; }

}  // namespace

class TestLoadEngine : public QObject {
  Q_OBJECT

 private slots:
  void openModelSendsEveryScheduledArrivalAtItsRate() {
    LoadTestServer server;
    Plan plan = plan_of(server.url(), {{"hello", 1, {get("/hello")}}});
    use_constant_rate(plan, 100, 3);
    std::vector<Snapshot> snapshots;
    Summary s = Engine(plan, quiet_options()).run([&](const Snapshot& snap) { snapshots.push_back(snap); });

    // 100/s for 3 s is exactly 300 arrivals; none may be lost or added.
    QCOMPARE(s.overall.count, std::int64_t{300});
    QCOMPARE(s.dropped, std::int64_t{0});
    QCOMPARE(s.overall.failed, std::int64_t{0});
    QCOMPARE(server.hits("/hello"), std::int64_t{300});
    // Spread over the schedule (the engine never sends early), not fired in a burst.
    QVERIFY(server.first_to_last("/hello") >= 2900ms);
    QVERIFY(server.first_to_last("/hello") < 20s);
    QVERIFY(s.duration_s >= 3.0);
    // One snapshot a second, carrying the numbers the console charts.
    QVERIFY(snapshots.size() >= 3);
    QCOMPARE(snapshots[0].phase, std::string("constant rate"));
    std::int64_t total = 0;
    for (const auto& snap : snapshots) total += snap.requests;
    QCOMPARE(total, std::int64_t{300});
    QCOMPARE(snapshots.back().total_requests, std::int64_t{300});
    QVERIFY(snapshots[1].rps > 0);
    QVERIFY(snapshots[1].latency.p99 > 0);
  }

  void aStallShowsAsCorrectedLatencyNotAsALowerRate() {
    LoadTestServer server;
    Plan plan = plan_of(server.url(), {{"stall", 1, {get("/stall")}}});
    use_constant_rate(plan, 200, 4);
    EngineOptions o = quiet_options();
    o.max_in_flight = 4;  // like wrk2's connections: arrivals queue behind a stalled server
    server.stall_for(1200ms, 1000ms);
    Summary s = Engine(plan, o).run();

    QCOMPARE(s.overall.count, std::int64_t{800});  // the rate was kept: nothing dropped
    QCOMPARE(s.dropped, std::int64_t{0});
    const auto& corrected = s.overall.corrected;
    const auto& service = s.overall.service;
    qInfo("corrected p50 %.2f p99 %.2f max %.2f ms; uncorrected p50 %.2f p99 %.2f max %.2f ms",
          ms(corrected.value_at_percentile(50)), ms(corrected.value_at_percentile(99)), ms(corrected.max()),
          ms(service.value_at_percentile(50)), ms(service.value_at_percentile(99)), ms(service.max()));
    // About 200 arrivals fell into the 1 s stall and waited up to a second from their
    // intended time; only the 4 in flight saw it as service time.
    QVERIFY(ms(corrected.value_at_percentile(99)) >= 500);
    QVERIFY(ms(corrected.value_at_percentile(90)) >= 100);
    QVERIFY(ms(service.max()) >= 500);
    QVERIFY(service.value_at_percentile(99) * 5 <= corrected.value_at_percentile(99));
  }

  void arrivalsBeyondTheQueueAreDroppedAndCounted() {
    LoadTestServer server;
    Plan plan = plan_of(server.url(), {{"stall", 1, {get("/stall")}}});
    use_constant_rate(plan, 50, 2);
    EngineOptions o = quiet_options();
    o.max_in_flight = 1;
    o.max_queued = 0;  // k6's behaviour: no free slot, no start
    server.stall_for(0ms, 1500ms);
    Summary s = Engine(plan, o).run();
    QVERIFY(s.dropped > 0);
    QCOMPARE(s.overall.count + s.dropped, std::int64_t{100});  // every arrival accounted for
  }

  void capturedValuesFlowIntoLaterSteps() {
    LoadTestServer server;
    Scenario sc{"orders", 1, {}};
    Step post;
    post.request.method = "POST";
    post.request.name = "create";
    post.request.url = Template::compile("/api/orders");
    post.request.json = JsonTemplate::compile({{"quantity", "{{ $randomInt(1, 5) }}"}, {"note", "fixed"}});
    post.request.headers.push_back({"X-Idempotency-Key", Template::compile("{{ $randomUUID() }}")});
    post.request.captures.push_back({JsonPath::compile("$.orderId"), "orderId"});
    sc.steps.push_back(post);
    Step loop;
    loop.kind = Step::Kind::loop;
    loop.loop_count = 2;
    loop.loop_steps.push_back(get("/api/orders/{{ orderId }}"));
    sc.steps.push_back(loop);
    Plan plan = plan_of(server.url(), {sc});
    VuGroup g;
    g.vus = 3;
    g.loops = 5;
    plan.groups = {g};
    Summary s = Engine(plan, quiet_options()).run();

    QCOMPARE(server.hits("POST /api/orders"), std::int64_t{15});
    QCOMPARE(server.hits("GET /api/orders/{id}"), std::int64_t{30});
    QCOMPARE(server.unknown_order_reads, std::int64_t{0});  // every read used a captured id
    QCOMPARE(s.overall.failed, std::int64_t{0});
    QCOMPARE(s.iterations_completed, std::int64_t{15});
    QCOMPARE(server.idempotency_keys.size(), std::size_t{15});  // a fresh UUID per request
    QCOMPARE(*server.content_types.begin(), std::string("application/json"));
    for (const auto& body : server.order_bodies) {
      auto j = nlohmann::json::parse(body);
      int q = std::stoi(j.at("quantity").get<std::string>());
      QVERIFY(q >= 1 && q <= 5);
      QCOMPARE(j.at("note").get<std::string>(), std::string("fixed"));
    }
    QCOMPARE(s.requests.size(), std::size_t{2});
    QCOMPARE(s.requests[1].name, std::string("GET /api/orders/{{ orderId }}"));  // bounded names
  }

  void aFailedCaptureEndsTheIterationAndIsReported() {
    LoadTestServer server;
    Scenario sc{"x", 1, {get("/api/products"), get("/hello")}};
    sc.steps[0].request.captures.push_back({JsonPath::compile("$.missing"), "v"});
    Plan plan = plan_of(server.url(), {sc});
    VuGroup g;
    g.vus = 1;
    g.loops = 3;
    plan.groups = {g};
    Summary s = Engine(plan, quiet_options()).run();
    QCOMPARE(server.hits("/hello"), std::int64_t{0});
    QCOMPARE(s.overall.errors.at("capture failed: $.missing"), std::int64_t{3});
    QCOMPARE(s.iterations_completed, std::int64_t{0});
  }

  void payloadRowsAndAssertionsApplyPerIteration() {
    LoadTestServer server;
    Scenario sc{"rows", 1, {get("{{ path }}")}};
    Assertion body_is_a;
    body_is_a.field = Assertion::Field::body;
    body_is_a.match = Assertion::Match::equals;
    body_is_a.patterns = {"a"};
    sc.steps[0].request.assertions.push_back(body_is_a);
    Plan plan = plan_of(server.url(), {sc});
    plan.payloads.push_back({"rows.csv", {"path"}, {{"/a"}, {"/b"}, {"/b"}, {"/b"}}, true});
    VuGroup g;
    g.vus = 1;
    g.loops = 8;
    plan.groups = {g};
    Summary s = Engine(plan, quiet_options()).run();
    QCOMPARE(server.hits("/a"), std::int64_t{2});  // rows in order, recycled
    QCOMPARE(server.hits("/b"), std::int64_t{6});
    QCOMPARE(s.overall.failed, std::int64_t{6});   // the body of /b is not "a"
    QCOMPARE(s.overall.errors.at("assertion failed"), std::int64_t{6});
    QCOMPARE(s.iterations_completed, std::int64_t{8});  // a failed assertion does not end the flow
  }

  void scenarioWeightsAreHonoured() {
    LoadTestServer server;
    Plan plan = plan_of(server.url(), {{"a", 3, {get("/a")}}, {"b", 1, {get("/b")}}});
    VuGroup g;
    g.vus = 4;
    g.loops = 500;
    plan.groups = {g};
    Summary s = Engine(plan, quiet_options()).run();
    double a = static_cast<double>(server.hits("/a")), b = static_cast<double>(server.hits("/b"));
    QCOMPARE(a + b, 2000.0);
    // p = 0.75, n = 2000: the standard deviation of the share is 0.0097; allow 5 of them.
    QVERIFY2(std::abs(a / (a + b) - 0.75) < 0.0485, qPrintable(QString::number(a / (a + b))));
    QCOMPARE(s.scenarios.at("a") + s.scenarios.at("b"), std::int64_t{2000});
  }

  void seedArtilleryPlanRunsScaledDown() {
    LoadTestServer server;
    Plan plan = parse_plan(scenarios_dir + "/artillery-load-test.yml");
    scale(plan, 0.5, 0.01);  // 5, 25, 50 arrivals/s over 0.6 s, 3 s, 1.2 s
    EngineOptions o = quiet_options();
    o.target = server.url();
    Summary s = Engine(plan, o).run();

    std::int64_t orders = s.scenarios.at("Order Creation Flow"),
                 browsing = s.scenarios.at("Product Browsing");
    QCOMPARE(orders + browsing + s.dropped, std::int64_t{3 + 75 + 60});
    QCOMPARE(s.dropped, std::int64_t{0});
    QCOMPARE(server.hits("POST /api/orders"), orders);
    QCOMPARE(server.hits("GET /api/orders/{id}"), orders);  // the captured orderId was used
    QCOMPARE(server.unknown_order_reads, std::int64_t{0});
    QCOMPARE(server.hits("GET /api/products"), browsing);
    QCOMPARE(server.hits("GET /api/products/{id}"), browsing);
    QVERIFY(orders > browsing);  // 70/30
    QCOMPARE(server.authorizations, (std::set<std::string>{"Bearer test-token"}));
    QCOMPARE(server.idempotency_keys.size(), static_cast<std::size_t>(orders));
    QCOMPARE(s.overall.failed, std::int64_t{0});
  }

  void seedJMeterPlanRunsScaledDown() {
    LoadTestServer server;
    Plan plan = parse_plan(scenarios_dir + "/order-load-test.jmx");
    scale(plan, 0.05, 0.01);  // 5 threads, 0.6 s ramp-up, 10 loops each
    EngineOptions o = quiet_options();
    o.target = server.url();
    Summary s = Engine(plan, o).run();
    QCOMPARE(server.hits("POST /api/orders"), std::int64_t{50});
    QCOMPARE(s.overall.count, std::int64_t{50});
    QCOMPARE(s.requests.at(0).name, std::string("Create Order"));
    QCOMPARE(server.authorizations, (std::set<std::string>{"Bearer test-token"}));  // ${__P(AUTH_TOKEN,)}
    // As JMeter does, the sampler's argument travels as a form field, not as a header.
    QVERIFY(server.idempotency_keys.empty());
    QVERIFY(QString::fromStdString(server.order_bodies.at(0)).startsWith("X-Idempotency-Key="));
  }

  void transportErrorsAndTimeoutsAreCountedPerReason() {
    std::uint16_t closed_port = 0;
    {
      LoadTestServer gone;
      closed_port = gone.port();
    }
    Plan refused = plan_of("http://127.0.0.1:" + std::to_string(closed_port), {{"x", 1, {get("/hello")}}});
    use_constant_rate(refused, 20, 0.5);
    Summary r = Engine(refused, quiet_options()).run();
    QCOMPARE(r.overall.count, std::int64_t{10});
    QCOMPARE(r.overall.failed, std::int64_t{10});
    QCOMPARE(r.overall.classes.transport, std::int64_t{10});
    QCOMPARE(r.overall.errors.at("connect refused"), std::int64_t{10});

    LoadTestServer server;
    server.stall_for(0ms, 3000ms);
    Plan slow = plan_of(server.url(), {{"x", 1, {get("/stall")}}});
    use_constant_rate(slow, 10, 0.5);
    EngineOptions o = quiet_options();
    o.request_timeout = 200ms;
    Summary t = Engine(slow, o).run();
    QCOMPARE(t.overall.errors.at("request timeout"), std::int64_t{5});
  }

  void stopEndsARunPromptly() {
    LoadTestServer server;
    Plan plan = plan_of(server.url(), {{"x", 1, {get("/hello")}}});
    use_constant_vus(plan, 4, 600);
    Engine engine(plan, quiet_options());
    std::thread stopper([&] {
      std::this_thread::sleep_for(500ms);
      engine.stop();
    });
    auto begin = std::chrono::steady_clock::now();
    Summary s = engine.run();
    stopper.join();
    QVERIFY(std::chrono::steady_clock::now() - begin < 60s);
    QVERIFY(s.stopped_early);
    QVERIFY(s.overall.count > 0);
  }

  void severalThreadsShareTheLoadExactly() {
    LoadTestServer server;
    Plan plan = plan_of(server.url(), {{"hello", 1, {get("/hello")}}});
    use_constant_rate(plan, 200, 1);
    EngineOptions o = quiet_options();
    o.threads = 3;
    Summary s = Engine(plan, o).run();
    QCOMPARE(s.overall.count, std::int64_t{200});
    QCOMPARE(server.hits("/hello"), std::int64_t{200});
    QCOMPARE(s.overall.corrected.total_count(), std::int64_t{200});  // merged histograms
  }

  void plansThatCannotRunAreRejected() {
    Plan none = plan_of("http://127.0.0.1:9", {{"x", 1, {get("/")}}});
    QVERIFY_THROWS_EXCEPTION(PlanError, Engine(none, quiet_options()));
    Plan https = plan_of("https://127.0.0.1:9", {{"x", 1, {get("/")}}});
    use_constant_rate(https, 1, 1);
    try {
      Engine e(https, quiet_options());
      QFAIL("https accepted");
    } catch (const PlanError& e) {
      QVERIFY(QString(e.what()).contains("https is not supported"));
    }
  }
};

QTEST_GUILESS_MAIN(TestLoadEngine)
#include "tst_load_engine.moc"
