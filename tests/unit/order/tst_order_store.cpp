// OrderRepository and BatchWriter on a real SQLite file (WAL), the embedded default:
// idempotent batch inserts, optimistic claims and transitions (exactly one winner), expiry
// that respects a pass's lease, the due-work queue, group commit, and the planner using the
// seed's indexes.
#include <QtTest>

#include <prometheus/registry.h>

#include <atomic>
#include <future>
#include <thread>

#include "metric_value.h"
#include "order/batch_writer.h"
#include "order/order_repository.h"
#include "runtime/db/datasource.h"
#include "runtime/logging.h"
#include "schema/order.h"

using namespace mambogo::order;
using namespace mambogo;
using namespace std::chrono_literals;

namespace {
const std::string kP = "3f1e2d4c-5b6a-4789-8abc-def012345678";

Order new_order(const std::string& user, const std::string& key, std::int64_t quantity = 1, std::int64_t now = 1'000) {
  OrderRequest r{{{kP, quantity, std::nullopt}}, "1 Test St", "CREDIT_CARD"};
  return make_order(new_order_id(), user, key, std::move(r), now, 60'000);
}
}  // namespace

class TestOrderStore : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  int n_ = 0;
  std::unique_ptr<db::Datasource> ds_;
  std::unique_ptr<OrderRepository> repo_;
  std::unique_ptr<prometheus::Registry> registry_;
  std::unique_ptr<OrderMetrics> metrics_;
  runtime::Logger logger_{"tst_order_store", runtime::LogLevel::off};

 private slots:
  void init() {
    db::DatasourceSettings s;
    s.url = "sqlite:" + dir_.path().toStdString() + "/orders-" + std::to_string(++n_) + ".db";
    s.pool.minimum_idle = 1;
    s.pool.maximum_pool_size = 8;
    ds_ = std::make_unique<db::Datasource>(s, schema::order_migrations(), nullptr, nullptr, nullptr, nullptr);
    repo_ = std::make_unique<OrderRepository>(*ds_);
    registry_ = std::make_unique<prometheus::Registry>();
    metrics_ = std::make_unique<OrderMetrics>(*registry_);
  }
  void cleanup() {
    metrics_.reset();
    repo_.reset();
    ds_.reset();
  }

  void batchInsertKeepsTheFirstOrderPerKey() {
    const Order a = new_order("u1", "k1"), b = new_order("u1", "k2"), again = new_order("u1", "k1", 5),
                other_user = new_order("u2", "k1");
    const auto inserted = repo_->insert_batch({&a, &b, &again, &other_user});
    QCOMPARE(inserted, (std::unordered_set<std::string>{a.id, b.id, other_user.id}));
    const auto stored = repo_->find_by_key("u1", "k1");
    QVERIFY(stored);
    QCOMPARE(stored->id, a.id);
    QCOMPARE(stored->request_hash, a.request_hash);
    QCOMPARE(stored->items, a.items);
    QCOMPARE(stored->status, OrderStatus::pending);
    QCOMPARE(stored->next_attempt_at_ms, a.next_attempt_at_ms);
    QVERIFY(repo_->insert_batch({&again}).empty());
  }

  void usersSeeOnlyTheirOwn() {
    const Order a = new_order("u1", "k1", 1, 1'000), b = new_order("u1", "k2", 1, 2'000);
    repo_->insert_batch({&a, &b});
    QVERIFY(repo_->find_for_user(a.id, "u1"));
    QVERIFY(!repo_->find_for_user(a.id, "u2"));
    const auto page = repo_->list_for_user("u1", OrderStatus::pending, 0, 10);
    QCOMPARE(page.total, std::int64_t{2});
    QCOMPARE(page.content[0].id, b.id);  // newest first
    QCOMPARE(repo_->list_for_user("u1", OrderStatus::confirmed, 0, 10).total, std::int64_t{0});
    QCOMPARE(repo_->list_for_user("u2", std::nullopt, 0, 10).total, std::int64_t{0});
  }

  void onlyOneClaimAndOneTransitionWin() {
    const Order a = new_order("u1", "k1");
    repo_->insert_batch({&a});
    const Order read = *repo_->find(a.id);
    std::atomic<int> claims{0};
    std::vector<std::thread> racers;
    for (int i = 0; i < 8; ++i)
      racers.emplace_back([&] { claims += repo_->claim(read, 2'000, 32'000).has_value(); });
    for (auto& t : racers) t.join();
    QCOMPARE(claims.load(), 1);
    const Order claimed = *repo_->find(a.id);
    QCOMPARE(claimed.attempts, 1);
    QCOMPARE(claimed.next_attempt_at_ms, std::optional<std::int64_t>(32'000));
    QVERIFY(!repo_->claim(claimed, 3'000, 33'000));  // leased: not due

    Order confirmed = claimed, failed = claimed;
    confirmed.status = OrderStatus::confirmed;
    confirmed.next_attempt_at_ms.reset();
    failed.status = OrderStatus::failed;
    failed.failure_reason = "payment_declined";
    QVERIFY(repo_->update(claimed, confirmed, 4'000));
    QVERIFY(!repo_->update(claimed, failed, 4'001));  // stale version: loses, changes nothing
    const Order final_state = *repo_->find(a.id);
    QCOMPARE(final_state.status, OrderStatus::confirmed);
    QVERIFY(final_state.failure_reason.empty());
    QCOMPARE(final_state.version, confirmed.version);
  }

  void expiryWaitsForTheLeaseAndHappensOnce() {
    Order a = new_order("u1", "k1", 1, 1'000);  // expires at 61 000
    repo_->insert_batch({&a});
    QVERIFY(repo_->expirable(60'000, 10).empty());
    QCOMPARE(repo_->expirable(61'000, 10), std::vector<std::string>{a.id});
    const Order claimed = *repo_->claim(*repo_->find(a.id), 61'000, 91'000);
    QVERIFY(!repo_->expire(a.id, 62'000));  // a pass holds it
    QVERIFY(repo_->expire(a.id, 91'000));
    QVERIFY(!repo_->expire(a.id, 91'001));
    const Order expired = *repo_->find(a.id);
    QCOMPARE(expired.status, OrderStatus::expired);
    QCOMPARE(expired.failure_reason, std::string("expired"));
    QCOMPARE(repo_->due(91'000, 10, true), std::vector<std::string>{a.id});  // its release is due
    Order stale_next = claimed;
    stale_next.status = OrderStatus::inventory_reserved;
    QVERIFY(!repo_->update(claimed, stale_next, 91'002));
  }

  void dueListsWorkInTimeOrder() {
    const Order a = new_order("u1", "k1", 1, 5'000), b = new_order("u1", "k2", 1, 3'000);
    repo_->insert_batch({&a, &b});
    QCOMPARE(repo_->due(4'000, 10, false), std::vector<std::string>{b.id});
    QCOMPARE(repo_->due(5'000, 10, false), (std::vector<std::string>{b.id, a.id}));
    QVERIFY(repo_->due(5'000, 10, true).empty());
    const auto counts = repo_->count_by_status();
    QCOMPARE(counts[static_cast<int>(OrderStatus::pending)], std::int64_t{2});
  }

  void plannerUsesTheSeedIndexes() {
    auto conn = ds_->read();
    auto plan = [&](const std::string& sql) {
      std::string out;
      for (const auto& row : conn->query("EXPLAIN QUERY PLAN " + sql).rows) out += row.text(row.fields.size() - 1) + "\n";
      return out;
    };
    const auto expiry = plan("SELECT id FROM orders WHERE status = 'PENDING' AND expires_at <= 5 LIMIT 10");
    QVERIFY2(expiry.find("idx_orders_pending_expired") != std::string::npos, expiry.c_str());
    const auto listing = plan("SELECT id FROM orders WHERE user_id = 'u' AND status = 'PENDING' ORDER BY created_at DESC");
    QVERIFY2(listing.find("idx_orders_user_status") != std::string::npos, listing.c_str());
    const auto due = plan("SELECT id FROM orders WHERE next_attempt_at <= 5 ORDER BY next_attempt_at LIMIT 10");
    QVERIFY2(due.find("idx_orders_work_due") != std::string::npos, due.c_str());
  }

  // Drill 3's switch: the sweep's index dropped (the planner falls back to the table) and
  // re-created (the planner uses it again); both idempotent, the sweep correct throughout.
  void theSweepIndexCanBeDroppedAndRestored() {
    auto plan = [&] {
      auto conn = ds_->read();
      std::string out;
      for (const auto& row : conn->query("EXPLAIN QUERY PLAN SELECT id FROM orders WHERE status = 'PENDING' AND expires_at <= 5 LIMIT 10").rows)
        out += row.text(row.fields.size() - 1) + "\n";
      return out;
    };
    Order a = new_order("u1", "k1", 1, 1'000);
    repo_->insert_batch({&a});
    QVERIFY(repo_->sweep_index_exists());
    QVERIFY(!repo_->sweep_index_scans());  // SQLite keeps no such statistics
    repo_->set_sweep_index(false);
    QVERIFY(!repo_->sweep_index_exists());
    QVERIFY2(plan().find("idx_orders_pending_expired") == std::string::npos, plan().c_str());
    repo_->set_sweep_index(false);  // again: nothing to drop, no error
    QCOMPARE(repo_->expirable(61'000, 10), std::vector<std::string>{a.id});  // found by scanning
    repo_->set_sweep_index(true);
    repo_->set_sweep_index(true);
    QVERIFY(repo_->sweep_index_exists());
    QVERIFY2(plan().find("idx_orders_pending_expired") != std::string::npos, plan().c_str());
    QCOMPARE(repo_->expirable(61'000, 10), std::vector<std::string>{a.id});
  }

  void writerGroupsConcurrentOrdersIntoBatches() {
    std::vector<Order> handed_over;
    std::mutex m;
    BatchWriter writer(*repo_, {50, 20ms, 1, 10'000}, *metrics_, logger_, [&](const std::vector<Order>& created) {
      std::lock_guard lock(m);
      handed_over.insert(handed_over.end(), created.begin(), created.end());
    });
    constexpr int kOrders = 40;
    std::vector<std::promise<InsertResult>> results(kOrders);
    for (int i = 0; i < kOrders; ++i)
      writer.submit(new_order("u1", "k" + std::to_string(i)), [&results, i](InsertResult r) { results[i].set_value(std::move(r)); });
    for (auto& p : results) QCOMPARE(p.get_future().get().kind, InsertResult::Kind::created);
    writer.stop();
    QCOMPARE(handed_over.size(), std::size_t{kOrders});
    const double batches = test::metric_value(*registry_, "order_batch_size");
    QVERIFY2(batches >= 1 && batches < kOrders, qPrintable(QString::number(batches)));  // grouped
    QCOMPARE(test::metric_value(*registry_, "orders_created_total"), double(kOrders));
  }

  void writerAnswersReplaysAndReusedKeysAfterTheCommit() {
    BatchWriter writer(*repo_, {1, 0ms, 1, 10'000}, *metrics_, logger_, [](const std::vector<Order>&) {});
    auto submit = [&](Order o) {
      std::promise<InsertResult> p;
      writer.submit(std::move(o), [&p](InsertResult r) { p.set_value(std::move(r)); });
      return p.get_future().get();
    };
    const auto first = submit(new_order("u1", "k1", 2));
    QCOMPARE(first.kind, InsertResult::Kind::created);
    const auto replay = submit(new_order("u1", "k1", 2));
    QCOMPARE(replay.kind, InsertResult::Kind::replayed);
    QCOMPARE(replay.order.id, first.order.id);
    QCOMPARE(submit(new_order("u1", "k1", 3)).kind, InsertResult::Kind::key_reused);
    writer.set_batch_size(7);
    QCOMPARE(writer.batch_size(), 7);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, writer.set_batch_size(0));
    writer.stop();
    QCOMPARE(submit(new_order("u1", "k9")).kind, InsertResult::Kind::overloaded);  // stopped: refused, not lost
  }
};

QTEST_GUILESS_MAIN(TestOrderStore)
#include "tst_order_store.moc"
