#pragma once
// lbctl_schema_migrations: reading it, creating it, writing rows. Internal to
// PgMigrator (includes libpqxx).

#include <pqxx/pqxx>

#include "db/migrator.hpp"

namespace lbctl::db::history {

// Every row of `phase`; none when the table does not exist yet.
std::vector<AppliedMigration> read(pqxx::transaction_base& tx, Phase phase);

// CREATE TABLE IF NOT EXISTS, inside the caller's transaction so a failed
// first phase leaves no table behind.
void ensure_table(pqxx::transaction_base& tx);

// Inserts or replaces the row of `file` (a failed no-transaction file is
// recorded again when retried).
void record(pqxx::transaction_base& tx, const MigrationFile& file, AppliedMigration::Status status,
            std::optional<std::int64_t> duration_ms, std::optional<std::int64_t> cutover_id);

}  // namespace lbctl::db::history
