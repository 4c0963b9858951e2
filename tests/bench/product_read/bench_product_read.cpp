// Benchmark: GET /api/products/{id} on a real mambogo-product (SQLite, the default 10 000
// products) with a real redis-server as L2, in three modes switched through /admin/settings:
//   L1+L2    every read an L1 hit (the ids fit in L1's 1000 entries)
//   L2 only  every read a Redis GET
//   DB only  every read a SQLite query through the pool
// For each mode:
//   - a closed loop (each connection sends its next request when the previous one answered)
//     gives the throughput ceiling: driven by wrk (one thread, a Lua script cycling over the
//     ids) when it is installed, else by the C++ client below; alternating rounds, medians;
//   - a fixed-rate run of the C++ client, the same rate for every mode, gives p50/p99 measured
//     from each request's intended send time (no coordinated omission, as wrk2 does).
// Prints the ratios against DB only (goal: L1 hit >= 10x the DB-only ceiling). It checks that
// each mode really is served by its layer (X-Cache); it never fails on timing.
//
// Knobs (environment): BENCH_DURATION (seconds per run, 5), BENCH_ROUNDS (closed-loop rounds,
// 3), BENCH_CONNECTIONS (8), BENCH_IDS (500, at most 1000), BENCH_RATE (requests/s of the
// fixed-rate runs; default half the DB-only ceiling).
#include <QtTest>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "product_fixture.h"
#include "redis_server.h"

using namespace product_test;
using namespace std::chrono;
using mambogo::test::RawConnection;

namespace {

int knob(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

struct Run {
  std::vector<double> latencies_ms;
  std::uint64_t errors = 0;
  double seconds = 0;

  double throughput() const { return seconds > 0 ? latencies_ms.size() / seconds : 0; }
  double percentile(double p) {
    if (latencies_ms.empty()) return 0;
    std::sort(latencies_ms.begin(), latencies_ms.end());
    return latencies_ms[std::min(latencies_ms.size() - 1, static_cast<std::size_t>(p * latencies_ms.size()))];
  }
};

std::string request_for(const std::string& id) {
  return "GET /api/products/" + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

// One connection's share of a run. `interval` zero: closed loop; otherwise request k is due
// at start + offset + k * interval and its latency counts from then.
void drive(int port, const std::vector<std::string>& requests, std::size_t first, steady_clock::time_point start,
           steady_clock::time_point end, nanoseconds offset, nanoseconds interval, Run& out) {
  std::unique_ptr<RawConnection> conn;
  for (std::int64_t k = 0;; ++k) {
    const steady_clock::time_point due = interval.count() ? start + offset + k * interval : steady_clock::now();
    if (due >= end) break;
    std::this_thread::sleep_until(due);
    try {
      if (!conn) conn = std::make_unique<RawConnection>(port);
      conn->send(requests[(first + k) % requests.size()]);
      auto r = conn->read_response(seconds(5));
      if (!r || r->status != 200) {
        ++out.errors;
        conn.reset();
        continue;
      }
      out.latencies_ms.push_back(duration<double, std::milli>(steady_clock::now() - due).count());
    } catch (const std::exception&) {
      ++out.errors;
      conn.reset();
    }
  }
}

Run run(int port, const std::vector<std::string>& requests, int connections, seconds length, double rate) {
  std::vector<Run> parts(connections);
  std::vector<std::thread> threads;
  const auto start = steady_clock::now() + milliseconds(50);
  const auto end = start + length;
  const nanoseconds interval = rate > 0 ? nanoseconds(static_cast<std::int64_t>(1e9 * connections / rate)) : nanoseconds(0);
  for (int i = 0; i < connections; ++i)
    threads.emplace_back(drive, port, std::cref(requests), static_cast<std::size_t>(i) * 61, start, end,
                         interval * i / connections, interval, std::ref(parts[i]));
  for (auto& t : threads) t.join();
  Run total;
  total.seconds = duration<double>(end - start).count();
  for (auto& p : parts) {
    total.latencies_ms.insert(total.latencies_ms.end(), p.latencies_ms.begin(), p.latencies_ms.end());
    total.errors += p.errors;
  }
  return total;
}

// wrk's "50%   1.23ms" style durations in milliseconds.
double wrk_ms(const QString& value) {
  static const QRegularExpression re(R"(^([0-9.]+)(us|ms|s|m)$)");
  auto m = re.match(value.trimmed());
  if (!m.hasMatch()) return 0;
  const double v = m.captured(1).toDouble();
  const QString unit = m.captured(2);
  return unit == "us" ? v / 1000 : unit == "ms" ? v : unit == "s" ? v * 1000 : v * 60'000;
}

struct Ceiling {
  double requests_per_second = 0, p50 = 0, p99 = 0;
  std::uint64_t errors = 0;
};

// The closed-loop ceiling measured by wrk; nullopt when wrk is not installed or failed.
std::optional<Ceiling> wrk_ceiling(int port, const std::vector<std::string>& ids, int connections, seconds length,
                                   const QString& dir) {
  const QString wrk = QStandardPaths::findExecutable("wrk");
  if (wrk.isEmpty()) return std::nullopt;
  QFile script(dir + "/ids.lua");
  if (!script.open(QIODevice::WriteOnly)) return std::nullopt;
  std::string lua = "local ids = {";
  for (const auto& id : ids) lua += "\"" + id + "\",";
  lua += "}\nlocal i = 0\nrequest = function()\n  i = i + 1\n"
         "  return wrk.format(\"GET\", \"/api/products/\" .. ids[(i % #ids) + 1])\nend\n";
  script.write(lua.c_str());
  script.close();
  QProcess p;
  p.start(wrk, {"-t1", QString("-c%1").arg(connections), QString("-d%1s").arg(length.count()), "--latency", "-s",
                script.fileName(), QString("http://127.0.0.1:%1/").arg(port)});
  if (!p.waitForFinished(static_cast<int>(length.count()) * 1000 + 30'000) || p.exitCode() != 0) return std::nullopt;
  Ceiling c;
  for (const QString& line : QString(p.readAllStandardOutput()).split('\n')) {
    const QStringList f = line.trimmed().split(QRegularExpression("\\s+"));
    if (f.size() == 2 && f[0] == "50%") c.p50 = wrk_ms(f[1]);
    if (f.size() == 2 && f[0] == "99%") c.p99 = wrk_ms(f[1]);
    if (f.size() == 2 && f[0] == "Requests/sec:") c.requests_per_second = f[1].toDouble();
    if (line.contains("Non-2xx or 3xx responses:")) c.errors += f.last().toULongLong();
    if (line.contains("Socket errors:")) c.errors += 1;
  }
  return c;
}

struct Mode {
  const char* name;
  bool l1, l2;
  const char* layer;  // the X-Cache every read must show
};

}  // namespace

class BenchProductRead : public QObject {
  Q_OBJECT
 private slots:
  void getByIdWithL1L2VersusL2VersusDatabase() {
    std::unique_ptr<mambogo::test::RedisServer> redis;
    try {
      redis = std::make_unique<mambogo::test::RedisServer>();
    } catch (const std::exception& e) {
      QSKIP(qPrintable(QString("redis-server unavailable: ") + e.what()));
    }
    ProductProcess product(Env{{"REDIS_URL", QString("redis://127.0.0.1:%1").arg(redis->port())}});
    QVERIFY2(product.wait_started() > 0, product.log_tail().c_str());
    const Client client(product.port());
    const std::string admin = Tokens().admin();

    const int connections = knob("BENCH_CONNECTIONS", 8);
    const seconds length(knob("BENCH_DURATION", 5));
    const int id_count = knob("BENCH_IDS", 500);
    std::vector<std::string> requests, ids;
    for (const auto& p : mambogo::product::generate_catalogue({}).products) {
      if (static_cast<int>(ids.size()) == std::min(id_count, 1000)) break;
      ids.push_back(p.id);
      requests.push_back(request_for(p.id));
    }

    const Mode modes[] = {{"L1+L2", true, true, "L1"}, {"L2 only", false, true, "L2"}, {"DB only", false, false, "DB"}};
    auto switch_to = [&](const Mode& m) {
      QCOMPARE(client.set({{"cache.l1.enabled", m.l1}, {"cache.l2.enabled", m.l2}}, admin).status, 200);
      for (const auto& id : ids) client.get("/api/products/" + id);  // warm the layers this mode reads
      for (const auto& id : {ids.front(), ids.back()})
        QCOMPARE(client.get("/api/products/" + id).header("x-cache"), std::string(m.layer));
    };
    // Closed loops in alternating rounds (mode 1, 2, 3, 1, 2, 3, ...), medians per mode: the
    // machine's other load then spreads over the modes instead of landing on one.
    const int rounds = knob("BENCH_ROUNDS", 3);
    std::string closed_by = "C++ client";
    std::vector<std::vector<Ceiling>> ceilings(std::size(modes));
    for (int r = 0; r < rounds; ++r) {
      for (std::size_t i = 0; i < std::size(modes); ++i) {
        switch_to(modes[i]);
        if (QTest::currentTestFailed()) return;
        if (auto w = wrk_ceiling(product.port(), ids, connections, length, product.data_dir())) {
          closed_by = "wrk";
          ceilings[i].push_back(*w);
          continue;
        }
        Run closed = run(product.port(), requests, connections, length, 0);
        ceilings[i].push_back({closed.throughput(), closed.percentile(0.50), closed.percentile(0.99), closed.errors});
      }
    }
    struct Result {
      double ceiling, closed_p50, closed_p99, fixed_p50 = 0, fixed_p99 = 0;
      std::uint64_t errors = 0;
    };
    std::vector<Result> results;
    for (auto& c : ceilings) {
      auto median = [&c](double Ceiling::*field) {
        std::vector<double> v;
        for (const auto& x : c) v.push_back(x.*field);
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
      };
      Result r{median(&Ceiling::requests_per_second), median(&Ceiling::p50), median(&Ceiling::p99)};
      for (const auto& x : c) r.errors += x.errors;
      results.push_back(r);
    }
    const double rate = knob("BENCH_RATE", static_cast<int>(std::max(50.0, results[2].ceiling / 2)));
    for (std::size_t i = 0; i < std::size(modes); ++i) {
      switch_to(modes[i]);
      Run fixed = run(product.port(), requests, connections, length, rate);
      results[i].fixed_p50 = fixed.percentile(0.50);
      results[i].fixed_p99 = fixed.percentile(0.99);
      results[i].errors += fixed.errors;
    }

    std::printf("\n[bench] product_read: GET /api/products/{id}, %zu ids, %d connections, %llds per run, %d rounds, "
                "SQLite + redis\n",
                ids.size(), connections, static_cast<long long>(length.count()), rounds);
    std::printf("[bench] closed loop driven by %s (medians of the rounds); fixed rate by the C++ client (latency "
                "from intended send time)\n",
                closed_by.c_str());
    std::printf("[bench] %-8s | closed loop: %10s %9s %9s | fixed %6.0f req/s: %9s %9s | errors\n", "mode", "req/s",
                "p50 ms", "p99 ms", rate, "p50 ms", "p99 ms");
    for (std::size_t i = 0; i < results.size(); ++i)
      std::printf("[bench] %-8s | %23.0f %9.3f %9.3f | %28.3f %9.3f | %llu\n", modes[i].name, results[i].ceiling,
                  results[i].closed_p50, results[i].closed_p99, results[i].fixed_p50, results[i].fixed_p99,
                  static_cast<unsigned long long>(results[i].errors));
    const double db = std::max(results[2].ceiling, 1e-9);
    std::printf("[bench] ratio throughput L1 hit / DB only: %.2fx (goal >= 10x: %s)\n", results[0].ceiling / db,
                results[0].ceiling / db >= 10 ? "met" : "not met");
    std::printf("[bench] ratio throughput L2 hit / DB only: %.2fx\n", results[1].ceiling / db);
    std::printf("[bench] ratio p99 at %.0f req/s, DB only / L1 hit: %.2fx\n\n", rate,
                results[0].fixed_p99 > 0 ? results[2].fixed_p99 / results[0].fixed_p99 : 0.0);
    std::fflush(stdout);
    QCOMPARE(product.stop(), 0);
  }
};

QTEST_GUILESS_MAIN(BenchProductRead)
#include "bench_product_read.moc"
