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

// True when the server closed `db` (a restart, a failover, a terminated
// backend): an idle connection in autocommit has nothing to read otherwise.
// Asked before every query, because libpqxx 6 leaks a result when a query
// meets a connection the server closed.
bool server_closed(pqxx::connection& db);

// guarded() for the journal's own connection: unreachable at once, without
// a query, when the server closed it (reacquire() opens a new one).
template <class F>
auto guarded_on(PgJournal::State& state, std::string_view what, F&& body) -> decltype(body()) {
  if (!state.db || server_closed(*state.db)) {
    return std::unexpected(Error{ErrorKind::unreachable, "state database: " + std::string(what) +
                                                             ": lost the connection to the database (the server closed it)"});
  }
  return guarded(what, std::forward<F>(body));
}

// Creates or upgrades schema lbctl on `connection`.
Result<void> ensure_schema(pqxx::connection& connection);

}  // namespace lbctl::db
