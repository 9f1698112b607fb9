#include "db/pg_migration_history.hpp"

#include "db/pg_migrator.hpp"
#include "db/pg_support.hpp"
#include "db/pqxx_compat.hpp"

namespace lbctl::db::history {

namespace {

const std::string k_table = k_history_table;

AppliedMigration::Status parse_status(const std::string& text) {
  if (text == "done") return AppliedMigration::Status::done;
  if (text == "running") return AppliedMigration::Status::running;
  return AppliedMigration::Status::failed;
}

std::string optional_number(std::optional<std::int64_t> value) { return value ? std::to_string(*value) : ""; }

}  // namespace

std::vector<AppliedMigration> read(pqxx::transaction_base& tx, Phase phase) {
  std::vector<AppliedMigration> out;
  if (tx.exec("SELECT to_regclass(" + tx.quote(k_table) + ") IS NULL")[0][0].as<bool>()) return out;
  // to_jsonb reads origin from a table an older lbctl created without it too.
  const auto rows = exec_params(tx,
      "SELECT version, name, sha256, status, (extract(epoch FROM applied_at) * 1000000)::bigint, duration_ms, "
      "cutover_id, coalesce(to_jsonb(m) ->> 'origin', 'applied') FROM " +
          k_table + " m WHERE phase = $1",
      std::string(to_string(phase)));
  for (const auto& row : rows) {
    AppliedMigration m;
    m.phase = phase;
    m.version = row[0].as<std::string>();
    m.name = row[1].as<std::string>();
    m.sha256 = row[2].as<std::string>();
    m.status = parse_status(row[3].as<std::string>());
    m.applied_at = from_epoch_us(row[4].as<std::int64_t>());
    if (!row[5].is_null()) m.duration_ms = row[5].as<std::int64_t>();
    if (!row[6].is_null()) m.cutover_id = row[6].as<std::int64_t>();
    m.origin = row[7].as<std::string>();
    out.push_back(std::move(m));
  }
  return out;
}

void ensure_table(pqxx::transaction_base& tx) {
  if (!tx.exec("SELECT to_regclass(" + tx.quote(k_table) + ") IS NULL")[0][0].as<bool>()) return;
  tx.exec("CREATE TABLE IF NOT EXISTS " + k_table +
          " ("
          "version text NOT NULL, "
          "phase text NOT NULL CHECK (phase IN ('pre', 'post')), "
          "name text NOT NULL, "
          "sha256 text NOT NULL, "
          "applied_at timestamptz NOT NULL DEFAULT now(), "
          "duration_ms bigint, "
          "cutover_id bigint, "
          "status text NOT NULL CHECK (status IN ('running', 'done', 'failed')), "
          "origin text NOT NULL DEFAULT 'applied', "
          "PRIMARY KEY (phase, version))");
}

void record(pqxx::transaction_base& tx, const MigrationFile& file, AppliedMigration::Status status,
            std::optional<std::int64_t> duration_ms, std::optional<std::int64_t> cutover_id) {
  exec_params(tx, "INSERT INTO " + k_table +
                     " (version, phase, name, sha256, applied_at, duration_ms, cutover_id, status) "
                     "VALUES ($1, $2, $3, $4, clock_timestamp(), NULLIF($5, '')::bigint, NULLIF($6, '')::bigint, $7) "
                     "ON CONFLICT (phase, version) DO UPDATE SET name = EXCLUDED.name, sha256 = EXCLUDED.sha256, "
                     "applied_at = EXCLUDED.applied_at, duration_ms = EXCLUDED.duration_ms, "
                     "cutover_id = EXCLUDED.cutover_id, status = EXCLUDED.status",
                 file.version.text(), std::string(to_string(file.phase)), file.name, file.sha256,
                 optional_number(duration_ms), optional_number(cutover_id), std::string(to_string(status)));
}

std::size_t count_rows(pqxx::transaction_base& tx) {
  if (tx.exec("SELECT to_regclass(" + tx.quote(k_table) + ") IS NULL")[0][0].as<bool>()) return 0;
  return tx.exec("SELECT count(*) FROM " + k_table)[0][0].as<std::size_t>();
}

void ensure_origin(pqxx::transaction_base& tx) {
  // A constant default makes ADD COLUMN a catalog change only (Postgres 11+).
  tx.exec("ALTER TABLE " + k_table + " ADD COLUMN IF NOT EXISTS origin text NOT NULL DEFAULT 'applied'");
}

void record_baseline(pqxx::transaction_base& tx, const MigrationFile& file) {
  exec_params(tx, "INSERT INTO " + k_table +
                     " (version, phase, name, sha256, applied_at, status, origin) "
                     "VALUES ($1, $2, $3, $4, clock_timestamp(), 'done', 'baseline')",
                 file.version.text(), std::string(to_string(file.phase)), file.name, file.sha256);
}

void ensure_edits_table(pqxx::transaction_base& tx) {
  tx.exec(
      "CREATE TABLE IF NOT EXISTS lbctl_schema_history_edits ("
      "id bigserial PRIMARY KEY, "
      "at timestamptz NOT NULL DEFAULT clock_timestamp(), "
      "action text NOT NULL CHECK (action IN ('baseline', 'done', 'undo', 'accept')), "
      "phase text NOT NULL CHECK (phase IN ('pre', 'post')), "
      "version text NOT NULL, "
      "name text NOT NULL, "
      "old_sha256 text, "
      "new_sha256 text, "
      "run_by text NOT NULL)");
}

void record_edit(pqxx::transaction_base& tx, const Edit& edit) {
  exec_params(tx,
      "INSERT INTO lbctl_schema_history_edits (action, phase, version, name, old_sha256, new_sha256, run_by) "
      "VALUES ($1, $2, $3, $4, NULLIF($5, ''), NULLIF($6, ''), $7)",
      edit.action, std::string(to_string(edit.phase)), edit.version, edit.name, edit.old_sha256, edit.new_sha256,
      edit.by);
}

Result<void> try_run_lock(pqxx::connection& connection, std::string_view what) {
  pqxx::nontransaction tx(connection);
  if (exec_params(tx, "SELECT pg_try_advisory_lock($1, $2)", k_run_lock.space, k_run_lock.key)[0][0].as<bool>()) {
    return {};
  }
  const auto holder = describe_lock_holder(tx, k_run_lock);
  return fail(ErrorKind::conflict, std::string(what) +
                                       ": a migration run holds the run lock of the application "
                                       "database right now: " +
                                       holder.value_or("a session that just let go") +
                                       "; let it finish, then try again");
}

}  // namespace lbctl::db::history
