// A small SQL interface the services' repositories are written against, with one SQLite and
// one PostgreSQL implementation. Statements use PostgreSQL placeholders `$1, $2, ...` on both
// backends (the SQLite implementation rewrites them), so a repository carries one SQL string
// per statement unless the dialects really differ (Dialect tells which one it talks to).
//
// Ownership: a Connection owns its native handle and closes it in its destructor.
// Thread-safety: a Connection is used by one thread at a time (the pool guarantees it by
//   leasing it to one caller); no member is safe to call concurrently.
// Errors: every failure is a DbError (db_error.h). A failure that leaves the connection
//   unusable (server gone, backend terminated, I/O error) also marks it broken: is_broken()
//   turns true and every later call throws DbError(connection_lost) without touching the
//   server. The pool evicts such connections.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace mambogo::db {

enum class Dialect { sqlite, postgres };
const char* to_string(Dialect d);  // "sqlite" | "postgres"

// A statement parameter: NULL, integer, real or text. `{1, "x", nullptr, 2.5}` works.
using Param = std::variant<std::nullptr_t, std::int64_t, double, std::string>;
using Params = std::vector<Param>;

// A result field: NULL or the value as text (both backends hand out text; integers parse).
using Field = std::optional<std::string>;

struct Row {
  std::vector<Field> fields;

  const Field& operator[](std::size_t i) const { return fields.at(i); }
  bool is_null(std::size_t i) const { return !fields.at(i).has_value(); }
  // The field as an integer; nullopt for NULL. Throws DbError(other) when not an integer.
  std::optional<std::int64_t> integer(std::size_t i) const;
  // The field as text; throws DbError(other) for NULL.
  const std::string& text(std::size_t i) const;
};

struct Result {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  std::int64_t affected_rows = 0;  // INSERT/UPDATE/DELETE; 0 for queries

  bool empty() const { return rows.empty(); }
  std::size_t size() const { return rows.size(); }
  const Row& operator[](std::size_t i) const { return rows.at(i); }
  // Index of a column by name; throws DbError(other) when absent.
  std::size_t column(std::string_view name) const;
};

class Connection {
 public:
  virtual ~Connection() = default;

  virtual Dialect dialect() const = 0;

  // One statement with positional parameters $1..$N. Returns the affected row count.
  virtual std::int64_t execute(std::string_view sql, const Params& params = {}) = 0;
  // One statement with positional parameters; returns every row.
  virtual Result query(std::string_view sql, const Params& params = {}) = 0;
  // Several statements separated by ';', no parameters (migrations, test fixtures).
  virtual void execute_script(std::string_view sql) = 0;

  // Explicit transactions. Outside begin()/commit() every statement commits on its own.
  // begin() inside a transaction, or commit()/rollback() outside one, throws DbError(other).
  // After a failed statement PostgreSQL refuses more work until rollback().
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;
  virtual bool in_transaction() const = 0;

  // A round trip ("SELECT 1"). Never throws: false means the connection is unusable, and it
  // is then marked broken.
  virtual bool ping() noexcept = 0;
  virtual bool is_broken() const noexcept = 0;
  // True when the most recent execute/query/script/begin/commit/rollback threw. The pool
  // validates such a connection with ping() before it goes back to idle.
  virtual bool last_operation_failed() const noexcept = 0;
};

// Makes a new, connected Connection or throws DbError (usually connection_lost).
// Called by the pool from its own threads; must be safe to call from any thread.
using ConnectionFactory = std::function<std::unique_ptr<Connection>()>;

// Runs `body(conn)` between begin() and commit(); rolls back and rethrows if it throws.
// Returns what body returns.
template <typename F>
auto in_transaction(Connection& conn, F&& body) -> decltype(body(conn)) {
  conn.begin();
  try {
    if constexpr (std::is_void_v<decltype(body(conn))>) {
      body(conn);
      conn.commit();
    } else {
      auto result = body(conn);
      conn.commit();
      return result;
    }
  } catch (...) {
    if (conn.in_transaction()) {
      try {
        conn.rollback();
      } catch (...) {
      }
    }
    throw;
  }
}

}  // namespace mambogo::db
