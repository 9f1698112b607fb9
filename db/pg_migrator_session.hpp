#pragma once
// Internal to PgMigrator (pg_migrator.cpp): the session a migration run holds
// on the application database. Connecting, reading the plan and taking the
// run lock fail with unreachable when the connection is lost, so the caller
// can retry them as it retries the transaction.

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "db/pg_migrator.hpp"

namespace lbctl::db::migrator_session {

struct Session {
  std::unique_ptr<pqxx::connection> connection;
  PhasePlan plan;  // read under the run lock
  std::vector<const MigrationFile*> in_transaction;
  std::vector<const MigrationFile*> alone;
};

// "2s", "250ms".
std::string seconds_text(std::chrono::milliseconds d);
Result<std::unique_ptr<pqxx::connection>> connect_app(const MigratorOptions& options, Phase phase);
Result<PhasePlan> plan_on(pqxx::connection& connection, std::vector<MigrationFile> files, Phase phase,
                          bool allow_out_of_order);
// What stops a run while a no-transaction file is recorded running.
std::string unfinished_text(const std::vector<AppliedMigration>& unfinished);
// `connection` (a new one when null) under the run lock, the plan read again under it.
boost::asio::awaitable<Result<Session>> locked_session(std::unique_ptr<pqxx::connection> connection,
                                                       const std::vector<Phase>& phases,
                                                       const std::vector<std::vector<MigrationFile>>& files,
                                                       const MigratorOptions& options, Clock& clock);
// Connects and reads the plan; when something is pending, takes the run lock
// and reads it again under it. nullopt: nothing to do.
boost::asio::awaitable<Result<std::optional<Session>>> open_session(const std::vector<Phase>& phases,
                                                                   const std::vector<std::vector<MigrationFile>>& files,
                                                                   const MigratorOptions& options, Clock& clock);
bool still_pending(const Session& session, const std::string& label);

}  // namespace lbctl::db::migrator_session
