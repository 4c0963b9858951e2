// The pure parts of the chaos rules: Go durations, tc rates, HTTPChaos path globs, pod
// selection and mode picking, spec parsing with its error messages, and which direction of a
// proxied connection a NetworkChaos rule acts on.
#include <QtTest>

#include "netproxy/chaos_rules.h"

using namespace mambogo::sim::netproxy;
using namespace std::chrono_literals;
using Json = nlohmann::json;

namespace {

Json pod(const std::string& ns, const std::string& name, Json labels, const std::string& phase = "Running") {
  return {{"metadata", {{"name", name}, {"namespace", ns}, {"labels", std::move(labels)}}},
          {"status", {{"phase", phase}}}};
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

NetworkRule rule_on(std::set<std::string> pods, Direction d, std::optional<std::set<std::string>> targets = {}) {
  NetworkRule r;
  r.pods = std::move(pods);
  r.direction = d;
  r.targets = std::move(targets);
  return r;
}

}  // namespace

class NetproxyRulesTest : public QObject {
  Q_OBJECT

 private slots:
  void durationsReadAsGoReadsThem_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("nanos");
    QTest::newRow("seconds") << "30s" << qint64(30'000'000'000);
    QTest::newRow("millis") << "100ms" << qint64(100'000'000);
    QTest::newRow("fraction") << "1.5h" << qint64(5'400'000'000'000);
    QTest::newRow("compound") << "2h45m" << qint64(9'900'000'000'000);
    QTest::newRow("micro") << "10us" << qint64(10'000);
    QTest::newRow("micro sign") << QString::fromUtf8("10\u00b5s") << qint64(10'000);
    QTest::newRow("zero") << "0" << qint64(0);
    QTest::newRow("leading dot") << ".5s" << qint64(500'000'000);
  }
  void durationsReadAsGoReadsThem() {
    QFETCH(QString, text);
    QFETCH(qint64, nanos);
    QCOMPARE(qint64(parse_duration(text.toStdString()).count()), nanos);
  }

  void badDurationsSayWhatIsWrong_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("message");
    QTest::newRow("no unit") << "10" << "missing unit";
    QTest::newRow("unknown unit") << "10 parsecs" << "unknown unit";
    QTest::newRow("words") << "ten seconds" << "invalid duration";
    QTest::newRow("empty") << "" << "invalid duration";
    QTest::newRow("negative") << "-5s" << "negative";
  }
  void badDurationsSayWhatIsWrong() {
    QFETCH(QString, text);
    QFETCH(QString, message);
    const std::string error = error_of([&] { parse_duration(text.toStdString()); });
    QVERIFY2(error.find(message.toStdString()) != std::string::npos, error.c_str());
  }

  void ratesFollowTcUnits_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<double>("bytes");
    QTest::newRow("mbps is megabytes") << "1mbps" << 1e6;
    QTest::newRow("mbit is megabits") << "8mbit" << 1e6;
    QTest::newRow("case-insensitive") << "10Mbit" << 1.25e6;
    QTest::newRow("kbps") << "100kbps" << 1e5;
    QTest::newRow("binary") << "1KiBps" << 1024.0;
    QTest::newRow("bare bits") << "8000" << 1000.0;
    QTest::newRow("bps") << "500bps" << 500.0;
  }
  void ratesFollowTcUnits() {
    QFETCH(QString, text);
    QFETCH(double, bytes);
    QCOMPARE(parse_rate_bytes_per_second(text.toStdString()), bytes);
  }

  void badRatesAreRefused() {
    QVERIFY(error_of([] { parse_rate_bytes_per_second("fast"); }).find("number") != std::string::npos);
    QVERIFY(error_of([] { parse_rate_bytes_per_second("10furlongs"); }).find("unknown unit") != std::string::npos);
    QVERIFY(error_of([] { parse_rate_bytes_per_second("0mbps"); }).find("positive") != std::string::npos);
  }

  void globMatchesLikeChaosMesh_data() {
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("match");
    QTest::newRow("exact") << "/api/orders" << "/api/orders" << true;
    QTest::newRow("exact differs") << "/api/orders" << "/api/order" << false;
    QTest::newRow("star spans slashes") << "/api/*" << "/api/orders/42/items" << true;
    QTest::newRow("star empty") << "/api/*" << "/api/" << true;
    QTest::newRow("star prefix only") << "/api/*" << "/health" << false;
    QTest::newRow("question one char") << "/v?/x" << "/v1/x" << true;
    QTest::newRow("question not two") << "/v?/x" << "/v10/x" << false;
    QTest::newRow("inner star backtracks") << "/a*b*c" << "/aXbYbZc" << true;
    QTest::newRow("inner star fails") << "/a*b*c" << "/aXbYbZ" << false;
    QTest::newRow("star alone") << "*" << "/anything" << true;
  }
  void globMatchesLikeChaosMesh() {
    QFETCH(QString, pattern);
    QFETCH(QString, path);
    QFETCH(bool, match);
    QCOMPARE(glob_match(pattern.toStdString(), path.toStdString()), match);
  }

  void modesPickTheRightCount() {
    std::mt19937_64 rng(7);
    QCOMPARE(pick_count("one", nullptr, 5, rng), std::size_t{1});
    QCOMPARE(pick_count("one", nullptr, 0, rng), std::size_t{0});
    QCOMPARE(pick_count("all", nullptr, 5, rng), std::size_t{5});
    QCOMPARE(pick_count("fixed", "2", 5, rng), std::size_t{2});
    QCOMPARE(pick_count("fixed", 9, 5, rng), std::size_t{5});  // no more than there are
    QCOMPARE(pick_count("fixed-percent", "50", 5, rng), std::size_t{2});  // floor, as Chaos Mesh
    QCOMPARE(pick_count("fixed-percent", "100", 5, rng), std::size_t{5});
    for (int i = 0; i < 50; ++i) QVERIFY(pick_count("random-max-percent", "40", 10, rng) <= 4);
    bool saw_nonzero = false;
    for (int i = 0; i < 50 && !saw_nonzero; ++i) saw_nonzero = pick_count("random-max-percent", "100", 10, rng) > 0;
    QVERIFY(saw_nonzero);
  }

  void badModesAndValuesAreRefused() {
    std::mt19937_64 rng(7);
    QVERIFY(error_of([&] { pick_count("some", nullptr, 5, rng); }).find("unknown mode \"some\"") != std::string::npos);
    QVERIFY(error_of([&] { pick_count("fixed", nullptr, 5, rng); }).find("spec.value") != std::string::npos);
    QVERIFY(error_of([&] { pick_count("fixed", "0", 5, rng); }).find("positive") != std::string::npos);
    QVERIFY(error_of([&] { pick_count("fixed-percent", "150", 5, rng); }).find("0..100") != std::string::npos);
    QVERIFY(error_of([&] { pick_count("fixed-percent", "half", 5, rng); }).find("spec.value") != std::string::npos);
  }

  void selectorPicksByNamespaceLabelsAndNames() {
    const std::vector<Json> pods{pod("shop", "web-1", {{"app", "web"}}), pod("shop", "web-2", {{"app", "web"}}),
                                 pod("shop", "db-1", {{"app", "db"}}), pod("other", "web-9", {{"app", "web"}}),
                                 pod("shop", "web-3", {{"app", "web"}}, "Pending")};
    using V = std::vector<std::string>;
    // Namespace defaults to the chaos object's.
    QCOMPARE(select_pods({{"labelSelectors", {{"app", "web"}}}}, "shop", pods), (V{"shop/web-1", "shop/web-2", "shop/web-3"}));
    QCOMPARE(select_pods({{"namespaces", {"other"}}, {"labelSelectors", {{"app", "web"}}}}, "shop", pods), (V{"other/web-9"}));
    QCOMPARE(select_pods({{"pods", {{"other", {"web-9"}}, {"shop", {"db-1"}}}}}, "shop", pods),
             (V{"other/web-9", "shop/db-1"}));
    QCOMPARE(select_pods({{"expressionSelectors", {{{"key", "app"}, {"operator", "In"}, {"values", {"db"}}}}}}, "shop", pods),
             (V{"shop/db-1"}));
    QCOMPARE(select_pods({{"labelSelectors", {{"app", "web"}}}, {"podPhaseSelectors", {"Running"}}}, "shop", pods),
             (V{"shop/web-1", "shop/web-2"}));
    auto deleting = pods;
    deleting[0]["metadata"]["deletionTimestamp"] = "2026-11-27T10:00:00Z";
    QCOMPARE(select_pods({{"labelSelectors", {{"app", "web"}}}, {"podPhaseSelectors", {"Running"}}}, "shop", deleting),
             (V{"shop/web-2"}));
  }

  void pickPodsTakesARandomSubset() {
    std::vector<Json> pods;
    for (int i = 0; i < 6; ++i) pods.push_back(pod("shop", "web-" + std::to_string(i), {{"app", "web"}}));
    std::mt19937_64 rng(11);
    std::set<std::string> seen;
    for (int i = 0; i < 40; ++i) {
      auto picked = pick_pods({{"labelSelectors", {{"app", "web"}}}}, "fixed", "2", "shop", pods, rng);
      QCOMPARE(picked.size(), std::size_t{2});
      QVERIFY(picked[0] != picked[1]);
      seen.insert(picked.begin(), picked.end());
    }
    QVERIFY(seen.size() > 2);  // not always the same two
  }

  void networkSpecsParse() {
    NetworkRule d = parse_network_rule(
        {{"action", "delay"}, {"delay", {{"latency", "100ms"}, {"jitter", "10ms"}, {"correlation", "25"}}}});
    QCOMPARE(d.action, NetworkRule::Action::delay);
    QCOMPARE(d.delay.latency, std::chrono::nanoseconds(100ms));
    QCOMPARE(d.delay.jitter, std::chrono::nanoseconds(10ms));
    QCOMPARE(d.delay.correlation, 0.25);
    QCOMPARE(d.direction, Direction::to);
    NetworkRule l = parse_network_rule({{"action", "loss"}, {"direction", "both"}, {"loss", {{"loss", "30"}}}});
    QCOMPARE(l.loss.probability, 0.3);
    QCOMPARE(l.direction, Direction::both);
    NetworkRule b = parse_network_rule(
        {{"action", "bandwidth"}, {"bandwidth", {{"rate", "1mbps"}, {"limit", 20971520}, {"buffer", 10000}}}});
    QCOMPARE(b.bandwidth.bytes_per_second, 1e6);
    QCOMPARE(b.bandwidth.buffer, std::uint64_t{10000});
    QCOMPARE(parse_network_rule({{"action", "partition"}}).action, NetworkRule::Action::partition);
  }

  void badNetworkSpecsNameTheField_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("message");
    QTest::newRow("action") << R"({"action":"corrupt"})" << "spec.action \"corrupt\" is not supported";
    QTest::newRow("missing delay") << R"({"action":"delay"})" << "spec.delay is required";
    QTest::newRow("latency") << R"({"action":"delay","delay":{"latency":"soon"}})" << "spec.delay.latency: time: invalid duration";
    QTest::newRow("loss range") << R"({"action":"loss","loss":{"loss":"140"}})" << "spec.loss.loss: \"140\" is not a percentage";
    QTest::newRow("rate") << R"({"action":"bandwidth","bandwidth":{"rate":"lots"}})" << "spec.bandwidth.rate:";
    QTest::newRow("direction") << R"({"action":"partition","direction":"sideways"})" << "spec.direction must be";
  }
  void badNetworkSpecsNameTheField() {
    QFETCH(QString, spec);
    QFETCH(QString, message);
    const std::string error = error_of([&] { parse_network_rule(Json::parse(spec.toStdString())); });
    QVERIFY2(error.find(message.toStdString()) != std::string::npos, error.c_str());
  }

  void directionsFollowChaosMesh() {
    const std::string web = "shop/web-1", client = "shop/client-1", other = "shop/other-1";
    // to: what the selected pod sends — its answers to clients.
    Affected a = affected(rule_on({web}, Direction::to), client, web);
    QVERIFY(a.to_client && !a.to_upstream && !a.source_assumed);
    // from: what it receives.
    a = affected(rule_on({web}, Direction::from), client, web);
    QVERIFY(a.to_upstream && !a.to_client);
    a = affected(rule_on({web}, Direction::both), std::nullopt, web);
    QVERIFY(a.to_upstream && a.to_client && !a.source_assumed);
    // The selected pod as a client: its requests are what it sends.
    a = affected(rule_on({client}, Direction::to), client, web);
    QVERIFY(a.to_upstream && !a.to_client);
    // Unrelated traffic is untouched.
    QVERIFY(!affected(rule_on({web}, Direction::both), client, other).any());
  }

  void targetLimitsToTrafficBetweenTheTwoSets() {
    const std::string web = "shop/web-1", client = "shop/client-1", other = "shop/other-1";
    const auto rule = rule_on({web}, Direction::both, std::set<std::string>{client});
    QVERIFY(affected(rule, client, web).any());
    QVERIFY(!affected(rule, other, web).any());
    // An unknown source is assumed to be a target: all traffic to the selected pod, said so.
    Affected a = affected(rule, std::nullopt, web);
    QVERIFY(a.any() && a.source_assumed);
  }

  void httpSpecsParseAndMatch() {
    HttpRule r = parse_http_rule(
        {{"target", "Request"}, {"port", 8080}, {"path", "/api/*"}, {"method", "GET"}, {"replace", {{"code", 503}}}});
    r.pods = {"shop/web-1"};
    QCOMPARE(r.replace_code.value_or(0), 503);
    QVERIFY(r.matches("shop/web-1", 8080, "GET", "/api/products"));
    QVERIFY(!r.matches("shop/web-1", 8080, "POST", "/api/products"));
    QVERIFY(!r.matches("shop/web-1", 8080, "GET", "/health"));
    QVERIFY(!r.matches("shop/web-1", 9090, "GET", "/api/products"));
    QVERIFY(!r.matches("shop/web-2", 8080, "GET", "/api/products"));
    HttpRule d = parse_http_rule({{"target", "Response"}, {"delay", "1s"}});
    QVERIFY(d.on_response);
    QCOMPARE(d.delay, std::chrono::nanoseconds(1s));
    QCOMPARE(d.port, 0);  // any port
  }

  void badHttpSpecsNameTheField() {
    QVERIFY(error_of([] { parse_http_rule({{"target", "Both"}, {"abort", true}}); }).find("spec.target") != std::string::npos);
    QVERIFY(error_of([] { parse_http_rule({{"target", "Request"}}); }).find("needs an action") != std::string::npos);
    QVERIFY(error_of([] { parse_http_rule({{"target", "Request"}, {"replace", {{"code", 42}}}}); })
                .find("spec.replace.code: 42") != std::string::npos);
    QVERIFY(error_of([] { parse_http_rule({{"target", "Request"}, {"delay", "later"}}); }).find("spec.delay") != std::string::npos);
  }
};

QTEST_GUILESS_MAIN(NetproxyRulesTest)
#include "tst_netproxy_rules.moc"
