#pragma once
// Migrations against the application database (migrations.database_url),
// history in its table lbctl_schema_migrations. The run lock is
// pg_try_advisory_lock polled in autocommit, never a blocking lock inside a
// transaction (Flyway 1654, golang-migrate 960); connect directly, not
// through a transaction-pooling PgBouncer, or the lock means nothing.

#include <chrono>
#include <filesystem>
#include <string>

#include "core/clock.hpp"
#include "db/migration_repair.hpp"
#include "db/migrator.hpp"

namespace lbctl::db {

struct MigratorOptions {
  std::string database_url;                      // a secret: never printed
  std::filesystem::path dir;                     // holds pre/ and post/
  std::chrono::milliseconds lock_timeout{2000};  // SET LOCAL lock_timeout in the phase's transaction
  std::chrono::milliseconds lock_wait{60000};    // how long to poll for the run lock
  int max_retries = 5;                           // after a lock timeout or deadlock
  bool allow_out_of_order = false;
  std::chrono::milliseconds retry_backoff{500};  // the first wait before a retry; doubles each time
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds lock_poll{250};  // between run lock attempts
  std::chrono::seconds connect_timeout{5};
  std::string host;  // shown to a second run as the lock's holder
  int pid = 0;
};

class PgMigrator final : public Migrator {
 public:
  // Connects only when asked; `clock` paces the lock polling and backoff.
  PgMigrator(MigratorOptions options, Clock& clock);

  Result<PhasePlan> plan(Phase phase) override;
  boost::asio::awaitable<Result<PhaseReport>> apply(Phase phase, std::optional<std::int64_t> cutover_id) override;
  boost::asio::awaitable<Result<PhaseReport>> apply_together(std::vector<Phase> phases,
                                                             std::optional<std::int64_t> cutover_id) override;

  // Adopting a database that already has its schema, and repairs
  // (pg_migration_repair.cpp; see migration_repair.hpp). Not on Migrator:
  // only `lbctl migrate` uses them, and it runs on the real database.

  // Records the files up to and including `through` (both phases) as
  // applied, origin "baseline", without running them, in one transaction
  // under the run lock; with `dry_run` only says which. `by` (who ran it) is
  // recorded in lbctl_schema_history_edits. Fails with invalid as
  // baseline_files(); conflict when a run holds the run lock; unreachable.
  Result<std::vector<MigrationFile>> baseline(const std::string& through, bool dry_run, const std::string& by);
  // What needs repair; changes nothing.
  Result<RepairList> repairs();
  // One repair (see RepairAction) under the run lock, recorded with `by`;
  // with `dry_run` only checked and returned. Fails with invalid as
  // plan_repair(); conflict when a run holds the run lock (an unfinished
  // file may be running right now); unreachable.
  Result<RepairDone> repair(RepairAction action, const std::string& file, const std::string& by, bool dry_run);

 private:
  boost::asio::awaitable<Result<PhaseReport>> apply_phases(std::vector<Phase> phases,
                                                           std::optional<std::int64_t> cutover_id);

  MigratorOptions m_options;
  Clock& m_clock;
};

// The name of the history table in the application database.
inline constexpr const char* k_history_table = "lbctl_schema_migrations";

}  // namespace lbctl::db
