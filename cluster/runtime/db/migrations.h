// A tiny schema migration runner. A service carries an ordered list of migrations, each with
// its SQL for both dialects; migrate() applies those newer than the database's version, in
// one transaction (both backends have transactional DDL: all or nothing), and records them
// in the schema_version table. It refuses to touch a database whose version is newer than
// the newest migration the code knows: an old binary must not write to a newer schema.
//
// Concurrent starters are serialised (PostgreSQL: a transaction-scoped advisory lock;
// SQLite: BEGIN IMMEDIATE), so two replicas starting together apply each migration once.
//
// Thread-safety: migrate() uses the connection it is given, exclusively, for its duration.
#pragma once

#include <string>
#include <vector>

#include "runtime/db/connection.h"
#include "runtime/db/db_error.h"

namespace mambogo::db {

struct Migration {
  int version;              // > 0, strictly increasing along the list
  std::string description;
  std::string sqlite;       // script (several statements allowed) for each dialect
  std::string postgres;
};

struct MigrationResult {
  int previous_version = 0;
  int current_version = 0;
  std::vector<int> applied;
};

// Thrown when the database's schema is newer than the code (kind other).
class SchemaTooNewError : public DbError {
 public:
  SchemaTooNewError(int database_version, int known_version);
  int database_version() const { return database_version_; }
  int known_version() const { return known_version_; }

 private:
  int database_version_;
  int known_version_;
};

// Throws std::invalid_argument for a malformed list, SchemaTooNewError, or the DbError of a
// failing migration (nothing of the run is then kept).
MigrationResult migrate(Connection& conn, const std::vector<Migration>& migrations);

// The recorded version; 0 when no migration was ever applied.
int schema_version(Connection& conn);

}  // namespace mambogo::db
