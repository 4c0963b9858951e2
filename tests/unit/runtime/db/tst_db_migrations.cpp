#include <QTemporaryDir>
#include <QtTest>

#include "runtime/db/migrations.h"
#include "runtime/db/sqlite_connection.h"

using namespace mambogo::db;

namespace {
// A toy schema with a partial index, in both dialects.
std::vector<Migration> toy_schema() {
  return {
      {1, "items",
       "CREATE TABLE items (id INTEGER PRIMARY KEY, category TEXT NOT NULL, is_active INTEGER NOT NULL,"
       " price INTEGER NOT NULL);",
       "CREATE TABLE items (id BIGINT PRIMARY KEY, category TEXT NOT NULL, is_active BOOLEAN NOT NULL,"
       " price BIGINT NOT NULL);"},
      {2, "active items by category (partial index)",
       "CREATE INDEX idx_items_active_category ON items (category) WHERE is_active = 1;",
       "CREATE INDEX idx_items_active_category ON items (category) WHERE is_active;"},
  };
}
}  // namespace

class TestMigrations : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string path(const char* name) const { return dir_.filePath(name).toStdString(); }

 private slots:
  void appliesOnceAndIsIdempotentOnRestart() {
    {
      SqliteConnection c({path("a.db")});
      QCOMPARE(schema_version(c), 0);
      const MigrationResult r = migrate(c, toy_schema());
      QCOMPARE(r.previous_version, 0);
      QCOMPARE(r.current_version, 2);
      QCOMPARE(r.applied, (std::vector<int>{1, 2}));
    }
    SqliteConnection restarted({path("a.db")});
    const MigrationResult again = migrate(restarted, toy_schema());
    QVERIFY(again.applied.empty());
    QCOMPARE(again.current_version, 2);
    QCOMPARE(restarted.query("SELECT count(*) FROM schema_version")[0].integer(0), std::optional<std::int64_t>(2));
  }

  void appliesOnlyNewerMigrations() {
    SqliteConnection c({path("b.db")});
    auto schema = toy_schema();
    migrate(c, {schema[0]});
    QCOMPARE(schema_version(c), 1);
    const MigrationResult r = migrate(c, schema);
    QCOMPARE(r.applied, (std::vector<int>{2}));
  }

  void refusesSchemaNewerThanTheCode() {
    SqliteConnection c({path("c.db")});
    auto schema = toy_schema();
    migrate(c, schema);
    try {
      migrate(c, {schema[0]});
      QFAIL("ran against a newer schema");
    } catch (const SchemaTooNewError& e) {
      QCOMPARE(e.database_version(), 2);
      QCOMPARE(e.known_version(), 1);
      QVERIFY2(std::string(e.what()).find("newer than the newest this build knows") != std::string::npos, e.what());
    }
    QCOMPARE(schema_version(c), 2);
  }

  void failingMigrationLeavesNothingBehind() {
    SqliteConnection c({path("d.db")});
    auto schema = toy_schema();
    schema.push_back({3, "broken", "CREATE TABLE extra (x INTEGER); CREATE TABEL oops (y);", "-"});
    QVERIFY_THROWS_EXCEPTION(DbError, migrate(c, schema));
    QCOMPARE(schema_version(c), 0);
    QCOMPARE(c.query("SELECT count(*) FROM sqlite_master WHERE name IN ('items', 'extra')")[0].integer(0),
             std::optional<std::int64_t>(0));
  }

  void rejectsUnorderedVersions() {
    SqliteConnection c({":memory:"});
    auto schema = toy_schema();
    std::swap(schema[0], schema[1]);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, migrate(c, schema));
  }

  void queryPlanUsesThePartialIndex() {
    SqliteConnection c({path("e.db")});
    migrate(c, toy_schema());
    c.begin();
    for (int i = 0; i < 2000; ++i)
      c.execute("INSERT INTO items VALUES ($1, $2, $3, $4)",
                {std::int64_t{i}, "cat" + std::to_string(i % 20), std::int64_t{i % 10 == 0}, std::int64_t{i}});
    c.commit();
    c.execute("ANALYZE");
    const Result plan =
        c.query("EXPLAIN QUERY PLAN SELECT id FROM items WHERE category = $1 AND is_active = 1", {"cat3"});
    std::string text;
    for (const Row& r : plan.rows) text += r.text(r.fields.size() - 1) + "\n";
    QVERIFY2(text.find("USING INDEX idx_items_active_category") != std::string::npos, text.c_str());
    // Without the index's predicate the partial index cannot answer the query.
    const Result all = c.query("EXPLAIN QUERY PLAN SELECT id FROM items WHERE category = $1", {"cat3"});
    QVERIFY(all[0].text(all[0].fields.size() - 1).find("idx_items_active_category") == std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestMigrations)
#include "tst_db_migrations.moc"
