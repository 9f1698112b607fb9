#pragma once
// Migrations as the controller and `lbctl migrate` see them: what a phase
// would apply, and applying it. PgMigrator is the real one; tests use
// tests/support/fake_migrator.hpp.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "db/migration_files.hpp"

namespace lbctl::db {

// One row of lbctl_schema_migrations in the application database.
struct AppliedMigration {
  enum class Status { done, running, failed };
  Phase phase = Phase::pre;
  std::string version;
  std::string name;
  std::string sha256;
  Status status = Status::done;
  std::chrono::system_clock::time_point applied_at{};
  std::optional<std::int64_t> duration_ms;
  std::optional<std::int64_t> cutover_id;
  // How the row came to be: "applied" (lbctl ran the file), "baseline"
  // (recorded by `migrate baseline`, never run by lbctl), "repair" (marked
  // done by `migrate repair --done` after an operator checked).
  std::string origin = "applied";
};

std::string_view to_string(AppliedMigration::Status status);

struct PhasePlan {
  Phase phase = Phase::pre;
  // In the order apply() runs them: transactional files by version, then
  // no-transaction files by version.
  std::vector<MigrationFile> pending;
  // No-transaction files recorded `running`: a run died while applying them
  // (or one is applying them now). apply() refuses until an operator checks.
  std::vector<AppliedMigration> unfinished;
  std::size_t applied = 0;  // files already done
  // Who holds the run lock right now ("lbctl migrate pre host=a pid=7 ..."),
  // when someone does.
  std::optional<std::string> run_lock_holder;
};

struct AppliedFile {
  std::string label;  // "pre/20261121_01_add_total.sql"
  std::string version;
  std::string sha256;
  bool no_transaction = false;
  std::chrono::milliseconds duration{0};
};

struct PhaseReport {
  Phase phase = Phase::pre;
  std::vector<AppliedFile> applied;        // empty when nothing was pending
  int attempts = 0;                        // transactions tried: 1 + retries after lock timeouts or deadlocks
  std::chrono::milliseconds lock_wait{0};  // waiting for the run lock
  std::chrono::milliseconds elapsed{0};
};

class Migrator {
 public:
  virtual ~Migrator() = default;

  // Reads the files and the history; changes nothing (not even creating the
  // history table). Fails with invalid (naming the file) for a bad file, a
  // changed applied file, or a pending file older than an applied one
  // (unless out of order is allowed); unreachable when the database is.
  virtual Result<PhasePlan> plan(Phase phase) = 0;

  // Applies the phase's pending files under the run lock: transactional files
  // in one transaction (retried whole on lock timeout or deadlock), then each
  // no-transaction file alone. A no-op returning an empty report when nothing
  // is pending. Fails with: conflict when the run lock stays held past
  // lock_wait (the message names the holder) or a file is recorded
  // unfinished; invalid as plan(); refused for an SQL error, naming the file
  // and line, after rolling the transaction back (the schema is as before,
  // unless a no-transaction file failed after the transaction committed: the
  // message says so); timeout when lock timeouts outlast the retries;
  // unreachable when the database is.
  virtual boost::asio::awaitable<Result<PhaseReport>> apply(Phase phase, std::optional<std::int64_t> cutover_id) = 0;

  // As apply(), for several phases at once: every transactional file of
  // `phases`, in that order, in ONE transaction, then the no-transaction
  // files. A maintenance-mode cutover applies pre/ and post/ so: all its
  // migrations in one transaction, rolled back together on failure.
  virtual boost::asio::awaitable<Result<PhaseReport>> apply_together(std::vector<Phase> phases,
                                                                     std::optional<std::int64_t> cutover_id) = 0;
};

// The plan from the files and the history, without a database: checks
// changed and renamed applied files, orders the pending ones, refuses out
// of order pending files unless `allow_out_of_order`.
Result<PhasePlan> make_phase_plan(Phase phase, std::vector<MigrationFile> files,
                                  const std::vector<AppliedMigration>& history, bool allow_out_of_order);

}  // namespace lbctl::db
