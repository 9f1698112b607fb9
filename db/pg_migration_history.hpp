#pragma once
// lbctl_schema_migrations: reading it, creating it, writing rows; and
// lbctl_schema_history_edits, what operators changed in it by hand (baseline,
// repair), who and when. Internal to PgMigrator (includes libpqxx).

#include <pqxx/pqxx>

#include "db/migrator.hpp"
#include "db/pg_support.hpp"

namespace lbctl::db::history {

// The migration run lock: one migration run (or baseline, repair, restore)
// per application database at a time.
inline constexpr AdvisoryKey k_run_lock{k_space_migration_run, 0};

// Every row of `phase`; none when the table does not exist yet.
std::vector<AppliedMigration> read(pqxx::transaction_base& tx, Phase phase);

// CREATE TABLE IF NOT EXISTS, inside the caller's transaction so a failed
// first phase leaves no table behind.
void ensure_table(pqxx::transaction_base& tx);

// Inserts or replaces the row of `file` (a failed no-transaction file is
// recorded again when retried).
void record(pqxx::transaction_base& tx, const MigrationFile& file, AppliedMigration::Status status,
            std::optional<std::int64_t> duration_ms, std::optional<std::int64_t> cutover_id);

// Rows of every phase; 0 when the table does not exist yet.
std::size_t count_rows(pqxx::transaction_base& tx);

// Adds the origin column to a table an older lbctl created (it has none).
void ensure_origin(pqxx::transaction_base& tx);

// Records `file` done without running it, origin "baseline".
void record_baseline(pqxx::transaction_base& tx, const MigrationFile& file);

// CREATE TABLE IF NOT EXISTS lbctl_schema_history_edits.
void ensure_edits_table(pqxx::transaction_base& tx);

// One hand-made change to the history: `action` (baseline, done, undo,
// accept) of phase/version/name, the checksums before and after (empty for
// none), and who made it.
struct Edit {
  std::string action;
  Phase phase = Phase::pre;
  std::string version;
  std::string name;
  std::string old_sha256;
  std::string new_sha256;
  std::string by;
};
void record_edit(pqxx::transaction_base& tx, const Edit& edit);

// pg_try_advisory_lock on the run lock, once, on `connection` (autocommit):
// conflict naming the holder when another session has it. The lock goes
// with the connection.
Result<void> try_run_lock(pqxx::connection& connection, std::string_view what);

}  // namespace lbctl::db::history
