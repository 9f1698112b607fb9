#pragma once
// PgJournal's insides, shared by pg_journal*.cpp; includes libpqxx.

#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "db/pg_journal.hpp"
#include "db/pg_lock_session.hpp"
#include "db/pg_support.hpp"

namespace lbctl::db {

struct PgJournal::State {
  PgJournalOptions options;
  std::unique_ptr<pqxx::connection> db;  // reads and writes (autocommit)
  // While a cutover runs: the connection holding its service lock.
  std::unique_ptr<LockSession> lock;
  AdvisoryKey lock_key;
  std::string lock_service;
};

namespace journal_sql {

// The columns read_cutover() expects, from lbctl.cutovers AS c; the last one
// derives `interrupted` from pg_locks.
extern const std::string k_cutover_columns;

}  // namespace journal_sql

Cutover read_cutover(const pqxx::row& row);

// Creates or upgrades schema lbctl on `connection`.
Result<void> ensure_schema(pqxx::connection& connection);

}  // namespace lbctl::db
