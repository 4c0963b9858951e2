#include "runtime/db/connection.h"

#include <charconv>

#include "runtime/db/db_error.h"

namespace mambogo::db {

const char* to_string(DbErrorKind kind) {
  switch (kind) {
    case DbErrorKind::connection_lost: return "connection_lost";
    case DbErrorKind::unique_violation: return "unique_violation";
    case DbErrorKind::constraint_violation: return "constraint_violation";
    case DbErrorKind::timeout: return "timeout";
    case DbErrorKind::syntax: return "syntax";
    case DbErrorKind::other: return "other";
  }
  return "other";
}

DbErrorKind kind_from_sqlstate(const std::string& s) {
  if (s.size() != 5) return DbErrorKind::other;
  if (s == "23505") return DbErrorKind::unique_violation;
  if (s.compare(0, 2, "23") == 0) return DbErrorKind::constraint_violation;
  // 57P01 admin_shutdown (pg_terminate_backend), 57P02 crash_shutdown, 57P03 cannot_connect_now.
  if (s.compare(0, 2, "08") == 0 || s == "57P01" || s == "57P02" || s == "57P03")
    return DbErrorKind::connection_lost;
  if (s == "57014" || s == "55P03") return DbErrorKind::timeout;  // query_canceled, lock_not_available
  if (s == "42601") return DbErrorKind::syntax;
  return DbErrorKind::other;
}

const char* to_string(Dialect d) { return d == Dialect::sqlite ? "sqlite" : "postgres"; }

std::optional<std::int64_t> Row::integer(std::size_t i) const {
  const Field& f = fields.at(i);
  if (!f) return std::nullopt;
  std::int64_t value = 0;
  const char* end = f->data() + f->size();
  auto [ptr, ec] = std::from_chars(f->data(), end, value);
  if (ec != std::errc() || ptr != end)
    throw DbError(DbErrorKind::other, "field " + std::to_string(i) + " is not an integer: '" + *f + "'");
  return value;
}

const std::string& Row::text(std::size_t i) const {
  const Field& f = fields.at(i);
  if (!f) throw DbError(DbErrorKind::other, "field " + std::to_string(i) + " is NULL");
  return *f;
}

std::size_t Result::column(std::string_view name) const {
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return i;
  throw DbError(DbErrorKind::other, "no column named '" + std::string(name) + "'");
}

}  // namespace mambogo::db
