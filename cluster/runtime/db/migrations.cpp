#include "runtime/db/migrations.h"

#include <algorithm>
#include <stdexcept>

namespace mambogo::db {
namespace {

constexpr const char* kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY,"
    " description TEXT NOT NULL,"
    " applied_at TEXT NOT NULL)";

// Any constant works; it only has to be the same for every process migrating this database.
constexpr std::int64_t kMigrationLockKey = 0x6d616d626f676f;  // "mambogo"

int recorded_version(Connection& conn) {
  return static_cast<int>(conn.query("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0].integer(0).value_or(0));
}

}  // namespace

SchemaTooNewError::SchemaTooNewError(int database_version, int known_version)
    : DbError(DbErrorKind::other,
              "database schema is at version " + std::to_string(database_version) +
                  ", newer than the newest this build knows (" + std::to_string(known_version) +
                  "); refusing to start: deploy a build that knows this schema or restore a matching backup"),
      database_version_(database_version),
      known_version_(known_version) {}

MigrationResult migrate(Connection& conn, const std::vector<Migration>& migrations) {
  int last = 0;
  for (const Migration& m : migrations) {
    if (m.version <= last)
      throw std::invalid_argument("migrations: versions must be positive and strictly increasing (at " +
                                  std::to_string(m.version) + ")");
    last = m.version;
  }
  const int known = last;
  const bool pg = conn.dialect() == Dialect::postgres;
  return in_transaction(conn, [&](Connection& c) {
    if (pg) c.query("SELECT pg_advisory_xact_lock($1)", {kMigrationLockKey});
    c.execute(kCreateVersionTable);
    MigrationResult result;
    result.previous_version = recorded_version(c);
    if (result.previous_version > known) throw SchemaTooNewError(result.previous_version, known);
    for (const Migration& m : migrations) {
      if (m.version <= result.previous_version) continue;
      const std::string& sql = pg ? m.postgres : m.sqlite;
      if (sql.empty())
        throw std::invalid_argument("migration " + std::to_string(m.version) + " has no " +
                                    to_string(c.dialect()) + " script");
      c.execute_script(sql);
      c.execute("INSERT INTO schema_version (version, description, applied_at)"
                " VALUES ($1, $2, CAST(CURRENT_TIMESTAMP AS TEXT))",
                {std::int64_t{m.version}, m.description});
      result.applied.push_back(m.version);
    }
    result.current_version = std::max(result.previous_version, known);
    return result;
  });
}

int schema_version(Connection& conn) {
  const bool pg = conn.dialect() == Dialect::postgres;
  const Result exists = conn.query(pg ? "SELECT to_regclass('schema_version') IS NOT NULL"
                                      : "SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'");
  const std::string& v = exists[0].text(0);
  if (v == "f" || v == "0") return 0;
  return recorded_version(conn);
}

}  // namespace mambogo::db
