// PostgreSQL implementation of Connection over libpqxx 6.4. Statements outside a transaction
// run in a pqxx::nontransaction (autocommit); begin() opens a pqxx::work that commit() and
// rollback() close. Parameters go to the server as text through exec_params, never spliced
// into the SQL.
//
// libpqxx 6 silently reconnects a broken connection when the next transaction starts; that
// is switched off, because a reconnected session has lost its state and the pool, not the
// driver, decides what replaces a broken connection.
//
// Ownership, thread-safety, errors: as Connection (connection.h).
#pragma once

#include <memory>
#include <string>

#include "runtime/db/connection.h"

namespace mambogo::db {

class PgConnection final : public Connection {
 public:
  // conninfo: a libpq connection string, e.g. "host=127.0.0.1 port=5432 dbname=x user=y
  // connect_timeout=2". Throws DbError(connection_lost) when the server cannot be reached.
  explicit PgConnection(const std::string& conninfo);
  ~PgConnection() override;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Dialect dialect() const override { return Dialect::postgres; }
  std::int64_t execute(std::string_view sql, const Params& params = {}) override;
  Result query(std::string_view sql, const Params& params = {}) override;
  void execute_script(std::string_view sql) override;
  void begin() override;
  void commit() override;
  void rollback() override;
  bool in_transaction() const override;
  bool ping() noexcept override;
  bool is_broken() const noexcept override;
  bool last_operation_failed() const noexcept override { return last_failed_; }

  // The server process id of this session (pg_terminate_backend target in tests).
  int backend_pid() const noexcept;

 private:
  template <typename F>
  auto guarded(const char* what, F&& f) -> decltype(f());
  Result run(std::string_view sql, const Params& params);

  struct Session;  // pqxx::connection and the open pqxx::work, kept out of this header
  std::unique_ptr<Session> session_;
  bool broken_ = false;
  bool last_failed_ = false;
};

// A factory for ConnectionPool: every call opens a new session with the same conninfo.
ConnectionFactory pg_factory(std::string conninfo);

}  // namespace mambogo::db
