// PgMigrator: baseline and repair, the history writes an operator asks for.

#include "db/pg_migration_history.hpp"
#include "db/pg_migrator.hpp"
#include "db/pg_support.hpp"
#include "db/pqxx_compat.hpp"

namespace lbctl::db {

namespace {

Result<std::unique_ptr<pqxx::connection>> connect_for(const MigratorOptions& options, std::string_view what) {
  auto connection =
      connect(options.database_url, application_name("lbctl migrate " + std::string(what), options.host, options.pid),
              options.connect_timeout);
  if (!connection) return std::unexpected(connection.error().with_context("application database"));
  return connection;
}

struct Files {
  std::vector<MigrationFile> pre;
  std::vector<MigrationFile> post;
};

Result<Files> load_both(const std::filesystem::path& dir) {
  auto pre = load_migration_files(dir, Phase::pre);
  if (!pre) return std::unexpected(pre.error());
  auto post = load_migration_files(dir, Phase::post);
  if (!post) return std::unexpected(post.error());
  return Files{std::move(*pre), std::move(*post)};
}

// Writes the rows of a baseline; the caller holds the run lock.
Result<void> write_baseline(pqxx::connection& connection, const std::vector<MigrationFile>& files,
                            const std::string& by) {
  return guarded("recording the baseline", [&]() -> Result<void> {
    pqxx::work tx(connection);
    // Again under the lock: a run may have applied something meanwhile.
    if (const auto rows = history::count_rows(tx); rows > 0) {
      return fail(ErrorKind::conflict, "the history got " + std::to_string(rows) +
                                           " row(s) while the baseline was being prepared: nothing recorded");
    }
    history::ensure_table(tx);
    history::ensure_origin(tx);
    history::ensure_edits_table(tx);
    for (const auto& file : files) {
      history::record_baseline(tx, file);
      history::record_edit(tx, {"baseline", file.phase, file.version.text(), file.name, "", file.sha256, by});
    }
    tx.commit();
    return {};
  });
}

void write_repair(pqxx::transaction_base& tx, const PlannedRepair& repair, const std::string& by) {
  const AppliedMigration& row = repair.recorded;
  const std::string phase(to_string(row.phase));
  const std::string table = k_history_table;
  history::Edit edit{std::string(to_string(repair.action)), row.phase, row.version, row.name, row.sha256, "", by};
  switch (repair.action) {
    case RepairAction::done:
      exec_params(tx, "UPDATE " + table + " SET status = 'done', origin = 'repair' WHERE phase = $1 AND version = $2",
                     phase, row.version);
      edit.new_sha256 = row.sha256;
      break;
    case RepairAction::undo:
      exec_params(tx, "DELETE FROM " + table + " WHERE phase = $1 AND version = $2", phase, row.version);
      break;
    case RepairAction::accept:
      exec_params(tx, "UPDATE " + table + " SET sha256 = $3, name = $4 WHERE phase = $1 AND version = $2", phase,
                     row.version, repair.file->sha256, repair.file->name);
      edit.name = repair.file->name;
      edit.new_sha256 = repair.file->sha256;
      break;
  }
  history::record_edit(tx, edit);
}

std::vector<std::string> invalid_indexes(pqxx::transaction_base& tx) {
  std::vector<std::string> out;
  const auto rows = tx.exec(
      "SELECT n.nspname || '.' || c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid ORDER BY 1");
  for (const auto& row : rows) out.push_back(row[0].as<std::string>());
  return out;
}

}  // namespace

Result<std::vector<MigrationFile>> PgMigrator::baseline(const std::string& through, bool dry_run,
                                                        const std::string& by) {
  auto files = load_both(m_options.dir);
  if (!files) return std::unexpected(files.error());
  auto opened = connect_for(m_options, "baseline");
  if (!opened) return std::unexpected(opened.error());
  pqxx::connection& connection = **opened;
  auto rows = guarded("reading " + std::string(k_history_table), [&]() -> Result<std::size_t> {
    pqxx::nontransaction tx(connection);
    return history::count_rows(tx);
  });
  if (!rows) return std::unexpected(rows.error());
  auto chosen = baseline_files(through, files->pre, files->post, *rows);
  if (!chosen || dry_run) return chosen;
  auto locked = guarded("taking the migration run lock",
                        [&]() -> Result<void> { return history::try_run_lock(connection, "baseline"); });
  if (!locked) return std::unexpected(locked.error());
  if (auto written = write_baseline(connection, *chosen, by); !written) return std::unexpected(written.error());
  return chosen;
}

Result<RepairList> PgMigrator::repairs() {
  auto files = load_both(m_options.dir);
  if (!files) return std::unexpected(files.error());
  auto opened = connect_for(m_options, "repair");
  if (!opened) return std::unexpected(opened.error());
  return guarded("reading " + std::string(k_history_table), [&]() -> Result<RepairList> {
    pqxx::nontransaction tx(**opened);
    RepairList list;
    list.items = find_repairs(files->pre, history::read(tx, Phase::pre));
    auto post = find_repairs(files->post, history::read(tx, Phase::post));
    list.items.insert(list.items.end(), post.begin(), post.end());
    list.run_lock_holder = describe_lock_holder(tx, history::k_run_lock);
    list.invalid_indexes = invalid_indexes(tx);
    return list;
  });
}

Result<RepairDone> PgMigrator::repair(RepairAction action, const std::string& file, const std::string& by,
                                      bool dry_run) {
  auto files = load_both(m_options.dir);
  if (!files) return std::unexpected(files.error());
  auto opened = connect_for(m_options, "repair");
  if (!opened) return std::unexpected(opened.error());
  pqxx::connection& connection = **opened;
  if (!dry_run) {
    auto locked = guarded("taking the migration run lock",
                          [&]() -> Result<void> { return history::try_run_lock(connection, "repair " + file); });
    if (!locked) return std::unexpected(locked.error());
  }
  return guarded("repairing " + std::string(k_history_table), [&]() -> Result<RepairDone> {
    pqxx::work tx(connection);
    auto planned = plan_repair(action, file, files->pre, history::read(tx, Phase::pre), files->post,
                               history::read(tx, Phase::post));
    if (!planned) return std::unexpected(planned.error());
    if (dry_run) return RepairDone{std::move(*planned), by};
    history::ensure_origin(tx);
    history::ensure_edits_table(tx);
    write_repair(tx, *planned, by);
    tx.commit();
    return RepairDone{std::move(*planned), by};
  });
}

}  // namespace lbctl::db
