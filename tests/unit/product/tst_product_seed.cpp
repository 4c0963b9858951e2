// The deterministic demo catalogue: the same options give the same products (ids included)
// on every run, spread evenly over the categories, and seed_catalogue() writes them once,
// only into an empty catalogue.
#include <QtTest>

#include <set>

#include "runtime/values.h"
#include "product/seed_data.h"
#include "runtime/db/migrations.h"
#include "runtime/db/sqlite_connection.h"
#include "schema/product.h"

using namespace mambogo::product;
using mambogo::runtime::canonical_uuid;

class TestProductSeed : public QObject {
  Q_OBJECT
 private slots:
  void theSameSeedGivesTheSameCatalogue() {
    SeedCatalogue a = generate_catalogue({});
    SeedCatalogue b = generate_catalogue({});
    QCOMPARE(a.products.size(), std::size_t(10'000));
    QCOMPARE(a.categories.size(), std::size_t(20));
    for (std::size_t i = 0; i < a.products.size(); ++i) {
      QCOMPARE(a.products[i].id, b.products[i].id);
      QCOMPARE(a.products[i].name, b.products[i].name);
      QCOMPARE(a.products[i].price_cents, b.products[i].price_cents);
      QCOMPARE(a.products[i].stock_quantity, b.products[i].stock_quantity);
      QCOMPARE(a.products[i].is_active, b.products[i].is_active);
    }
    for (std::size_t c = 0; c < a.categories.size(); ++c) QCOMPARE(a.categories[c].id, b.categories[c].id);
  }

  void theIdsAreFixedAcrossBuildsAndMachines() {
    // splitmix64 from the default seed; a change here changes every load plan's product ids.
    SeedCatalogue c = generate_catalogue({});
    QCOMPARE(c.categories[0].name, std::string("Electronics"));
    QCOMPARE(QString::fromStdString(c.categories[0].id), QStringLiteral("e056ea23-e1d2-47c6-94c0-f02cb4ba446e"));
  }

  void anotherSeedGivesOtherIds() {
    SeedOptions other;
    other.seed = 42;
    QVERIFY(generate_catalogue(other).products[0].id != generate_catalogue({}).products[0].id);
  }

  void idsAreUniqueCanonicalUuids() {
    SeedCatalogue c = generate_catalogue({});
    std::set<std::string> ids;
    for (const auto& p : c.products) {
      QCOMPARE(canonical_uuid(p.id).value_or(""), p.id);
      QCOMPARE(p.id[14], '4');  // version 4
      ids.insert(p.id);
    }
    for (const auto& cat : c.categories) ids.insert(cat.id);
    QCOMPARE(ids.size(), c.products.size() + c.categories.size());
  }

  void productsAreSpreadEvenlyAndPlausibly() {
    SeedCatalogue c = generate_catalogue({});
    std::map<std::string, int> per_category;
    int out_of_stock = 0, inactive = 0;
    for (const auto& p : c.products) {
      ++per_category[p.category_id];
      QVERIFY(p.price_cents >= 99 && p.price_cents <= 99'999);
      QVERIFY(p.stock_quantity >= 0 && p.stock_quantity <= 500);
      out_of_stock += p.stock_quantity == 0;
      inactive += !p.is_active;
    }
    QCOMPARE(per_category.size(), std::size_t(20));
    for (const auto& [id, n] : per_category) QCOMPARE(n, 500);
    // Every filter of the catalogue has something to find and something to drop.
    QVERIFY(out_of_stock > 500 && out_of_stock < 1500);
    QVERIFY(inactive > 250 && inactive < 750);
    int active_counted = 0;
    for (const auto& cat : c.categories) active_counted += static_cast<int>(cat.product_count);
    QCOMPARE(active_counted, 10'000 - inactive);
    QVERIFY(c.products.front().created_at < c.products.back().created_at);
  }

  void countsAndCategoriesAreConfigurable() {
    SeedOptions small;
    small.products = 7;
    small.categories = 3;
    SeedCatalogue c = generate_catalogue(small);
    QCOMPARE(c.products.size(), std::size_t(7));
    QCOMPARE(c.categories.size(), std::size_t(3));
    small.products = 0;
    QVERIFY(generate_catalogue(small).products.empty());
    SeedOptions bad;
    bad.categories = 21;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, generate_catalogue(bad));
    bad.categories = 0;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, generate_catalogue(bad));
  }

  void seedingFillsAnEmptyCatalogueOnceInBatches() {
    mambogo::db::SqliteConnection conn({":memory:"});
    mambogo::db::migrate(conn, mambogo::schema::product_migrations());
    SeedOptions options;
    options.products = 1234;
    options.batch_rows = 100;  // 13 statements, the last one partial
    QCOMPARE(seed_catalogue(conn, options), std::int64_t(1234));
    QCOMPARE(conn.query("SELECT COUNT(*) FROM products")[0].integer(0).value(), std::int64_t(1234));
    QCOMPARE(conn.query("SELECT COUNT(*) FROM categories")[0].integer(0).value(), std::int64_t(20));
    const auto first = generate_catalogue(options).products[0];
    auto row = conn.query("SELECT name, price_cents, stock_quantity FROM products WHERE id = $1", {first.id});
    QCOMPARE(row.size(), std::size_t(1));
    QCOMPARE(row[0].text(0), first.name);
    QCOMPARE(row[0].integer(1).value(), first.price_cents);
    // Not empty any more: a second start seeds nothing, and changes nothing.
    conn.execute("UPDATE products SET stock_quantity = 3 WHERE id = $1", {first.id});
    QCOMPARE(seed_catalogue(conn, options), std::int64_t(0));
    QCOMPARE(conn.query("SELECT COUNT(*) FROM products")[0].integer(0).value(), std::int64_t(1234));
    QCOMPARE(conn.query("SELECT stock_quantity FROM products WHERE id = $1", {first.id})[0].integer(0).value(), std::int64_t(3));
  }

  void aSeedCountOfZeroSeedsNothing() {
    mambogo::db::SqliteConnection conn({":memory:"});
    mambogo::db::migrate(conn, mambogo::schema::product_migrations());
    SeedOptions none;
    none.products = 0;
    QCOMPARE(seed_catalogue(conn, none), std::int64_t(0));
    QCOMPARE(conn.query("SELECT COUNT(*) FROM categories")[0].integer(0).value(), std::int64_t(0));
  }
};

QTEST_APPLESS_MAIN(TestProductSeed)
#include "tst_product_seed.moc"
