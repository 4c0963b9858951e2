#include <QTemporaryDir>
#include <QtTest>

#include "runtime/db/db_error.h"
#include "runtime/db/sqlite_connection.h"

using namespace mambogo::db;

Q_DECLARE_METATYPE(DbErrorKind)

class TestSqliteConnection : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::string path() const { return dir_.filePath("service.db").toStdString(); }

 private slots:
  void rewritesDollarPlaceholdersOutsideLiterals_data() {
    QTest::addColumn<QString>("sql");
    QTest::addColumn<QString>("expected");
    // In order: bare `?` (SQLite numbers it largest-so-far + 1); otherwise the number stays.
    QTest::newRow("plain") << "SELECT $1, $2" << "SELECT ?, ?";
    QTest::newRow("out of order") << "UPDATE t SET a = $2 WHERE id = $1" << "UPDATE t SET a = ?2 WHERE id = ?1";
    QTest::newRow("repeated") << "SELECT $1, $2, $1, $3" << "SELECT ?, ?, ?1, ?";
    QTest::newRow("two digits") << "VALUES ($10)" << "VALUES (?10)";
    QTest::newRow("string literal") << "SELECT '$1', $1" << "SELECT '$1', ?";
    QTest::newRow("escaped quote") << "SELECT 'it''s $1', $2" << "SELECT 'it''s $1', ?2";
    QTest::newRow("quoted identifier") << "SELECT \"$1\" FROM t WHERE a=$1" << "SELECT \"$1\" FROM t WHERE a=?";
    QTest::newRow("comment") << "SELECT $1 -- $2\n, $3" << "SELECT ? -- $2\n, ?3";
    QTest::newRow("lone dollar") << "SELECT '$' || $1" << "SELECT '$' || ?";
  }
  void rewritesDollarPlaceholdersOutsideLiterals() {
    QFETCH(QString, sql);
    QFETCH(QString, expected);
    QCOMPARE(QString::fromStdString(sqlite_placeholders(sql.toStdString())), expected);
  }

  void opensInWalModeWithForeignKeysAndBusyTimeout() {
    SqliteConnection c({path(), std::chrono::milliseconds(1234)});
    QCOMPARE(c.query("PRAGMA journal_mode")[0].text(0), std::string("wal"));
    QCOMPARE(c.query("PRAGMA foreign_keys")[0].integer(0), std::optional<std::int64_t>(1));
    QCOMPARE(c.query("PRAGMA busy_timeout")[0].integer(0), std::optional<std::int64_t>(1234));
  }

  void bindsParametersAndReturnsNullableFields() {
    SqliteConnection c({path()});
    c.execute("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, n INTEGER, r REAL, t TEXT)");
    c.execute("DELETE FROM kv");
    QCOMPARE(c.execute("INSERT INTO kv VALUES ($1, $2, $3, $4)", {"a", std::int64_t{42}, 2.5, nullptr}), 1);
    QCOMPARE(c.execute("INSERT INTO kv VALUES ($2, $1, NULL, 'x')", {std::int64_t{-7}, "b"}), 1);
    const Result r = c.query("SELECT k, n, r, t FROM kv WHERE n > $1 ORDER BY k", {std::int64_t{-100}});
    QCOMPARE(r.size(), std::size_t(2));
    QCOMPARE(r.columns, (std::vector<std::string>{"k", "n", "r", "t"}));
    QCOMPARE(r[0].text(0), std::string("a"));
    QCOMPARE(r[0].integer(1), std::optional<std::int64_t>(42));
    QCOMPARE(*r[0][2], std::string("2.5"));
    QVERIFY(r[0].is_null(3));
    QCOMPARE(r[1].integer(r.column("n")), std::optional<std::int64_t>(-7));
    QCOMPARE(c.execute("UPDATE kv SET n = n + 1"), 2);
  }

  void mapsErrorsToKinds_data() {
    QTest::addColumn<QString>("sql");
    QTest::addColumn<DbErrorKind>("kind");
    QTest::newRow("unique") << "INSERT INTO p VALUES (1, 'dup')" << DbErrorKind::unique_violation;
    QTest::newRow("not null") << "INSERT INTO p VALUES (2, NULL)" << DbErrorKind::constraint_violation;
    QTest::newRow("foreign key") << "INSERT INTO c VALUES (1, 99)" << DbErrorKind::constraint_violation;
    QTest::newRow("syntax") << "SELEC 1" << DbErrorKind::syntax;
    QTest::newRow("no such table") << "SELECT * FROM nowhere" << DbErrorKind::other;
  }
  void mapsErrorsToKinds() {
    QFETCH(QString, sql);
    QFETCH(DbErrorKind, kind);
    SqliteConnection c({":memory:"});
    c.execute_script(
        "CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
        "CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id));"
        "INSERT INTO p VALUES (1, 'one');");
    try {
      c.execute(sql.toStdString());
      QFAIL("no error");
    } catch (const DbError& e) {
      QCOMPARE(e.kind(), kind);
    }
    QVERIFY(c.last_operation_failed());
    QVERIFY(!c.is_broken());  // a statement error leaves the connection usable
    QVERIFY(c.ping());
  }

  void rollbackDiscardsAndCommitKeeps() {
    SqliteConnection c({":memory:"});
    c.execute("CREATE TABLE t (v INTEGER)");
    c.begin();
    QVERIFY(c.in_transaction());
    c.execute("INSERT INTO t VALUES (1)");
    c.rollback();
    QVERIFY(!c.in_transaction());
    in_transaction(c, [](Connection& tx) { tx.execute("INSERT INTO t VALUES (2)"); });
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, in_transaction(c, [](Connection& tx) {
      tx.execute("INSERT INTO t VALUES (3)");
      throw std::runtime_error("business rule");
    }));
    QCOMPARE(c.query("SELECT group_concat(v) FROM t")[0].text(0), std::string("2"));
    QVERIFY_THROWS_EXCEPTION(DbError, c.commit());
  }

  // Bare and numbered placeholders mixed as the rewrite makes them still bind by number, and a
  // 4,500-parameter INSERT (product-service's seeding batch) lands every row.
  void placeholdersBindByNumberInAnyOrder() {
    SqliteConnection c({path()});
    Params abc;
    for (const char* v : {"a", "b", "c"}) abc.emplace_back(std::string(v));
    const Result r = c.query("SELECT $1, $2, $1, $3, $2", abc);
    QCOMPARE(r[0].text(0), std::string("a"));
    QCOMPARE(r[0].text(1), std::string("b"));
    QCOMPARE(r[0].text(2), std::string("a"));
    QCOMPARE(r[0].text(3), std::string("c"));
    QCOMPARE(r[0].text(4), std::string("b"));
    abc.resize(2);
    QCOMPARE(c.query("SELECT $2 || $1", abc)[0].text(0), std::string("ba"));
    c.execute("CREATE TABLE wide (a INTEGER, b INTEGER, c INTEGER)");
    std::string sql = "INSERT INTO wide VALUES ";
    Params params;
    for (int row = 0; row < 1500; ++row) {
      sql += row ? ",(" : "(";
      for (int col = 1; col <= 3; ++col) {
        sql += "$" + std::to_string(params.size() + 1) + (col < 3 ? "," : ")");
        params.emplace_back(std::in_place_type<std::int64_t>, row * 3 + col);
      }
    }
    c.execute(sql, params);
    const Result sums = c.query("SELECT COUNT(*), SUM(a), SUM(c) - SUM(b) FROM wide");
    QCOMPARE(sums[0].integer(0), std::optional<std::int64_t>(1500));
    QCOMPARE(sums[0].integer(1), std::optional<std::int64_t>(3 * (1499 * 1500 / 2) + 1500));
    QCOMPARE(sums[0].integer(2), std::optional<std::int64_t>(1500));
  }

  void wrongParameterCountIsAnError() {
    SqliteConnection c({":memory:"});
    QVERIFY_THROWS_EXCEPTION(DbError, c.query("SELECT $1, $2", {std::int64_t{1}}));
  }

  void unopenableFileIsConnectionLost() {
    try {
      SqliteConnection c({"/nonexistent-dir/x.db"});
      QFAIL("opened");
    } catch (const DbError& e) {
      QCOMPARE(e.kind(), DbErrorKind::connection_lost);
    }
  }
};

QTEST_APPLESS_MAIN(TestSqliteConnection)
#include "tst_db_sqlite.moc"
