#include "runtime/db/pg_connection.h"

#include <charconv>
#include <optional>

#include <pqxx/pqxx>

#include "runtime/db/db_error.h"

namespace mambogo::db {
namespace {

std::vector<std::optional<std::string>> to_text(const Params& params) {
  std::vector<std::optional<std::string>> out;
  out.reserve(params.size());
  for (const Param& p : params) {
    if (std::holds_alternative<std::nullptr_t>(p)) {
      out.emplace_back(std::nullopt);
    } else if (auto* n = std::get_if<std::int64_t>(&p)) {
      out.emplace_back(std::to_string(*n));
    } else if (auto* d = std::get_if<double>(&p)) {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);  // shortest round-trip form
      out.emplace_back(std::string(buf, ec == std::errc() ? end : buf));
    } else {
      out.emplace_back(std::get<std::string>(p));
    }
  }
  return out;
}

Result to_result(const pqxx::result& r) {
  Result out;
  const auto columns = r.columns();
  for (pqxx::row_size_type c = 0; c < columns; ++c) out.columns.emplace_back(r.column_name(c));
  out.rows.reserve(r.size());
  for (const auto& row : r) {
    Row converted;
    converted.fields.reserve(columns);
    for (const auto& field : row) {
      if (field.is_null())
        converted.fields.emplace_back(std::nullopt);
      else
        converted.fields.emplace_back(std::string(field.c_str(), field.size()));
    }
    out.rows.push_back(std::move(converted));
  }
  out.affected_rows = columns == 0 ? static_cast<std::int64_t>(r.affected_rows()) : 0;
  return out;
}

}  // namespace

struct PgConnection::Session {
  explicit Session(const std::string& conninfo) : conn(conninfo) {}
  pqxx::connection conn;
  std::unique_ptr<pqxx::work> txn;
};

PgConnection::PgConnection(const std::string& conninfo) {
  try {
    session_ = std::make_unique<Session>(conninfo);
  } catch (const std::exception& e) {
    throw DbError(DbErrorKind::connection_lost, std::string("postgres: cannot connect: ") + e.what());
  }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  session_->conn.inhibit_reactivation(true);
#pragma GCC diagnostic pop
}

PgConnection::~PgConnection() {
  if (session_) session_->txn.reset();  // aborts an open transaction; pqxx destructors do not throw
}

bool PgConnection::in_transaction() const { return session_ && session_->txn != nullptr; }

bool PgConnection::is_broken() const noexcept { return broken_ || !session_ || !session_->conn.is_open(); }

int PgConnection::backend_pid() const noexcept { return session_ ? session_->conn.backendpid() : 0; }

template <typename F>
auto PgConnection::guarded(const char* what, F&& f) -> decltype(f()) {
  if (is_broken()) {
    last_failed_ = true;
    throw DbError(DbErrorKind::connection_lost, std::string("postgres: connection is broken (") + what + ")");
  }
  last_failed_ = false;
  try {
    return f();
  } catch (const pqxx::broken_connection& e) {
    last_failed_ = broken_ = true;
    throw DbError(DbErrorKind::connection_lost, std::string("postgres: ") + e.what(), "08006");
  } catch (const pqxx::sql_error& e) {
    last_failed_ = true;
    const DbErrorKind kind = kind_from_sqlstate(e.sqlstate());
    if (kind == DbErrorKind::connection_lost) broken_ = true;
    throw DbError(kind, std::string("postgres: ") + e.what(), e.sqlstate());
  } catch (const pqxx::in_doubt_error& e) {
    // The commit may or may not have happened; the session cannot be trusted any more.
    last_failed_ = broken_ = true;
    throw DbError(DbErrorKind::connection_lost, std::string("postgres: commit in doubt: ") + e.what());
  } catch (const DbError&) {
    last_failed_ = true;
    throw;
  } catch (const std::exception& e) {
    last_failed_ = true;
    if (!session_->conn.is_open()) broken_ = true;
    throw DbError(broken_ ? DbErrorKind::connection_lost : DbErrorKind::other,
                  std::string("postgres: ") + e.what());
  }
}

Result PgConnection::run(std::string_view sql, const Params& params) {
  return guarded("statement", [&] {
    const std::string text(sql);
    const auto values = to_text(params);
    if (session_->txn) return to_result(session_->txn->exec_params(text, pqxx::prepare::make_dynamic_params(values)));
    pqxx::nontransaction autocommit(session_->conn);
    return to_result(autocommit.exec_params(text, pqxx::prepare::make_dynamic_params(values)));
  });
}

std::int64_t PgConnection::execute(std::string_view sql, const Params& params) {
  return run(sql, params).affected_rows;
}

Result PgConnection::query(std::string_view sql, const Params& params) { return run(sql, params); }

void PgConnection::execute_script(std::string_view sql) {
  guarded("script", [&] {
    const std::string text(sql);  // simple query protocol: several statements allowed
    if (session_->txn) {
      session_->txn->exec(text);
    } else {
      pqxx::nontransaction autocommit(session_->conn);
      autocommit.exec(text);
    }
  });
}

void PgConnection::begin() {
  guarded("begin", [&] {
    if (session_->txn) throw DbError(DbErrorKind::other, "postgres: begin() inside a transaction");
    session_->txn = std::make_unique<pqxx::work>(session_->conn);
  });
}

void PgConnection::commit() {
  guarded("commit", [&] {
    if (!session_->txn) throw DbError(DbErrorKind::other, "postgres: commit() outside a transaction");
    auto txn = std::move(session_->txn);  // closed whatever commit() does
    txn->commit();
  });
}

void PgConnection::rollback() {
  if (!session_->txn) {
    last_failed_ = true;
    throw DbError(DbErrorKind::other, "postgres: rollback() outside a transaction");
  }
  auto txn = std::move(session_->txn);
  if (is_broken()) return;  // nothing to roll back on a dead session; the server already did
  guarded("rollback", [&] { txn->abort(); });
}

bool PgConnection::ping() noexcept {
  if (is_broken()) return false;
  try {
    if (session_->txn) {
      guarded("ping", [&] { session_->txn->exec("SELECT 1"); });
    } else {
      run("SELECT 1", {});
    }
    return true;
  } catch (...) {
    broken_ = true;
    return false;
  }
}

ConnectionFactory pg_factory(std::string conninfo) {
  return [conninfo = std::move(conninfo)]() -> std::unique_ptr<Connection> {
    return std::make_unique<PgConnection>(conninfo);
  };
}

}  // namespace mambogo::db
