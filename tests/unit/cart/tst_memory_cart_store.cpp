// The in-process cart store: sums and limits, the sliding TTL on a FakeClock, the bound on
// the number of carts, and an empty cart once the last line is gone.
#include <QtTest>

#include <prometheus/registry.h>

#include "cart/memory_cart_store.h"
#include "metric_value.h"

using namespace mambogo::cart;
using namespace std::chrono_literals;

namespace {

CartLine line(const std::string& product, int quantity, std::int64_t cents = 250) {
  return {product, "name-" + product, cents, quantity};
}

}  // namespace

class TestMemoryCartStore : public QObject {
  Q_OBJECT
 private slots:
  void addSumsAndSetReplaces() {
    mambogo::runtime::FakeClock clock;
    MemoryCartStore store(10, 1h, clock, nullptr);
    store.change_line("u", line("b", 2), LineChange::add, {}, "t1");
    store.change_line("u", line("a", 1), LineChange::add, {}, "t2");
    Cart c = store.change_line("u", line("b", 3, 300), LineChange::add, {}, "t3");
    QCOMPARE(c.lines.size(), std::size_t{2});
    QCOMPARE(c.lines[0].product_id, std::string("a"));  // ordered by product id
    QCOMPARE(c.lines[1].quantity, 5);
    QCOMPARE(c.lines[1].unit_price_cents, std::int64_t(300));  // the snapshot is refreshed
    QCOMPARE(c.updated_at, std::string("t3"));
    c = store.change_line("u", line("b", 1), LineChange::set, {}, "t4");
    QCOMPARE(c.lines[1].quantity, 1);
  }

  void limitsRefuseAndChangeNothing() {
    mambogo::runtime::FakeClock clock;
    MemoryCartStore store(10, 1h, clock, nullptr);
    CartLimits limits{99, 2};
    store.change_line("u", line("a", 98), LineChange::add, limits, "t1");
    try {
      store.change_line("u", line("a", 2), LineChange::add, limits, "t2");
      QFAIL("no limit error");
    } catch (const CartLimitError& e) {
      QCOMPARE(e.kind(), CartLimitError::Kind::quantity);
    }
    store.change_line("u", line("b", 1), LineChange::add, limits, "t3");
    try {
      store.change_line("u", line("c", 1), LineChange::add, limits, "t4");
      QFAIL("no limit error");
    } catch (const CartLimitError& e) {
      QCOMPARE(e.kind(), CartLimitError::Kind::items);
    }
    Cart c = store.get("u");
    QCOMPARE(c.lines.size(), std::size_t{2});
    QCOMPARE(c.lines[0].quantity, 98);
    QCOMPARE(c.updated_at, std::string("t3"));
  }

  void aCartExpiresAfterItsTtlAndEveryUseSlidesIt() {
    mambogo::runtime::FakeClock clock;
    prometheus::Registry registry;
    MemoryCartStore store(10, 10min, clock, &registry);
    store.change_line("u", line("a", 1), LineChange::add, {}, "t");
    clock.advance(9min);
    QCOMPARE(store.get("u").lines.size(), std::size_t{1});  // slides to +10 min from here
    clock.advance(9min);
    QCOMPARE(store.get("u").lines.size(), std::size_t{1});
    clock.advance(10min);
    Cart gone = store.get("u");
    QVERIFY(gone.lines.empty());
    QVERIFY(gone.updated_at.empty());
    QCOMPARE(store.size(), std::size_t{0});
    QCOMPARE(mambogo::test::metric_value(registry, "cart_memory_store_evictions_total", {{"cause", "expired"}}), 1.0);
  }

  void theLeastRecentlyUsedCartGoesWhenFull() {
    mambogo::runtime::FakeClock clock;
    prometheus::Registry registry;
    MemoryCartStore store(2, 1h, clock, &registry);
    store.change_line("old", line("a", 1), LineChange::add, {}, "t");
    store.change_line("mid", line("a", 1), LineChange::add, {}, "t");
    store.get("old");  // now "mid" is the least recently used
    store.change_line("new", line("a", 1), LineChange::add, {}, "t");
    QCOMPARE(store.size(), std::size_t{2});
    QVERIFY(store.get("mid").lines.empty());
    QCOMPARE(store.get("old").lines.size(), std::size_t{1});
    QCOMPARE(mambogo::test::metric_value(registry, "cart_memory_store_evictions_total", {{"cause", "size"}}), 1.0);
    QCOMPARE(mambogo::test::metric_value(registry, "cart_memory_store_carts"), 2.0);
  }

  void removingTheLastLineRemovesTheCart() {
    mambogo::runtime::FakeClock clock;
    MemoryCartStore store(10, 1h, clock, nullptr);
    store.change_line("u", line("a", 1), LineChange::add, {}, "t1");
    QCOMPARE(store.remove_line("u", "zzz", "t2").updated_at, std::string("t1"));  // absent: no change
    Cart c = store.remove_line("u", "a", "t3");
    QVERIFY(c.lines.empty());
    QCOMPARE(store.size(), std::size_t{0});
    store.change_line("u", line("a", 1), LineChange::add, {}, "t4");
    store.clear("u");
    QVERIFY(store.get("u").lines.empty());
  }
};

QTEST_GUILESS_MAIN(TestMemoryCartStore)
#include "tst_memory_cart_store.moc"
