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

boost::asio::awaitable<Result<PhaseReport>> PgMigrator::apply_phases(std::vector<Phase> phases,
                                                                     std::optional<std::int64_t> cutover_id) {
  const auto started = m_clock.now();
  std::string folder;
  for (const auto phase : phases) folder += (folder.empty() ? "" : " and ") + std::string(to_string(phase)) + "/";
  PhaseReport report;
  report.phase = phases.front();
  auto elapsed = [&] { return std::chrono::duration_cast<milliseconds>(m_clock.now() - started); };

  std::vector<std::vector<MigrationFile>> files;
  for (const auto phase : phases) {
    auto loaded = load_migration_files(m_options.dir, phase);
    if (!loaded) co_return std::unexpected(loaded.error());
    files.push_back(std::move(*loaded));
  }
  // Connecting, reading the plan and taking the run lock are retried as the
  // transaction is when the connection is lost (a restart, a failover).
  milliseconds backoff = m_options.retry_backoff;
  std::optional<Session> session;
  for (;;) {
    auto opened = co_await open_session(phases, files, m_options, m_clock);
    if (opened && !*opened) {
      report.elapsed = elapsed();
      co_return report;
    }
    if (opened) {
      session = std::move(**opened);
      break;
    }
    if (opened.error().kind != ErrorKind::unreachable) co_return std::unexpected(opened.error());
    if (report.attempts >= m_options.max_retries) {
      if (report.attempts == 0) co_return std::unexpected(opened.error());
      co_return fail(ErrorKind::unreachable, "gave up after " + std::to_string(report.attempts + 1) +
                                                 " attempts (migrations.max_retries " +
                                                 std::to_string(m_options.max_retries) + "): " +
                                                 opened.error().message + "; nothing from " + folder +
                                                 " was applied");
    }
    ++report.attempts;
    co_await m_clock.sleep_for(backoff);
    backoff = std::min(backoff * 2, m_options.max_backoff);
  }
  report.attempts = 0;  // from here: transactions tried
  report.lock_wait = elapsed();

  // The transaction, retried whole after a lock timeout, a deadlock or a
  // lost connection (Postgres rolls an interrupted transaction back; one
  // whose COMMIT went unanswered is settled by the plan read again).
  for (;;) {
    ++report.attempts;
    Attempt attempt = run_transaction(*session->connection, session->in_transaction, m_options.lock_timeout,
                                      cutover_id, m_clock);
    if (!attempt.failure) {
      report.applied = std::move(attempt.applied);
      break;
    }
    const FileFailure& f = *attempt.failure;
    const bool lost = f.connection_lost || f.in_doubt;
    if (!lost && !f.retryable()) {
      co_return fail(ErrorKind::refused, f.text() + "; the transaction was rolled back: nothing from " + folder +
                                             " was applied, the schema is as it was");
    }
    std::string last = f.text();
    std::vector<AppliedFile> tried;
    for (const MigrationFile* file : session->in_transaction) {
      tried.push_back({file->label(), file->version.text(), file->sha256, false, milliseconds{0}});
    }
    for (;;) {
      if (report.attempts > m_options.max_retries) {
        if (!lost) {
          co_return fail(ErrorKind::timeout, "gave up after " + std::to_string(report.attempts) +
                                                 " attempts: a lock stayed busy past lock_timeout " +
                                                 seconds_text(m_options.lock_timeout) + " each time (last: " + last +
                                                 "); rolled back, nothing from " + folder + " was applied");
        }
        co_return fail(ErrorKind::unreachable,
                       "gave up after " + std::to_string(report.attempts) +
                           " attempts (migrations.max_retries " + std::to_string(m_options.max_retries) +
                           "): lost the connection to the application database (last: " + last + "); " +
                           (f.in_doubt ? "the connection broke during COMMIT: " + folder +
                                             " may or may not have been applied; check " + k_history_table
                                       : "the phase's transaction was not committed: nothing from " + folder +
                                             " was applied"));
      }
      co_await m_clock.sleep_for(backoff);
      backoff = std::min(backoff * 2, m_options.max_backoff);
      if (!lost) break;
      auto again = co_await locked_session(nullptr, phases, files, m_options, m_clock);
      if (again) {
        session = std::move(*again);
        break;
      }
      if (again.error().kind != ErrorKind::unreachable) co_return std::unexpected(again.error());
      last = again.error().message;
      ++report.attempts;
    }
    // A COMMIT whose answer was lost but which took effect: its files are
    // no longer pending.
    for (const auto& file : tried) {
      if (!still_pending(*session, file.label)) report.applied.push_back(file);
    }
    if (!tried.empty() && report.applied.size() == tried.size()) break;
  }

  for (const MigrationFile* file : session->alone) {
    std::optional<FileFailure> failure;
    const auto file_started = m_clock.now();
    try {
      pqxx::nontransaction tx(*session->connection);
      history::record(tx, *file, AppliedMigration::Status::running, std::nullopt, cutover_id);
      failure = run_statements(tx, *file);
      const auto took = std::chrono::duration_cast<milliseconds>(m_clock.now() - file_started);
      history::record(tx, *file, failure ? AppliedMigration::Status::failed : AppliedMigration::Status::done,
                      failure ? std::nullopt : std::optional<std::int64_t>(took.count()), cutover_id);
      if (!failure) report.applied.push_back({file->label(), file->version.text(), file->sha256, true, took});
    } catch (const std::exception& e) {
      failure = failure_of(e, file->label(), 0);
    }
    if (failure) {
      // Not retried: it ran outside a transaction, and whatever it did so far
      // stays. It is recorded running (or failed), so the next run refuses
      // it until an operator has looked.
      std::string text = failure->text() +
                         "; it ran outside a transaction, so it may have left partial work "
                         "(CREATE INDEX CONCURRENTLY leaves an INVALID index: drop it before "
                         "running it again)";
      if (failure->connection_lost) text += "; not retried: check it, then `lbctl migrate repair`";
      if (!report.applied.empty()) {
        text += "; applied before it: " + std::to_string(report.applied.size()) + " file(s) of " + folder;
      }
      co_return fail(failure->connection_lost ? ErrorKind::unreachable : ErrorKind::refused, text);
    }
  }
  try {
    pqxx::nontransaction tx(*session->connection);
    exec_params(tx, "SELECT pg_advisory_unlock($1, $2)", k_run_lock.space, k_run_lock.key);
  } catch (const std::exception&) {
    // Closing the connection lets go of it too.
  }
  report.elapsed = elapsed();
  co_return report;
}

}  // namespace lbctl::db
