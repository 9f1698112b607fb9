// PgRestore::preview: what a restore would bring back and what it would
// lose, from the backup (through pg_restore) and the database as it is now.

#include <algorithm>
#include <fstream>
#include <set>
#include <system_error>

#include "db/pg_migration_history.hpp"
#include "db/pg_migrator.hpp"
#include "db/pg_restore.hpp"
#include "db/pg_restore_support.hpp"
#include "db/pg_support.hpp"
#include "db/pqxx_compat.hpp"

namespace lbctl::db {

namespace {

bool is_history_table(std::string_view name) { return name.starts_with("lbctl_schema_"); }

std::string text_array(pqxx::transaction_base& tx, const std::vector<std::string>& items) {
  std::string out = "ARRAY[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + tx.quote(items[i]);
  return out + "]::text[]";
}

// Rows each table's sequence handed out since the backup: ids past the
// backup's value (after a restore, id sequences resume from where they
// stood when the backup was taken, so those rows' ids are handed out again).
void rows_since(pqxx::transaction_base& tx, const std::vector<SequenceValue>& sequences, std::vector<TableLoss>& out) {
  for (const auto& seq : sequences) {
    const auto rows = exec_params(tx,
        "SELECT format('%I.%I', tn.nspname, t.relname), a.attname, "
        "format('SELECT count(*) FROM %I.%I WHERE %I > $1', tn.nspname, t.relname, a.attname), "
        "pg_sequence_last_value(s.oid), t.relname "
        "FROM (SELECT to_regclass($1) AS oid) s "
        "JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid "
        " AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
        "JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid",
        seq.sequence);
    if (rows.empty() || is_history_table(rows[0][4].as<std::string>())) continue;
    TableLoss loss;
    loss.kind = TableLoss::Kind::rows_since;
    loss.table = rows[0][0].as<std::string>();
    loss.column = rows[0][1].as<std::string>();
    loss.backup_value = seq.is_called ? seq.value : seq.value - 1;
    if (!rows[0][3].is_null()) loss.now_value = rows[0][3].as<std::int64_t>();
    loss.rows = exec_params(tx, rows[0][2].as<std::string>(), loss.backup_value)[0][0].as<std::int64_t>();
    out.push_back(std::move(loss));
  }
}

// Tables of the archive's schemas: created since the backup (dropped, with
// their rows), or in it without a sequence to tell new rows by.
void other_tables(pqxx::transaction_base& tx, const RestorePreview& preview, std::vector<TableLoss>& out) {
  const auto rows = tx.exec(
      "SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname), "
      "format('SELECT count(*) FROM %I.%I', n.nspname, c.relname) "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = ANY (" +
      text_array(tx, preview.schemas) +
      ") AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
      "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid "
      " AND d.deptype = 'e') ORDER BY 1, 2");
  for (const auto& row : rows) {
    const std::string name = row[2].as<std::string>();
    if (is_history_table(row[1].as<std::string>())) continue;
    if (std::any_of(out.begin(), out.end(), [&](const TableLoss& l) { return l.table == name; })) continue;
    TableLoss loss;
    loss.table = name;
    if (preview.archive.has("TABLE", row[0].as<std::string>(), row[1].as<std::string>())) {
      loss.kind = TableLoss::Kind::cannot_tell;
    } else {
      loss.kind = TableLoss::Kind::created_since;
      loss.rows = tx.exec(row[3].as<std::string>())[0][0].as<std::int64_t>();
    }
    out.push_back(std::move(loss));
  }
}

// Schemas holding tables that the backup does not have at all.
std::vector<std::string> left_alone(pqxx::transaction_base& tx, const RestorePreview& preview) {
  const auto rows = tx.exec(
      "SELECT n.nspname FROM pg_namespace n WHERE n.nspname NOT LIKE 'pg\\_%' "
      "AND n.nspname NOT IN ('information_schema', " +
      tx.quote(k_journal_schema) + ") AND n.nspname <> ALL (" + text_array(tx, preview.schemas) +
      ") AND EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid) ORDER BY 1");
  std::vector<std::string> out;
  for (const auto& row : rows) out.push_back(row[0].as<std::string>());
  return out;
}

// What the restore's DROP ... CASCADE would take from outside the backup.
Result<void> nothing_outside_depends(pqxx::transaction_base& tx, const RestorePreview& preview) {
  const auto rows = tx.exec(outside_dependents_query(text_array(tx, preview.schemas)));
  if (rows.empty()) return {};
  std::string names;
  for (const auto& row : rows) names += (names.empty() ? "" : ", ") + row[0].as<std::string>();
  return fail(ErrorKind::refused, "outside the backup's schemas, " + names +
                                      " depend(s) on what the restore replaces: it would drop them too; drop or "
                                      "change them first; nothing changed");
}

// Files recorded done now that the backup's history does not record done.
std::vector<std::string> pending_again(pqxx::transaction_base& tx, const std::vector<CopyRow>& backup_history) {
  std::set<std::pair<std::string, std::string>> done_then;
  for (const auto& row : backup_history) {
    const auto value = [&](const char* column) { return row.contains(column) ? row.at(column) : std::nullopt; };
    if (value("status") == "done" && value("phase") && value("version")) {
      done_then.emplace(*value("phase"), *value("version"));
    }
  }
  std::vector<std::string> out;
  for (const auto phase : {Phase::pre, Phase::post}) {
    auto now = history::read(tx, phase);
    std::sort(now.begin(), now.end(), [](const AppliedMigration& a, const AppliedMigration& b) {
      return MigrationVersion::from_file_name(a.version) < MigrationVersion::from_file_name(b.version);
    });
    for (const auto& m : now) {
      if (m.status != AppliedMigration::Status::done) continue;
      if (!done_then.contains({std::string(to_string(phase)), m.version})) {
        out.push_back(std::string(to_string(phase)) + "/" + m.name);
      }
    }
  }
  return out;
}

Result<void> check_file(const std::filesystem::path& file, std::uintmax_t& bytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return fail(ErrorKind::refused, "the backup " + file.string() + " is not there (moved or deleted?)");
  }
  bytes = std::filesystem::file_size(file, ec);
  if (ec || bytes == 0) return fail(ErrorKind::refused, "the backup " + file.string() + " is empty");
  if (!std::ifstream(file, std::ios::binary)) {
    return fail(ErrorKind::refused, "the backup " + file.string() + " cannot be read by this user");
  }
  return {};
}

}  // namespace

boost::asio::awaitable<Result<RestorePreview>> PgRestore::preview(std::filesystem::path backup) {
  RestorePreview preview;
  preview.file = backup;
  if (auto readable = check_file(backup, preview.bytes); !readable) co_return std::unexpected(readable.error());
  auto archive = co_await list_archive(backup);
  if (!archive) co_return std::unexpected(archive.error());
  if (auto named = unambiguous_schema_names(*archive); !named) {
    co_return std::unexpected(named.error().with_context("the backup " + backup.string()));
  }
  preview.archive = std::move(*archive);
  preview.schemas = preview.archive.schemas(k_journal_schema);
  auto values = co_await script_of(backup, values_list(preview.archive, k_history_table));
  if (!values) co_return std::unexpected(values.error());
  const auto sequences = parse_sequence_values(*values);
  const auto backup_history = parse_copy_rows(*values, k_history_table);

  auto opened = connect(m_options.database_url, application_name("lbctl restore", m_options.host, m_options.pid),
                        m_options.connect_timeout);
  if (!opened) co_return std::unexpected(opened.error().with_context("application database"));
  auto looked = guarded("reading the application database", [&]() -> Result<void> {
    pqxx::read_transaction tx(**opened);
    if (auto clear = nothing_outside_depends(tx, preview); !clear) return clear;
    rows_since(tx, sequences, preview.tables);
    other_tables(tx, preview, preview.tables);
    preview.left_alone = left_alone(tx, preview);
    preview.pending_again = pending_again(tx, backup_history);
    return {};
  });
  if (!looked) co_return std::unexpected(looked.error());
  co_return preview;
}

}  // namespace lbctl::db
