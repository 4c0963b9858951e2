// SQLite implementation of Connection (sqlite3 C API), the embedded default: one database
// file per service, opened in WAL mode (readers never block the writer), with busy_timeout
// so that concurrent writers from the pool wait instead of failing, and foreign keys on.
//
// Dialect notes: `$N` placeholders are rewritten to `?N`; begin() issues BEGIN IMMEDIATE,
// taking the write lock up front, so that read-modify-write transactions (stock
// reservation) cannot deadlock on a lock upgrade; the cost is that transactions serialise.
//
// Ownership, thread-safety, errors: as Connection (connection.h).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "runtime/db/connection.h"

struct sqlite3;

namespace mambogo::db {

struct SqliteOptions {
  std::string path;                              // a file, or ":memory:" (private to this connection)
  std::chrono::milliseconds busy_timeout{5000};  // wait for locks at most this long (then timeout)
  bool wal = true;                               // journal_mode=WAL (ignored for :memory:)
};

class SqliteConnection final : public Connection {
 public:
  // Opens (creating if needed) and configures the database. Throws DbError(connection_lost)
  // when the file cannot be opened.
  explicit SqliteConnection(const SqliteOptions& options);
  ~SqliteConnection() override;
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Dialect dialect() const override { return Dialect::sqlite; }
  std::int64_t execute(std::string_view sql, const Params& params = {}) override;
  Result query(std::string_view sql, const Params& params = {}) override;
  void execute_script(std::string_view sql) override;
  void begin() override;
  void commit() override;
  void rollback() override;
  bool in_transaction() const override;
  bool ping() noexcept override;
  bool is_broken() const noexcept override { return broken_; }
  bool last_operation_failed() const noexcept override { return last_failed_; }

 private:
  Result run(std::string_view sql, const Params& params);
  [[noreturn]] void fail(int rc, const std::string& context);
  void check_usable() const;

  sqlite3* db_ = nullptr;
  bool broken_ = false;
  bool last_failed_ = false;
};

// A factory for ConnectionPool: every call opens a new connection to the same file.
ConnectionFactory sqlite_factory(SqliteOptions options);

// `$N` -> `?` when N is one more than the largest number so far (SQLite's own rule for a bare
// `?`), else `?N`; outside string literals, quoted identifiers and comments. Exposed for tests.
std::string sqlite_placeholders(std::string_view sql);

}  // namespace mambogo::db
