// Order creation throughput with group commit (order.batch-size 50, the seed's
// hibernate.jdbc.batch_size) against batch size 1, on SQLite and (when installed) on a real
// PostgreSQL primary + replica. mambogo-order runs as a real process with processing paused
// (order.processing.enabled = false), so only POST /api/orders and its inserts are measured;
// many keep-alive connections post concurrently for a fixed time per setting. Prints orders/s
// for both settings and their ratio. Never fails on timing: only on errors.
#include <QtTest>

#include <atomic>
#include <thread>

#include "order_fixtures.h"

using namespace mambogo::test;
using namespace std::chrono_literals;

namespace {

constexpr int kConnections = 64;
constexpr auto kWarmup = 1s;
constexpr auto kMeasure = 5s;
const std::string kProduct = "cccccccc-cccc-4ccc-8ccc-cccccccccccc";

struct Run {
  double per_second = 0;
  int errors = 0;
};

// kConnections keep-alive connections post orders for `duration`; counts 201s.
Run measure(int port, const std::string& tag, std::chrono::steady_clock::duration duration) {
  std::atomic<int> ok{0}, errors{0};
  std::atomic<bool> stop{false};
  const std::string token = token_for("bench-user");
  const std::string body = nlohmann::json{{"items", {{{"productId", kProduct}, {"quantity", 1}}}},
                                          {"shippingAddress", "1 Bench Rd"},
                                          {"paymentMethod", "CREDIT_CARD"}}
                               .dump();
  std::vector<std::thread> threads;
  for (int c = 0; c < kConnections; ++c)
    threads.emplace_back([&, c] {
      try {
        RawConnection conn(port);
        for (int i = 0; !stop; ++i) {
          conn.send("POST /api/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                    "\r\nContent-Type: application/json\r\nX-Idempotency-Key: " + tag + "-" + std::to_string(c) + "-" +
                    std::to_string(i) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
          const auto r = conn.read_response(10s);
          if (r && r->status == 201) ++ok;
          else {
            ++errors;
            return;
          }
        }
      } catch (const std::exception&) {
        ++errors;
      }
    });
  const auto started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(duration);
  const int done = ok.load();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  stop = true;
  for (auto& t : threads) t.join();
  return {done / seconds, errors.load()};
}

}  // namespace

class BenchOrderWrite : public QObject {
  Q_OBJECT
  Databases databases_;

 private slots:
  void batchingAgainstBatchSizeOne_data() {
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << "sqlite";
    if (Databases::postgres_available()) QTest::newRow("postgres") << "postgres";
  }
  void batchingAgainstBatchSizeOne() {
    QFETCH(QString, backend);
    std::map<int, Run> runs;
    for (int batch : {50, 1}) {
      QStringList env = databases_.fresh(backend);
      env << "ORDER_PROCESSING_ENABLED=false" << "ORDER_BATCH_SIZE=" + QString::number(batch) << "SERVER_IO_THREADS=2";
      OrderProcess svc(env);
      QVERIFY2(svc.start() > 0, svc.log().c_str());
      measure(svc.port(), "warm-" + std::to_string(batch), kWarmup);
      runs[batch] = measure(svc.port(), "run-" + std::to_string(batch), kMeasure);
      QCOMPARE(runs[batch].errors, 0);
      const std::string metrics = http(svc.port(), "GET", "/metrics", "").body;
      const double batches = metric(metrics, "order_batch_size_count"), rows = metric(metrics, "order_batch_size_sum");
      qInfo("%s batch size %2d: %8.0f orders/s over %d connections (mean committed batch %.1f)",
            qPrintable(backend), batch, runs[batch].per_second, kConnections, batches > 0 ? rows / batches : 0.0);
      QVERIFY(svc.terminate());
    }
    qInfo("%s order creation, batch 50 / batch 1: %.2fx", qPrintable(backend),
          runs[1].per_second > 0 ? runs[50].per_second / runs[1].per_second : 0.0);
  }
};

QTEST_GUILESS_MAIN(BenchOrderWrite)
#include "tst_order_write_bench.moc"
