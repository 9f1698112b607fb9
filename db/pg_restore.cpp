// PgRestore: running pg_restore and psql, the preamble, and the restore.

#include "db/pg_restore.hpp"

#include <fstream>
#include <system_error>

#include "db/pg_migration_history.hpp"
#include "db/pg_migrator.hpp"
#include "db/pg_restore_support.hpp"
#include "db/pg_support.hpp"

namespace lbctl::db {

namespace {

using std::chrono::milliseconds;

// The drops, computed inside the transaction so nothing created between the
// preview and the restore escapes them; gathered first, then run (IF EXISTS:
// a CASCADE may have dropped one already).
constexpr std::string_view k_drops = R"sql(
DO $lbctl_restore$
DECLARE
  statements text[];
  statement text;
  outside text;
BEGIN
  SELECT string_agg(x, ', ') INTO outside FROM (lbctl_outside_dependents) q(x);
  IF outside IS NOT NULL THEN
    RAISE EXCEPTION 'lbctl: outside the backup''s schemas, % depend(s) on what the restore replaces: the restore '
                    'would drop them too; drop or change them first', outside;
  END IF;
  SELECT coalesce(array_agg(s ORDER BY o, s), '{}') INTO statements FROM (
    SELECT 1 AS o, format('DROP %s IF EXISTS %I.%I CASCADE', CASE c.relkind WHEN 'v' THEN 'VIEW'
             WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
             n.nspname, c.relname) AS s
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY (lbctl_schemas) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND d.deptype = 'e')
    UNION ALL
    SELECT 2, format('DROP SEQUENCE IF EXISTS %I.%I CASCADE', n.nspname, c.relname)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY (lbctl_schemas) AND c.relkind = 'S'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND d.deptype = 'e')
    UNION ALL
    SELECT 3, format('DROP %s IF EXISTS %s CASCADE', CASE p.prokind WHEN 'a' THEN 'AGGREGATE'
             WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, p.oid::regprocedure)
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = ANY (lbctl_schemas)
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                          AND d.deptype = 'e')
    UNION ALL
    SELECT 4, format('DROP %s IF EXISTS %s CASCADE', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
             t.oid::regtype)
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = ANY (lbctl_schemas)
       AND (t.typtype IN ('e', 'd', 'r')
            OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                          AND d.deptype = 'e')
  ) drops;
  FOREACH statement IN ARRAY statements LOOP
    EXECUTE statement;
  END LOOP;
END
$lbctl_restore$;
)sql";

}  // namespace

std::string restore_preamble(std::chrono::milliseconds lock_timeout) {
  // The schemas' names come from the archive, so they reach the server as
  // data only: psql quotes the variable as a literal (`:'name'`), and the DO
  // block reads it back from a setting. Nothing in a name can end a quote.
  const std::string schemas = "pg_catalog.string_to_array(pg_catalog.current_setting('lbctl.restore_schemas'), E'\\n')";
  std::string drops(k_drops);
  drops.replace(drops.find("lbctl_outside_dependents"), std::string_view("lbctl_outside_dependents").size(),
                outside_dependents_query(schemas));
  constexpr std::string_view k_placeholder = "lbctl_schemas";
  for (auto at = drops.find(k_placeholder); at != std::string::npos;
       at = drops.find(k_placeholder, at + schemas.size())) {
    drops.replace(at, k_placeholder.size(), schemas);
  }
  return "SET LOCAL standard_conforming_strings = on;\n"
         "SET LOCAL client_min_messages = warning;\n"
         "SELECT pg_catalog.set_config('lbctl.restore_schemas', :'" +
         std::string(k_schemas_variable) +
         "', true);\n"
         // Qualified names in the DROPs (regprocedure, regtype print the schema).
         "SELECT pg_catalog.set_config('search_path', '', true);\n"
         "SET LOCAL lock_timeout = '" +
         std::to_string(lock_timeout.count()) + "ms';\n" + drops;
}

std::string schemas_variable(const std::vector<std::string>& schemas) {
  std::string value;
  for (const auto& schema : schemas) value += (value.empty() ? "" : "\n") + schema;
  return std::string(k_schemas_variable) + "=" + value;
}

PgRestore::PgRestore(RestoreOptions options, ProcessRunner& runner, Clock& clock)
    : m_options(std::move(options)), m_runner(runner), m_clock(clock) {}

boost::asio::awaitable<Result<BackupArchive>> PgRestore::list_archive(std::filesystem::path file) {
  ProcessSpec list;
  list.argv = {m_options.pg_restore, std::string("--list"), file.string()};
  // "Archive created at" comes in pg_restore's local time zone.
  list.env = {{"TZ", "UTC"}};
  list.timeout = m_options.timeout;
  list.max_out = k_large_output;
  auto listed = co_await m_runner.run(std::move(list));
  if (!listed) co_return std::unexpected(listed.error().with_context("pg_restore --list"));
  if (listed->exit_code != 0) {
    co_return fail(ErrorKind::refused, "pg_restore cannot read the backup " + file.string() + ": " +
                                           tail_lines(listed->err) + "; nothing changed");
  }
  auto archive = parse_archive_list(listed->out);
  if (!archive) co_return std::unexpected(archive.error().with_context("the backup " + file.string()));
  co_return archive;
}

boost::asio::awaitable<Result<std::string>> PgRestore::script_of(std::filesystem::path file, std::string list) {
  auto dir = PrivateDir::create(file.parent_path(), "the restore");
  if (!dir) co_return std::unexpected(dir.error());
  const auto list_file = dir->write("values.list", list);
  if (!list_file) co_return std::unexpected(list_file.error());
  ProcessSpec read;
  read.argv = {m_options.pg_restore, std::string("-L"), list_file->string(),
               std::string("-f"),    std::string("-"),  file.string()};
  read.timeout = m_options.timeout;
  read.max_out = k_large_output;
  auto ran = co_await m_runner.run(std::move(read));
  if (!ran) co_return std::unexpected(ran.error().with_context("pg_restore"));
  if (ran->exit_code != 0) {
    co_return fail(ErrorKind::refused, "pg_restore cannot read the backup " + file.string() + ": " +
                                           tail_lines(ran->err) + "; nothing changed");
  }
  co_return std::move(ran->out);
}

boost::asio::awaitable<Result<int>> PgRestore::run_in_one_transaction(std::vector<std::string> schemas,
                                                                      std::filesystem::path preamble,
                                                                      std::filesystem::path script) {
  auto env = libpq_environment(m_options.database_url);
  if (!env) co_return std::unexpected(env.error());
  ProcessSpec psql;
  psql.argv = {m_options.psql,
               std::string("-X"),
               std::string("-q"),
               std::string("-v"),
               std::string("ON_ERROR_STOP=1"),
               std::string("-v"),
               schemas_variable(schemas),
               std::string("--single-transaction"),
               std::string("-o"),
               std::string("/dev/null"),
               std::string("-f"),
               preamble.string(),
               std::string("-f"),
               script.string()};
  if (!env->rest.empty()) psql.argv.insert(psql.argv.end(), {std::string("-d"), env->rest});
  psql.env = env->variables;
  psql.env.emplace_back("PGAPPNAME", application_name("lbctl restore", m_options.host, m_options.pid));
  psql.env.emplace_back("PGCONNECT_TIMEOUT", std::to_string(m_options.connect_timeout.count()));
  psql.timeout = m_options.timeout;
  milliseconds backoff = m_options.retry_backoff;
  for (int attempt = 1;; ++attempt) {
    auto ran = co_await m_runner.run(psql);
    if (!ran) {
      co_return std::unexpected(ran.error().with_context(
          "psql (stopped before it finished: its transaction is rolled back unless it was committing at that "
          "instant)"));
    }
    if (ran->exit_code == 0) co_return attempt;
    const std::string why = tail_lines(ran->err);
    switch (classify_psql_failure(ran->exit_code, ran->err)) {
      case PsqlFailure::not_connected:
        co_return fail(ErrorKind::unreachable,
                       "psql cannot connect to the application database: " + why + "; nothing changed");
      case PsqlFailure::connection_lost:
        co_return fail(ErrorKind::cancelled,
                       "the connection to the application database broke during the "
                       "restore: it may or may not have committed (" +
                           why + "); check the schema, then run the restore again");
      case PsqlFailure::rolled_back:
        co_return fail(ErrorKind::refused, "the restore failed and was rolled back, the database is as it was: " + why);
      case PsqlFailure::busy: break;
    }
    if (attempt > m_options.max_retries) {
      co_return fail(ErrorKind::timeout, "gave up after " + std::to_string(attempt) +
                                             " attempts: a lock stayed busy past lock_timeout (" + why +
                                             "); rolled back, the database is as it was");
    }
    co_await m_clock.sleep_for(backoff);
    backoff = std::min(backoff * 2, m_options.max_backoff);
  }
}

namespace {

// Files of both phases that the restored history does not record done.
Result<std::vector<std::string>> pending_now(pqxx::connection& connection, const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto phase : {Phase::pre, Phase::post}) {
    auto files = load_migration_files(dir, phase);
    if (!files) return std::unexpected(files.error());
    auto recorded = guarded("reading the restored history", [&]() -> Result<std::vector<AppliedMigration>> {
      pqxx::nontransaction tx(connection);
      return history::read(tx, phase);
    });
    if (!recorded) return std::unexpected(recorded.error());
    for (const auto& f : *files) {
      const bool done = std::any_of(recorded->begin(), recorded->end(), [&](const AppliedMigration& m) {
        return m.status == AppliedMigration::Status::done && MigrationVersion::from_file_name(m.version) == f.version;
      });
      if (!done) out.push_back(f.label());
    }
  }
  return out;
}

}  // namespace

boost::asio::awaitable<Result<RestoreReport>> PgRestore::restore(RestorePreview preview) {
  const auto started = m_clock.now();
  if (auto named = unambiguous_schema_names(preview.archive); !named) {
    co_return std::unexpected(named.error().with_context("the backup " + preview.file.string()));
  }
  auto opened = connect(m_options.database_url, application_name("lbctl restore", m_options.host, m_options.pid),
                        m_options.connect_timeout);
  if (!opened) co_return std::unexpected(opened.error().with_context("application database"));
  // Held on this connection while psql works on its own: no migration run
  // (nor another restore) meanwhile.
  auto locked = guarded("taking the migration run lock",
                        [&]() -> Result<void> { return history::try_run_lock(**opened, "restore"); });
  if (!locked) co_return std::unexpected(locked.error());

  auto dir = PrivateDir::create(preview.file.parent_path(), "the restore");
  if (!dir) co_return std::unexpected(dir.error());
  auto list = dir->write("restore.list", restore_list(preview.archive, k_journal_schema));
  if (!list) co_return std::unexpected(list.error());
  const auto script = dir->path() / "restore.sql";
  ProcessSpec write_script;
  write_script.argv = {m_options.pg_restore, std::string("--clean"), std::string("--if-exists"),
                       std::string("-L"),    list->string(),         std::string("-f"),
                       script.string(),      preview.file.string()};
  write_script.timeout = m_options.timeout;
  auto written = co_await m_runner.run(std::move(write_script));
  if (!written) co_return std::unexpected(written.error().with_context("pg_restore"));
  if (written->exit_code != 0) {
    co_return fail(ErrorKind::refused, "pg_restore cannot read all of the backup " + preview.file.string() + ": " +
                                           tail_lines(written->err) + "; nothing changed");
  }
  auto preamble = dir->write("preamble.sql", restore_preamble(m_options.lock_timeout));
  if (!preamble) co_return std::unexpected(preamble.error());

  auto attempts = co_await run_in_one_transaction(preview.schemas, *preamble, script);
  if (!attempts) co_return std::unexpected(attempts.error());
  RestoreReport report;
  report.attempts = *attempts;
  // The restore has committed: a failure to read the history is only said.
  if (auto pending = pending_now(**opened, m_options.dir)) {
    report.pending = std::move(*pending);
  } else {
    report.pending_unknown = pending.error().message;
  }
  report.elapsed = std::chrono::duration_cast<milliseconds>(m_clock.now() - started);
  co_return report;
}

}  // namespace lbctl::db
