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
  // Names this journal's lock sessions (application_name "lbctl[NONCE]
  // cutover SERVICE ..."), so one it lost behind a proxy can be found.
  std::string nonce;
  // The cutover this journal runs (begin, adopt) and the owner token it
  // wrote: every write of that cutover is conditional on it.
  std::int64_t owned = 0;
  std::string token;
  // A call failed because the database stopped answering, and none has
  // succeeded since: release() then sends nothing more.
  bool silent = false;
};

namespace journal_sql {

// A timestamptz column as microseconds since the epoch (bigint), the SQL for
// it: what every read turns into a JournalTime.
inline std::string epoch_us(std::string_view column) {
  return "(extract(epoch FROM " + std::string(column) + ") * 1000000)::bigint";
}

// The columns read_cutover() expects, from lbctl.cutovers AS c; the last one
// derives `interrupted` from pg_locks.
extern const std::string k_cutover_columns;

}  // namespace journal_sql

Cutover read_cutover(const pqxx::row& row);

// The timeouts of the journal's own connection.
ClientTimeouts journal_timeouts(const PgJournalOptions& options);

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
  auto result = guarded(what, std::forward<F>(body));
  state.silent = !result && result.error().kind == ErrorKind::unreachable;
  return result;
}

// A fresh owner token: 128 random bits, hex.
std::string new_owner_token();

// The owner token a write of `cutover_id` must find ("" when this journal
// does not run that cutover: another process's request, say).
inline std::string fence_of(const PgJournal::State& state, std::int64_t cutover_id) {
  return state.owned == cutover_id ? state.token : std::string();
}
// An SQL condition true when the token in parameter `param` is "" or still
// owns cutover $1.
inline std::string k_owner_holds(const std::string& param) {
  return "(" + param + " = '' OR EXISTS (SELECT 1 FROM lbctl.cutovers o WHERE o.id = $1 AND o.owner_token = " + param +
         "))";
}
// conflict: another lbctl took `cutover_id` over.
std::unexpected<Error> taken_over(std::int64_t cutover_id);

// Creates or upgrades schema lbctl on `connection`.
Result<void> ensure_schema(pqxx::connection& connection);

}  // namespace lbctl::db
