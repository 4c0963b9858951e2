// Load plans without sockets: templates, JSON paths, the Artillery and JMeter readers (the
// seed's own plans included) and the errors a user gets for plans we cannot run.
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>

#include "load/json_path.h"
#include "load/plan_parsers.h"
#include "load/text_template.h"

using namespace mambogo::load;

namespace {

const std::string scenarios_dir = MAMBOGO_SCENARIOS_DIR;

struct Renderer {
  Variables vars;
  Variables properties;
  std::mt19937_64 rng{1};
  EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "AUTH_TOKEN") return std::string("t0k3n");
    return std::nullopt;
  };
  std::string operator()(const std::string& text) {
    RenderContext ctx{vars, rng, env, properties, "vu-uuid"};
    return Template::compile(text).render(ctx);
  }
};

std::string write(const QTemporaryDir& dir, const std::string& name, const std::string& content) {
  std::string path = dir.filePath(QString::fromStdString(name)).toStdString();
  std::ofstream(path) << content;
  return path;
}

std::string error_of(const std::string& path, bool lenient = false) {
  try {
    parse_plan(path, ParseOptions{lenient, {}, {}});
  } catch (const PlanError& e) {
    return e.what();
  }
  return {};
}

const char* jmx_head = R"(<?xml version="1.0" encoding="UTF-8"?>
<jmeterTestPlan version="1.2" properties="5.0" jmeter="5.5">
  <hashTree>
    <TestPlan guiclass="TestPlanGui" testclass="TestPlan" testname="T" enabled="true"/>
    <hashTree>
)";
const char* jmx_tail = R"(    </hashTree>
  </hashTree>
</jmeterTestPlan>
)";

}  // namespace

class TestLoadPlans : public QObject {
  Q_OBJECT

 private slots:
  void templatesRenderSeedArtilleryAndJMeterFunctions() {
    Renderer r;
    r.vars["orderId"] = "42";
    QCOMPARE(r("/api/orders/{{ orderId }}"), std::string("/api/orders/42"));
    QCOMPARE(r("/api/orders/${orderId}"), std::string("/api/orders/42"));
    QCOMPARE(r("Bearer {{ $processEnvironment.AUTH_TOKEN }}"), std::string("Bearer t0k3n"));
    QCOMPARE(r("{{$env.AUTH_TOKEN}}"), std::string("t0k3n"));
    QCOMPARE(r("{{ $uuid }}"), std::string("vu-uuid"));
    QCOMPARE(r("[{{ missing }}]"), std::string("[]"));
    QRegularExpression uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    QVERIFY(uuid.match(QString::fromStdString(r("{{ $randomUUID() }}"))).hasMatch());
    QVERIFY(uuid.match(QString::fromStdString(r("${__UUID}"))).hasMatch());
    QVERIFY(uuid.match(QString::fromStdString(r("${__UUID()}"))).hasMatch());
    QVERIFY(r("{{ $randomUUID() }}") != r("{{ $randomUUID() }}"));
    QCOMPARE(r("{{ $randomString() }}").size(), std::size_t{10});
    QCOMPARE(r("{{ $randomString(4) }}").size(), std::size_t{4});
    for (int i = 0; i < 200; ++i) {
      int a = std::stoi(r("{{ $randomInt(1, 5) }}"));
      int b = std::stoi(r("${__Random(10,12)}"));
      int c = std::stoi(r("{{ $randomNumber(0, 1) }}"));
      QVERIFY(a >= 1 && a <= 5);
      QVERIFY(b >= 10 && b <= 12);
      QVERIFY(c == 0 || c == 1);
    }
    QCOMPARE(r("${__P(AUTH_TOKEN,)}"), std::string("t0k3n"));
    QCOMPARE(r("${__P(threads,7)}"), std::string("7"));
    r.properties["threads"] = "3";
    QCOMPARE(r("${__P(threads,7)}"), std::string("3"));
    QVERIFY(std::stoll(r("${__time}")) > 1'600'000'000'000LL);
  }

  void templateErrorsNameTheProblem_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("message");
    QTest::newRow("unknown artillery") << "{{ $faker.name() }}"
                                       << "unsupported template function '$faker.name'";
    QTest::newRow("unknown jmeter") << "${__CSVRead(a,b)}"
                                    << "unsupported JMeter function '__CSVRead'";
    QTest::newRow("unterminated") << "/x/{{ id"
                                  << "unterminated '{{'";
    QTest::newRow("bad int") << "{{ $randomInt(a, 5) }}"
                             << "'a' is not an integer";
    QTest::newRow("min above max") << "${__Random(9,1)}"
                                   << "min is above max";
  }
  void templateErrorsNameTheProblem() {
    QFETCH(QString, text);
    QFETCH(QString, message);
    try {
      Template::compile(text.toStdString());
      QFAIL("compiled");
    } catch (const TemplateError& e) {
      QVERIFY2(QString(e.what()).contains(message), e.what());
    }
  }

  void jsonPathsSelectCaptures() {
    auto doc =
        nlohmann::json::parse(R"({"orderId":"o-1","items":[{"id":7},{"id":8}],"n":3,"a b":{"c":true}})");
    QCOMPARE(*JsonPath::compile("$.orderId").find_text(doc), std::string("o-1"));
    QCOMPARE(*JsonPath::compile("$.items[1].id").find_text(doc), std::string("8"));
    QCOMPARE(*JsonPath::compile("$.items[-1].id").find_text(doc), std::string("8"));
    QCOMPARE(*JsonPath::compile("$['a b'].c").find_text(doc), std::string("true"));
    QCOMPARE(*JsonPath::compile("$.n").find_text(doc), std::string("3"));
    QVERIFY(!JsonPath::compile("$.missing").find(doc));
    QVERIFY(!JsonPath::compile("$.items[5]").find(doc));
    QVERIFY(!JsonPath::compile("$.orderId.x").find(doc));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, JsonPath::compile("orderId"));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, JsonPath::compile("$.items[*]"));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, JsonPath::compile("$..id"));
  }

  void seedArtilleryPlanParses() {
    Plan p = parse_plan(scenarios_dir + "/artillery-load-test.yml");
    QCOMPARE(p.format, std::string("artillery"));
    QCOMPARE(p.target, std::string("http://localhost:8080"));
    QCOMPARE(p.phases.size(), std::size_t{3});
    QCOMPARE(p.phases[1].name, std::string("Sustained load phase"));
    QCOMPARE(p.phases[1].rate, 50.0);
    QCOMPARE(p.phases[2].duration_s, 120.0);
    QCOMPARE(p.nominal_duration_s(), 480.0);
    QCOMPARE(p.default_headers.size(), std::size_t{2});
    QCOMPARE(p.scenarios.size(), std::size_t{2});
    QCOMPARE(p.scenarios[0].weight, 70.0);
    QCOMPARE(p.scenarios[1].name, std::string("Product Browsing"));
    const auto& post = p.scenarios[0].steps[0].request;
    QCOMPARE(post.method, std::string("POST"));
    QCOMPARE(post.name, std::string("POST /api/orders"));
    QVERIFY(post.json.has_value());
    QCOMPARE(post.captures.size(), std::size_t{1});
    QCOMPARE(post.captures[0].as, std::string("orderId"));
    QCOMPARE(p.scenarios[0].steps[1].request.url.source(), std::string("/api/orders/{{ orderId }}"));
    QVERIFY(p.warnings.empty());
  }

  void seedJMeterPlanParses() {
    Plan p = parse_plan(scenarios_dir + "/order-load-test.jmx");
    QCOMPARE(p.format, std::string("jmeter"));
    QCOMPARE(p.groups.size(), std::size_t{1});
    QCOMPARE(p.groups[0].vus, 100);
    QCOMPARE(p.groups[0].ramp_up_s, 60.0);
    QCOMPARE(p.groups[0].loops, std::int64_t{10});
    QVERIFY(!p.groups[0].duration_s);
    QCOMPARE(p.variables.size(), std::size_t{2});
    QCOMPARE(p.variables[0].name, std::string("BASE_URL"));
    const auto& s = p.scenarios.at(0);
    QCOMPARE(s.steps.size(), std::size_t{1});
    const auto& rq = s.steps[0].request;
    QCOMPARE(rq.name, std::string("Create Order"));
    QCOMPARE(rq.method, std::string("POST"));
    QCOMPARE(rq.base.source(), std::string("${BASE_URL}"));
    QCOMPARE(rq.url.source(), std::string("/api/orders"));
    QCOMPARE(rq.headers.size(), std::size_t{2});
    QCOMPARE(rq.headers[1].value.source(), std::string("Bearer ${AUTH_TOKEN}"));
    QCOMPARE(rq.arguments.size(), std::size_t{1});  // JMeter sends it as a form field
    QCOMPARE(rq.arguments[0].name, std::string("X-Idempotency-Key"));
    QCOMPARE(rq.arguments[0].value.source(), std::string("${__UUID}"));
    QVERIFY(!rq.arguments[0].always_encode);
    QVERIFY(!rq.post_body_raw);
    // The seed spells the sampler's properties HTTPsampler.*; JMeter reads HTTPSampler.* only.
    QCOMPARE(p.warnings.size(), std::size_t{1});
    QVERIFY2(QString::fromStdString(p.warnings[0])
                 .endsWith("order-load-test.jmx:37: HTTPSamplerProxy 'Create Order': JMeter ignores "
                           "HTTPsampler.domain, HTTPsampler.path, HTTPsampler.method (it reads only "
                           "HTTPSampler.* properties, spelled exactly), so JMeter itself would send no "
                           "request for this sampler (no host); mambogo-load uses them"),
             p.warnings[0].c_str());
  }

  void jmeterSamplersSpelledAsJMeterDoesGetNoWarning() {
    QTemporaryDir dir;
    auto path = write(dir, "raw.jmx", std::string(jmx_head) + R"(
      <ThreadGroup testclass="ThreadGroup" testname="G" enabled="true">
        <stringProp name="ThreadGroup.num_threads">1</stringProp>
      </ThreadGroup>
      <hashTree>
        <HTTPSamplerProxy testclass="HTTPSamplerProxy" testname="Create" enabled="true">
          <boolProp name="HTTPSampler.postBodyRaw">true</boolProp>
          <elementProp name="HTTPsampler.Arguments" elementType="Arguments">
            <collectionProp name="Arguments.arguments">
              <elementProp name="" elementType="HTTPArgument">
                <boolProp name="HTTPArgument.always_encode">false</boolProp>
                <stringProp name="Argument.value">{"items":[]}</stringProp>
                <stringProp name="Argument.metadata">=</stringProp>
              </elementProp>
            </collectionProp>
          </elementProp>
          <stringProp name="HTTPSampler.domain">127.0.0.1</stringProp>
          <stringProp name="HTTPSampler.port">9</stringProp>
          <stringProp name="HTTPSampler.path">/api/orders</stringProp>
          <stringProp name="HTTPSampler.method">POST</stringProp>
          <stringProp name="HTTPSampler.contentEncoding">UTF-8</stringProp>
        </HTTPSamplerProxy>
        <hashTree/>
      </hashTree>
)" + jmx_tail);
    Plan p = parse_jmeter(path);
    QVERIFY(p.warnings.empty());
    const auto& rq = p.scenarios.at(0).steps.at(0).request;
    QCOMPARE(rq.method, std::string("POST"));
    QCOMPARE(rq.base.source(), std::string("127.0.0.1:9"));
    QVERIFY(rq.post_body_raw);
    QCOMPARE(rq.arguments.size(), std::size_t{1});
    QCOMPARE(rq.arguments[0].name, std::string());
    QCOMPARE(rq.arguments[0].value.source(), std::string(R"({"items":[]})"));
  }

  void everyBundledPlanParsesStrictly_data() {
    QTest::addColumn<QString>("file");
    QDir dir(QString::fromStdString(scenarios_dir));
    for (const auto& f : dir.entryList({"*.yml", "*.yaml", "*.jmx"}, QDir::Files))
      QTest::newRow(qPrintable(f)) << dir.filePath(f);
  }
  void everyBundledPlanParsesStrictly() {
    QFETCH(QString, file);
    Plan p = parse_plan(file.toStdString());
    QVERIFY(!p.scenarios.empty());
    QVERIFY(p.open_model() || !p.groups.empty());
    // Nothing unsupported; the seed JMX's one warning is about JMeter's spelling (above).
    for (const auto& w : p.warnings) QVERIFY2(w.find("JMeter ignores") != std::string::npos, w.c_str());
  }

  void ownShopPlanUsesCapturedProductIds() {
    Plan p = parse_plan(scenarios_dir + "/shop-browse-and-buy.yml");
    QCOMPARE(p.scenarios.size(), std::size_t{3});
    const auto& buy = p.scenarios[1].steps;
    QCOMPARE(buy[0].request.captures.at(0).as, std::string("productId"));
    QCOMPARE(int(buy[4].kind), int(Step::Kind::think));
    QCOMPARE(buy[5].request.url.source(), std::string("/api/orders"));
    QCOMPARE(buy[5].request.headers.at(0).name, std::string("X-Idempotency-Key"));
    QCOMPARE(buy[6].loop_count, std::int64_t{3});  // polls the order
    QCOMPARE(p.thresholds.size(), std::size_t{2});
  }

  void truncatedOrCorruptedPlansNeverCrashTheReader() {
    QTemporaryDir dir;
    for (std::string name : {"artillery-load-test.yml", "order-load-test.jmx", "shop-browse-and-buy.yml"}) {
      std::ifstream in(scenarios_dir + "/" + name);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::mt19937 rng(3);
      for (std::size_t cut = 0; cut < text.size(); cut += 37) {
        std::string mutated = text.substr(0, cut);
        if (cut % 2) mutated += std::string(1, "{}[]:<>/\"-'\"$\n"[rng() % 14]) + text.substr(cut);
        auto path = write(dir, "m-" + name, mutated);
        try {
          parse_plan(path);
        } catch (const PlanError&) {
          // expected for most mutations; anything else escapes and fails the test
        }
      }
    }
  }

  void artilleryFeaturesBeyondTheSeed() {
    QTemporaryDir dir;
    write(dir, "users.csv", "user,pw\nann,a1\nbob,b2\n");
    auto path = write(dir, "plan.yml", R"(
config:
  target: http://127.0.0.1:9
  phases:
    - {duration: 10, arrivalRate: 1, rampTo: 5, name: ramp}
    - {pause: 2}
    - {duration: 4, arrivalCount: 8, maxVusers: 3}
  variables:
    sku: [A1, B2]
    region: eu
  payload: {path: users.csv, fields: [user, pw], order: sequence, skipHeader: true}
  plugins: {ensure: {}}
  ensure:
    maxErrorRate: 1
    thresholds:
      - http.response_time.p99: 250
      - http.response_time.median: 20
scenarios:
  - weight: 3
    flow:
      - post: {url: /cart, json: {sku: "{{ sku }}", qty: 2}, capture: [{json: "$.id", as: cartId}]}
      - think: 0.5
      - loop:
          - get: {url: "/cart/{{ cartId }}"}
        count: 3
      - delete: {url: "/cart/{{ cartId }}", headers: {x-user: "{{ user }}"}}
)");
    Plan p = parse_plan(path);
    QCOMPARE(p.phases.size(), std::size_t{3});
    QCOMPARE(*p.phases[0].ramp_to, 5.0);
    QVERIFY(p.phases[1].pause);
    QCOMPARE(*p.phases[2].arrival_count, std::int64_t{8});
    QCOMPARE(*p.phases[2].max_vusers, 3);
    QCOMPARE(p.variables.size(), std::size_t{2});
    QCOMPARE(p.variables[0].choices.size(), std::size_t{2});
    QCOMPARE(p.payloads.at(0).rows.size(), std::size_t{2});
    QVERIFY(p.payloads[0].sequential);
    QCOMPARE(p.thresholds.size(), std::size_t{3});
    QCOMPARE(p.thresholds[1].percentile, 99.0);
    QCOMPARE(p.thresholds[1].limit, 250.0);
    const auto& steps = p.scenarios.at(0).steps;
    QCOMPARE(steps.size(), std::size_t{4});
    QCOMPARE(int(steps[1].kind), int(Step::Kind::think));
    QCOMPARE(steps[2].loop_count, std::int64_t{3});
    QCOMPARE(steps[2].loop_steps.size(), std::size_t{1});
    QCOMPARE(steps[3].request.method, std::string("DELETE"));
  }

  void jmeterFeaturesBeyondTheSeed() {
    QTemporaryDir dir;
    write(dir, "ids.csv", "id,name\n1,a\n2,b\n");
    auto path = write(dir, "plan.jmx", std::string(jmx_head) + R"(
      <CSVDataSet testclass="CSVDataSet" testname="ids" enabled="true">
        <stringProp name="filename">ids.csv</stringProp>
        <stringProp name="variableNames"></stringProp>
        <stringProp name="delimiter">,</stringProp>
      </CSVDataSet>
      <hashTree/>
      <ThreadGroup testclass="ThreadGroup" testname="Readers" enabled="true">
        <elementProp name="ThreadGroup.main_controller" elementType="LoopController">
          <intProp name="LoopController.loops">-1</intProp>
        </elementProp>
        <stringProp name="ThreadGroup.num_threads">${__P(threads,4)}</stringProp>
        <stringProp name="ThreadGroup.ramp_time">2</stringProp>
        <boolProp name="ThreadGroup.scheduler">true</boolProp>
        <stringProp name="ThreadGroup.duration">30</stringProp>
        <stringProp name="ThreadGroup.delay">1</stringProp>
      </ThreadGroup>
      <hashTree>
        <UniformRandomTimer testclass="UniformRandomTimer" testname="wait" enabled="true">
          <stringProp name="ConstantTimer.delay">100</stringProp>
          <stringProp name="RandomTimer.range">50</stringProp>
        </UniformRandomTimer>
        <hashTree/>
        <HTTPSamplerProxy testclass="HTTPSamplerProxy" testname="Get item" enabled="true">
          <stringProp name="HTTPSampler.domain">127.0.0.1</stringProp>
          <stringProp name="HTTPSampler.port">9</stringProp>
          <stringProp name="HTTPSampler.protocol">http</stringProp>
          <stringProp name="HTTPSampler.path">/api/items/${id}</stringProp>
          <stringProp name="HTTPSampler.method">GET</stringProp>
        </HTTPSamplerProxy>
        <hashTree>
          <ResponseAssertion testclass="ResponseAssertion" testname="200" enabled="true">
            <collectionProp name="Asserion.test_strings"><stringProp name="1">200</stringProp></collectionProp>
            <stringProp name="Assertion.test_field">Assertion.response_code</stringProp>
            <intProp name="Assertion.test_type">8</intProp>
          </ResponseAssertion>
          <hashTree/>
        </hashTree>
        <HTTPSamplerProxy testclass="HTTPSamplerProxy" testname="Disabled" enabled="false">
          <stringProp name="HTTPSampler.path">/never</stringProp>
        </HTTPSamplerProxy>
        <hashTree/>
      </hashTree>
)" + jmx_tail);
    Plan p = parse_jmeter(path, ParseOptions{false, {{"threads", "6"}}, {}});
    QCOMPARE(p.groups.at(0).vus, 6);
    QCOMPARE(p.groups[0].loops, std::int64_t{-1});
    QCOMPARE(*p.groups[0].duration_s, 30.0);
    QCOMPARE(p.groups[0].delay_s, 1.0);
    QCOMPARE(p.payloads.at(0).fields, (std::vector<std::string>{"id", "name"}));
    QCOMPARE(p.payloads[0].rows.size(), std::size_t{2});
    const auto& steps = p.scenarios.at(0).steps;
    QCOMPARE(steps.size(), std::size_t{2});  // the timer before the sampler; the disabled one skipped
    QCOMPARE(steps[0].think_min_s, 0.1);
    QCOMPARE(steps[0].think_max_s, 0.15);
    QCOMPARE(steps[1].request.base.source(), std::string("http://127.0.0.1:9"));
    QCOMPARE(steps[1].request.assertions.size(), std::size_t{1});
    QCOMPARE(int(steps[1].request.assertions[0].match), int(Assertion::Match::equals));
  }

  void unsupportedOrMalformedPlansNameFileLineAndElement_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("content");
    QTest::addColumn<QString>("message");
    const QString phases =
        "config:\n  target: http://127.0.0.1:9\n  phases:\n    - {duration: 1, arrivalRate: 1}\n";
    QTest::newRow("artillery unknown step")
        << "p.yml" << phases + "scenarios:\n  - flow:\n      - function: setup\n"
        << "p.yml:7: unsupported Artillery element 'scenarios[0].flow.function'";
    QTest::newRow("artillery processor")
        << "p.yml"
        << "config:\n  processor: ./f.js\n" + phases.mid(8) + "scenarios:\n  - flow: []\n"
        << "p.yml:2: unsupported Artillery element 'config.processor'";
    QTest::newRow("artillery typo") << "p.yml" << phases + "scenarios:\n  - flow:\n      - get: {ulr: /x}\n"
                                    << "p.yml:7: unsupported Artillery element 'scenarios[0].flow.get.ulr'";
    QTest::newRow("artillery bad yaml") << "p.yml"
                                        << "config: [\n  target: x\n"
                                        << "invalid YAML";
    QTest::newRow("artillery wrong type") << "p.yml"
                                          << "config:\n  phases: 3\nscenarios: []\n"
                                          << "p.yml:2: 'config.phases' must be a list";
    QTest::newRow("artillery bad rate")
        << "p.yml"
        << "config:\n  phases:\n    - {duration: 1, arrivalRate: fast}\nscenarios: []\n"
        << "p.yml:3: 'config.phases[0].arrivalRate' has an invalid value 'fast'";
    QTest::newRow("artillery bad template")
        << "p.yml" << phases + "scenarios:\n  - flow:\n      - get: {url: \"/x/{{ $faker() }}\"}\n"
        << "p.yml:7: scenarios[0].flow.get.url: unsupported template function '$faker'";
    QTest::newRow("artillery no url")
        << "p.yml" << phases + "scenarios:\n  - flow:\n      - get: {json: {}}\n"
        << "p.yml:7: scenarios[0].flow.get has no 'url'";
    QTest::newRow("artillery capture regexp")
        << "p.yml" << phases + "scenarios:\n  - flow:\n      - get: {url: /, capture: {regexp: a, as: b}}\n"
        << "unsupported Artillery element 'scenarios[0].flow.get.capture.regexp'";
    QTest::newRow("artillery missing csv") << "p.yml"
                                           << "config:\n  payload: {path: nope.csv, fields: [a]}\n" +
                                                  phases.mid(8) + "scenarios:\n  - flow: []\n"
                                           << "cannot read CSV file";
    QTest::newRow("jmx unsupported")
        << "p.jmx"
        << QString(jmx_head) +
               "      <ThreadGroup testname=\"G\">\n        <stringProp "
               "name=\"ThreadGroup.num_threads\">1</stringProp>\n      </ThreadGroup>\n      <hashTree>\n    "
               "    <JSONPostProcessor testname=\"grab id\"/>\n        <hashTree/>\n      </hashTree>\n" +
               jmx_tail
        << "p.jmx:10: unsupported JMeter element 'JSONPostProcessor 'grab id''";
    QTest::newRow("jmx bad xml") << "p.jmx"
                                 << "<jmeterTestPlan>\n<hashTree>\n</jmeterTestPlan>\n"
                                 << "invalid XML";
    QTest::newRow("jmx not jmeter") << "p.jmx"
                                    << "<html/>\n"
                                    << "not a JMeter test plan";
    QTest::newRow("jmx forever") << "p.jmx"
                                 << QString(jmx_head) +
                                        "      <ThreadGroup testname=\"G\">\n        <elementProp "
                                        "name=\"ThreadGroup.main_controller\"><stringProp "
                                        "name=\"LoopController.loops\">-1</stringProp></elementProp>\n      "
                                        "</ThreadGroup>\n      <hashTree/>\n" +
                                        jmx_tail
                                 << "p.jmx:6: ThreadGroup 'G' loops forever without a scheduler duration";
    QTest::newRow("jmx bad number") << "p.jmx"
                                    << QString(jmx_head) +
                                           "      <ThreadGroup testname=\"G\">\n        <stringProp "
                                           "name=\"ThreadGroup.num_threads\">many</stringProp>\n      "
                                           "</ThreadGroup>\n      <hashTree/>\n" +
                                           jmx_tail
                                    << "p.jmx:7: ThreadGroup.num_threads is not a number: 'many'";
    QTest::newRow("jmx https")
        << "p.jmx"
        << QString(jmx_head) +
               "      <ThreadGroup testname=\"G\"/>\n      <hashTree>\n        <HTTPSamplerProxy "
               "testname=\"S\">\n          <stringProp name=\"HTTPSampler.protocol\">https</stringProp>\n    "
               "    </HTTPSamplerProxy>\n        <hashTree/>\n      </hashTree>\n" +
               jmx_tail
        << "p.jmx:8: HTTPSamplerProxy 'S': https is not supported";
    QTest::newRow("unknown format") << "p.json"
                                    << "{}"
                                    << "unknown plan format";
  }
  void unsupportedOrMalformedPlansNameFileLineAndElement() {
    QFETCH(QString, file);
    QFETCH(QString, content);
    QFETCH(QString, message);
    QTemporaryDir dir;
    auto path = write(dir, file.toStdString(), content.toStdString());
    auto error = QString::fromStdString(error_of(path));
    QVERIFY2(error.contains(message), qPrintable("got: " + error));
    QVERIFY2(error.startsWith(QString::fromStdString(path)), qPrintable("got: " + error));
  }

  void lenientTurnsUnsupportedElementsIntoWarnings() {
    QTemporaryDir dir;
    auto yml = write(dir, "p.yml",
                     "config:\n  target: http://127.0.0.1:9\n  tls: {rejectUnauthorized: false}\n  phases:\n "
                     "   - {duration: 1, arrivalRate: 1}\n"
                     "scenarios:\n  - flow:\n      - log: hello\n      - get: {url: /}\n");
    QVERIFY(!error_of(yml).empty());
    Plan p = parse_plan(yml, ParseOptions{true, {}, {}});
    QCOMPARE(p.warnings.size(), std::size_t{2});
    QVERIFY(QString::fromStdString(p.warnings[0])
                .contains("p.yml:3: unsupported Artillery element 'config.tls' (skipped)"));
    QCOMPARE(p.scenarios.at(0).steps.size(), std::size_t{1});
    // Malformed input stays an error even when lenient.
    auto bad = write(dir, "bad.yml", "config:\n  phases: [{duration: -1, arrivalRate: 1}]\nscenarios: []\n");
    QVERIFY(error_of(bad, true).find("duration must be within") != std::string::npos);
  }
};

QTEST_GUILESS_MAIN(TestLoadPlans)
#include "tst_load_plans.moc"
