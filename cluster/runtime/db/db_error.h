// The one exception type of the storage layer. Every backend maps its own failures (SQLSTATE
// for PostgreSQL, result codes for SQLite, pool exhaustion) onto a small set of kinds that
// callers can act on: retry on connection_lost/timeout, answer 409 on unique_violation, and
// treat everything else as a bug or an outage.
//
// Thread-safety: a value type; immutable after construction.
#pragma once

#include <stdexcept>
#include <string>

namespace mambogo::db {

enum class DbErrorKind {
  connection_lost,       // server gone, connection broken or could not be made
  unique_violation,      // SQLSTATE 23505, SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY
  constraint_violation,  // any other integrity constraint (23xxx, SQLITE_CONSTRAINT_*)
  timeout,               // pool acquire timeout, statement timeout, lock wait (SQLITE_BUSY)
  syntax,                // SQLSTATE class 42 syntax error, SQLite "syntax error"
  other,
};
const char* to_string(DbErrorKind kind);  // "connection_lost", ...

class DbError : public std::runtime_error {
 public:
  // code: the backend's own code for logs ("23505", "SQLITE_BUSY"); may be empty.
  DbError(DbErrorKind kind, const std::string& message, std::string code = {})
      : std::runtime_error(message), kind_(kind), code_(std::move(code)) {}

  DbErrorKind kind() const noexcept { return kind_; }
  const std::string& code() const noexcept { return code_; }
  // unique_violation is a constraint violation too.
  bool is_constraint_violation() const noexcept {
    return kind_ == DbErrorKind::constraint_violation || kind_ == DbErrorKind::unique_violation;
  }

 private:
  DbErrorKind kind_;
  std::string code_;
};

// SQLSTATE (five characters) to kind: 23505 unique, 23xxx constraint, 08xxx and 57P01-03
// connection_lost, 57014 / 55P03 timeout, 42601 and class 42 syntax-or-access, else other.
DbErrorKind kind_from_sqlstate(const std::string& sqlstate);

}  // namespace mambogo::db
