#include "db/pg_migrator.hpp"

#include <algorithm>

#include "db/pg_migration_history.hpp"
#include "db/pg_migrator_session.hpp"
#include "db/pg_support.hpp"
#include "db/pqxx_compat.hpp"
#include "db/sql_scanner.hpp"

namespace lbctl::db {

namespace {

using std::chrono::milliseconds;

using history::k_run_lock;
using namespace migrator_session;

// Where and why a file failed.
struct FileFailure {
  std::string label;  // "" when the failure was outside any file (BEGIN, COMMIT)
  int line = 0;
  std::string message;
  std::string sqlstate;
  bool connection_lost = false;
  bool in_doubt = false;

  bool retryable() const { return sqlstate == "55P03" || sqlstate == "40P01"; }

  std::string where() const {
    if (label.empty()) return "";
    return label + (line > 0 ? ":" + std::to_string(line) : "") + ": ";
  }

  std::string text() const {
    std::string out = where() + message;
    if (!sqlstate.empty()) out += " (SQLSTATE " + sqlstate + ")";
    if (sqlstate == "25001") {
      out += "; a statement that cannot run in a transaction needs its own file marked -- lbctl:no-transaction";
    }
    return out;
  }
};

// Postgres's "LINE n:" counts from the statement's first line.
int line_in_statement(std::string_view what) {
  const auto at = what.find("\nLINE ");
  if (at == std::string_view::npos) return 1;
  int line = 0;
  for (std::size_t i = at + 6; i < what.size() && what[i] >= '0' && what[i] <= '9'; ++i) {
    line = line * 10 + (what[i] - '0');
  }
  return std::max(line, 1);
}

FileFailure failure_of(const std::exception& e, const std::string& label, int line) {
  FileFailure f{label, line, server_message(e.what()), sqlstate_of(e), false, false};
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) {
    f.connection_lost = true;
    f.message = "lost the connection to the database";
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e)) f.in_doubt = true;
  return f;
}

// Runs the file one statement at a time, so an error names its line.
std::optional<FileFailure> run_statements(pqxx::transaction_base& tx, const MigrationFile& file) {
  for (const auto& statement : scan_sql(file.content).statements) {
    try {
      tx.exec(statement.text);
    } catch (const std::exception& e) {
      return failure_of(e, file.label(), statement.line + line_in_statement(e.what()) - 1);
    }
  }
  return std::nullopt;
}

struct Attempt {
  std::vector<AppliedFile> applied;
  std::optional<FileFailure> failure;
};

// One try at the phase's transaction: every transactional file and its
// history row, committed together or not at all.
Attempt run_transaction(pqxx::connection& connection, const std::vector<const MigrationFile*>& files,
                        milliseconds lock_timeout, std::optional<std::int64_t> cutover_id, Clock& clock) {
  Attempt attempt;
  std::string current;
  try {
    pqxx::work tx(connection);
    tx.exec("SET LOCAL lock_timeout = '" + std::to_string(lock_timeout.count()) + "ms'");
    history::ensure_table(tx);
    for (const MigrationFile* file : files) {
      current = file->label();
      const auto started = clock.now();
      if (auto failure = run_statements(tx, *file)) {
        attempt.failure = std::move(failure);
        return attempt;  // the destructor rolls back
      }
      const auto took = std::chrono::duration_cast<milliseconds>(clock.now() - started);
      history::record(tx, *file, AppliedMigration::Status::done, took.count(), cutover_id);
      attempt.applied.push_back({file->label(), file->version.text(), file->sha256, false, took});
    }
    current.clear();
    tx.commit();
  } catch (const std::exception& e) {
    attempt.applied.clear();
    attempt.failure = failure_of(e, current, 0);
  }
  return attempt;
}


}  // namespace

PgMigrator::PgMigrator(MigratorOptions options, Clock& clock) : m_options(std::move(options)), m_clock(clock) {}

Result<PhasePlan> PgMigrator::plan(Phase phase) {
  auto files = load_migration_files(m_options.dir, phase);
  if (!files) return std::unexpected(files.error());
  auto connection = connect_app(m_options, phase);
  if (!connection) return std::unexpected(connection.error());
  return plan_on(**connection, std::move(*files), phase, m_options.allow_out_of_order);
}

boost::asio::awaitable<Result<PhaseReport>> PgMigrator::apply(Phase phase, std::optional<std::int64_t> cutover_id) {
  std::vector<Phase> phases;
  phases.push_back(phase);
  return apply_phases(std::move(phases), cutover_id);
}

boost::asio::awaitable<Result<PhaseReport>> PgMigrator::apply_together(std::vector<Phase> phases,
                                                                       std::optional<std::int64_t> cutover_id) {
  return apply_phases(std::move(phases), cutover_id);
}

namespace {

// What one apply of phases shares across its parts.
struct PhaseRun {
  const std::vector<Phase>& phases;
  const std::vector<std::vector<MigrationFile>>& files;
  const MigratorOptions& options;
  Clock& clock;
  std::string folder;  // "pre/", "pre/ and post/": what the messages name
  PhaseReport& report;
  milliseconds backoff;  // the next retry's pause: it grows across the parts
};

// Connecting, reading the plan and taking the run lock, retried as the
// transaction is when the connection is lost (a restart, a failover).
// nullopt: nothing is pending.
boost::asio::awaitable<Result<std::optional<Session>>> open_retrying(PhaseRun& run) {
  for (;;) {
    auto opened = co_await open_session(run.phases, run.files, run.options, run.clock);
    if (opened) co_return std::move(*opened);
    if (opened.error().kind != ErrorKind::unreachable) co_return std::unexpected(opened.error());
    if (run.report.attempts >= run.options.max_retries) {
      if (run.report.attempts == 0) co_return std::unexpected(opened.error());
      co_return fail(ErrorKind::unreachable, "gave up after " + std::to_string(run.report.attempts + 1) +
                                                 " attempts (migrations.max_retries " +
                                                 std::to_string(run.options.max_retries) + "): " +
                                                 opened.error().message + "; nothing from " + run.folder +
                                                 " was applied");
    }
    ++run.report.attempts;
    co_await run.clock.sleep_for(run.backoff);
    run.backoff = std::min(run.backoff * 2, run.options.max_backoff);
  }
}

// Why retrying the transaction stops after `attempts`.
Error gave_up(const PhaseRun& run, const FileFailure& f, bool lost, const std::string& last) {
  const auto attempts = std::to_string(run.report.attempts);
  if (!lost) {
    return Error{ErrorKind::timeout, "gave up after " + attempts + " attempts: a lock stayed busy past lock_timeout " +
                                         seconds_text(run.options.lock_timeout) + " each time (last: " + last +
                                         "); rolled back, nothing from " + run.folder + " was applied"};
  }
  return Error{ErrorKind::unreachable,
               "gave up after " + attempts + " attempts (migrations.max_retries " +
                   std::to_string(run.options.max_retries) +
                   "): lost the connection to the application database (last: " + last + "); " +
                   (f.in_doubt ? "the connection broke during COMMIT: " + run.folder +
                                     " may or may not have been applied; check " + k_history_table
                               : "the phase's transaction was not committed: nothing from " + run.folder +
                                     " was applied")};
}

// The transaction, retried whole after a lock timeout, a deadlock or a lost
// connection (Postgres rolls an interrupted transaction back; one whose
// COMMIT went unanswered is settled by the plan read again).
boost::asio::awaitable<Result<void>> transaction_retrying(PhaseRun& run, Session& session,
                                                          std::optional<std::int64_t> cutover_id) {
  for (;;) {
    ++run.report.attempts;
    Attempt attempt = run_transaction(*session.connection, session.in_transaction, run.options.lock_timeout,
                                      cutover_id, run.clock);
    if (!attempt.failure) {
      run.report.applied = std::move(attempt.applied);
      co_return Result<void>{};
    }
    const FileFailure& f = *attempt.failure;
    const bool lost = f.connection_lost || f.in_doubt;
    if (!lost && !f.retryable()) {
      co_return fail(ErrorKind::refused, f.text() + "; the transaction was rolled back: nothing from " + run.folder +
                                             " was applied, the schema is as it was");
    }
    std::string last = f.text();
    std::vector<AppliedFile> tried;
    for (const MigrationFile* file : session.in_transaction) {
      tried.push_back({file->label(), file->version.text(), file->sha256, false, milliseconds{0}});
    }
    for (;;) {
      if (run.report.attempts > run.options.max_retries) co_return std::unexpected(gave_up(run, f, lost, last));
      co_await run.clock.sleep_for(run.backoff);
      run.backoff = std::min(run.backoff * 2, run.options.max_backoff);
      if (!lost) break;
      auto again = co_await locked_session(nullptr, run.phases, run.files, run.options, run.clock);
      if (again) {
        session = std::move(*again);
        break;
      }
      if (again.error().kind != ErrorKind::unreachable) co_return std::unexpected(again.error());
      last = again.error().message;
      ++run.report.attempts;
    }
    // A COMMIT whose answer was lost but which took effect: its files are
    // no longer pending.
    for (const auto& file : tried) {
      if (!still_pending(session, file.label)) run.report.applied.push_back(file);
    }
    if (!tried.empty() && run.report.applied.size() == tried.size()) co_return Result<void>{};
  }
}

// The files that cannot run in a transaction (CREATE INDEX CONCURRENTLY),
// each alone, after it. Not retried: whatever one did so far stays.
Result<void> run_alone(PhaseRun& run, Session& session, std::optional<std::int64_t> cutover_id) {
  for (const MigrationFile* file : session.alone) {
    std::optional<FileFailure> failure;
    const auto file_started = run.clock.now();
    try {
      pqxx::nontransaction tx(*session.connection);
      history::record(tx, *file, AppliedMigration::Status::running, std::nullopt, cutover_id);
      failure = run_statements(tx, *file);
      const auto took = std::chrono::duration_cast<milliseconds>(run.clock.now() - file_started);
      history::record(tx, *file, failure ? AppliedMigration::Status::failed : AppliedMigration::Status::done,
                      failure ? std::nullopt : std::optional<std::int64_t>(took.count()), cutover_id);
      if (!failure) run.report.applied.push_back({file->label(), file->version.text(), file->sha256, true, took});
    } catch (const std::exception& e) {
      failure = failure_of(e, file->label(), 0);
    }
    if (!failure) continue;
    // It is recorded running (or failed), so the next run refuses it until
    // an operator has looked.
    std::string text = failure->text() +
                       "; it ran outside a transaction, so it may have left partial work "
                       "(CREATE INDEX CONCURRENTLY leaves an INVALID index: drop it before "
                       "running it again)";
    if (failure->connection_lost) text += "; not retried: check it, then `lbctl migrate repair`";
    if (!run.report.applied.empty()) {
      text += "; applied before it: " + std::to_string(run.report.applied.size()) + " file(s) of " + run.folder;
    }
    return fail(failure->connection_lost ? ErrorKind::unreachable : ErrorKind::refused, text);
  }
  return {};
}

void release_run_lock(Session& session) {
  try {
    pqxx::nontransaction tx(*session.connection);
    exec_params(tx, "SELECT pg_advisory_unlock($1, $2)", k_run_lock.space, k_run_lock.key);
  } catch (const std::exception&) {
    // Closing the connection lets go of it too.
  }
}

}  // namespace

boost::asio::awaitable<Result<PhaseReport>> PgMigrator::apply_phases(std::vector<Phase> phases,
                                                                     std::optional<std::int64_t> cutover_id) {
  const auto started = m_clock.now();
  PhaseReport report;
  report.phase = phases.front();
  auto elapsed = [&] { return std::chrono::duration_cast<milliseconds>(m_clock.now() - started); };
  std::vector<std::vector<MigrationFile>> files;
  for (const auto phase : phases) {
    auto loaded = load_migration_files(m_options.dir, phase);
    if (!loaded) co_return std::unexpected(loaded.error());
    files.push_back(std::move(*loaded));
  }
  std::string folder;
  for (const auto phase : phases) folder += (folder.empty() ? "" : " and ") + std::string(to_string(phase)) + "/";
  PhaseRun run{phases, files, m_options, m_clock, std::move(folder), report, m_options.retry_backoff};

  auto opened = co_await open_retrying(run);
  if (!opened) co_return std::unexpected(opened.error());
  if (!*opened) {
    report.elapsed = elapsed();
    co_return report;
  }
  Session session = std::move(**opened);
  report.attempts = 0;  // from here: transactions tried
  report.lock_wait = elapsed();
  if (auto done = co_await transaction_retrying(run, session, cutover_id); !done) co_return std::unexpected(done.error());
  if (auto alone = run_alone(run, session, cutover_id); !alone) co_return std::unexpected(alone.error());
  release_run_lock(session);
  report.elapsed = elapsed();
  co_return report;
}

}  // namespace lbctl::db
