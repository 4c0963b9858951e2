#include "runtime/db/sqlite_connection.h"

#include <charconv>

#include <sqlite3.h>

#include "runtime/db/db_error.h"

namespace mambogo::db {
namespace {

DbErrorKind kind_from_sqlite(int rc, const char* message) {
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return DbErrorKind::unique_violation;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return DbErrorKind::timeout;
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return DbErrorKind::constraint_violation;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return DbErrorKind::timeout;
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM: return DbErrorKind::connection_lost;
    case SQLITE_ERROR:
      if (message && std::string_view(message).find("syntax error") != std::string_view::npos)
        return DbErrorKind::syntax;
      return DbErrorKind::other;
    default: return DbErrorKind::other;
  }
}

struct Statement {
  sqlite3_stmt* stmt = nullptr;
  ~Statement() { sqlite3_finalize(stmt); }
};

}  // namespace

std::string sqlite_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  unsigned long highest = 0;  // the largest parameter number assigned so far
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {  // copy the quoted run; '' and "" escape themselves
      const std::size_t end = sql.find(c, i + 1);
      const std::size_t stop = end == std::string_view::npos ? sql.size() : end + 1;
      out.append(sql.substr(i, stop - i));
      i = stop - 1;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      const std::size_t end = sql.find('\n', i);
      const std::size_t stop = end == std::string_view::npos ? sql.size() : end;
      out.append(sql.substr(i, stop - i));
      i = stop - 1;
    } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      std::size_t end = i + 1;
      while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9') ++end;
      const std::string_view digits = sql.substr(i + 1, end - i - 1);
      unsigned long n = 0;
      const bool parsed = std::from_chars(digits.data(), digits.data() + digits.size(), n).ec == std::errc{};
      // A bare `?` is "the largest number so far + 1". SQLite codes each *numbered* parameter
      // with a linear search for its name, which made a 4,500-parameter INSERT quadratic (82%
      // of product-service's seeding); in-order parameters, the usual case, go bare.
      out.push_back('?');
      if (!parsed || n != highest + 1) out.append(digits);
      if (parsed) highest = std::max(highest, n);
      i = end - 1;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

SqliteConnection::SqliteConnection(const SqliteOptions& options) {
  const int rc = sqlite3_open_v2(options.path.c_str(), &db_,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw DbError(DbErrorKind::connection_lost, "sqlite: cannot open '" + options.path + "': " + msg,
                  sqlite3_errstr(rc));
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, static_cast<int>(options.busy_timeout.count()));
  try {
    if (options.wal && options.path != ":memory:") run("PRAGMA journal_mode=WAL", {});
    // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose
    // the last transactions, which is the trade SQLite documents for WAL.
    execute_script("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
  last_failed_ = false;
}

SqliteConnection::~SqliteConnection() { sqlite3_close_v2(db_); }

void SqliteConnection::check_usable() const {
  if (broken_) throw DbError(DbErrorKind::connection_lost, "sqlite: connection is broken");
}

void SqliteConnection::fail(int rc, const std::string& context) {
  last_failed_ = true;
  const char* msg = sqlite3_errmsg(db_);
  const DbErrorKind kind = kind_from_sqlite(rc, msg);
  if (kind == DbErrorKind::connection_lost) broken_ = true;
  throw DbError(kind, "sqlite: " + std::string(msg) + " (" + context + ")", sqlite3_errstr(rc));
}

Result SqliteConnection::run(std::string_view sql, const Params& params) {
  check_usable();
  last_failed_ = false;
  const std::string text = sqlite_placeholders(sql);
  Statement st;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db_, text.c_str(), static_cast<int>(text.size()), &st.stmt, &tail);
  if (rc != SQLITE_OK) fail(rc, "prepare");
  if (!st.stmt) return {};  // empty statement
  const int expected = sqlite3_bind_parameter_count(st.stmt);
  if (expected != static_cast<int>(params.size())) {
    last_failed_ = true;
    throw DbError(DbErrorKind::other, "sqlite: statement takes " + std::to_string(expected) +
                                          " parameters, " + std::to_string(params.size()) + " given");
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const Param& p = params[i];
    if (std::holds_alternative<std::nullptr_t>(p))
      rc = sqlite3_bind_null(st.stmt, index);
    else if (auto* n = std::get_if<std::int64_t>(&p))
      rc = sqlite3_bind_int64(st.stmt, index, *n);
    else if (auto* d = std::get_if<double>(&p))
      rc = sqlite3_bind_double(st.stmt, index, *d);
    else {
      const auto& s = std::get<std::string>(p);
      rc = sqlite3_bind_text(st.stmt, index, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
    if (rc != SQLITE_OK) fail(rc, "bind");
  }
  Result result;
  const int columns = sqlite3_column_count(st.stmt);
  for (int c = 0; c < columns; ++c) result.columns.emplace_back(sqlite3_column_name(st.stmt, c));
  while ((rc = sqlite3_step(st.stmt)) == SQLITE_ROW) {
    Row row;
    row.fields.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      if (sqlite3_column_type(st.stmt, c) == SQLITE_NULL) {
        row.fields.emplace_back(std::nullopt);
      } else {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st.stmt, c));
        row.fields.emplace_back(std::string(p, sqlite3_column_bytes(st.stmt, c)));
      }
    }
    result.rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) fail(rc, "step");
  result.affected_rows = columns == 0 ? sqlite3_changes64(db_) : 0;
  return result;
}

std::int64_t SqliteConnection::execute(std::string_view sql, const Params& params) {
  return run(sql, params).affected_rows;
}

Result SqliteConnection::query(std::string_view sql, const Params& params) { return run(sql, params); }

void SqliteConnection::execute_script(std::string_view sql) {
  check_usable();
  last_failed_ = false;
  char* err = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) fail(rc, "script");
}

void SqliteConnection::begin() {
  check_usable();
  if (in_transaction()) {
    last_failed_ = true;
    throw DbError(DbErrorKind::other, "sqlite: begin() inside a transaction");
  }
  run("BEGIN IMMEDIATE", {});
}

void SqliteConnection::commit() {
  check_usable();
  if (!in_transaction()) {
    last_failed_ = true;
    throw DbError(DbErrorKind::other, "sqlite: commit() outside a transaction");
  }
  run("COMMIT", {});
}

void SqliteConnection::rollback() {
  check_usable();
  if (!in_transaction()) {
    last_failed_ = true;
    throw DbError(DbErrorKind::other, "sqlite: rollback() outside a transaction");
  }
  run("ROLLBACK", {});
}

bool SqliteConnection::in_transaction() const { return db_ && sqlite3_get_autocommit(db_) == 0; }

bool SqliteConnection::ping() noexcept {
  if (broken_) return false;
  try {
    run("SELECT 1", {});
    return true;
  } catch (...) {
    broken_ = true;
    return false;
  }
}

ConnectionFactory sqlite_factory(SqliteOptions options) {
  return [options = std::move(options)]() -> std::unique_ptr<Connection> {
    return std::make_unique<SqliteConnection>(options);
  };
}

}  // namespace mambogo::db
