#include "db/pg_migrator.hpp"

#include <algorithm>

#include "db/pg_migration_history.hpp"
#include "db/pg_support.hpp"
#include "db/sql_scanner.hpp"

namespace lbctl::db {

namespace {

using std::chrono::milliseconds;

using history::k_run_lock;

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

std::string seconds_text(milliseconds d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s" : std::to_string(d.count()) + "ms";
}

}  // namespace

PgMigrator::PgMigrator(MigratorOptions options, Clock& clock) : m_options(std::move(options)), m_clock(clock) {}

namespace {

Result<std::unique_ptr<pqxx::connection>> connect_app(const MigratorOptions& options, Phase phase) {
  auto connection =
      connect(options.database_url,
              application_name("lbctl migrate " + std::string(to_string(phase)), options.host, options.pid),
              options.connect_timeout);
  if (!connection) return std::unexpected(connection.error().with_context("application database"));
  return connection;
}

Result<PhasePlan> plan_on(pqxx::connection& connection, std::vector<MigrationFile> files, Phase phase,
                          bool allow_out_of_order) {
  try {
    pqxx::nontransaction tx(connection);
    auto plan = make_phase_plan(phase, std::move(files), history::read(tx, phase), allow_out_of_order);
    if (plan) plan->run_lock_holder = describe_lock_holder(tx, k_run_lock);
    return plan;
  } catch (const std::exception& e) {
    return std::unexpected(to_error(e, "reading " + std::string(k_history_table)));
  }
}

std::string unfinished_text(const std::vector<AppliedMigration>& unfinished) {
  const AppliedMigration& m = unfinished.front();
  const std::string label = std::string(to_string(m.phase)) + "/" + m.name;
  return label + " was recorded running at " + format_utc(m.applied_at) +
         " and never finished (the run applying it died): check whether its change took effect (for CREATE INDEX "
         "CONCURRENTLY: pg_index.indisvalid), then `lbctl migrate repair --done " +
         label + "`, or drop what it left and `lbctl migrate repair --undo " + label + "` to run it again";
}

}  // namespace

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

// The pending and unfinished files of every phase, in the order given.
Result<PhasePlan> plan_phases(pqxx::connection& connection, const std::vector<std::vector<MigrationFile>>& files,
                              const std::vector<Phase>& phases, bool allow_out_of_order) {
  PhasePlan combined;
  combined.phase = phases.front();
  for (std::size_t i = 0; i < phases.size(); ++i) {
    auto plan = plan_on(connection, files[i], phases[i], allow_out_of_order);
    if (!plan) return plan;
    combined.pending.insert(combined.pending.end(), plan->pending.begin(), plan->pending.end());
    combined.unfinished.insert(combined.unfinished.end(), plan->unfinished.begin(), plan->unfinished.end());
    combined.applied += plan->applied;
    if (!combined.run_lock_holder) combined.run_lock_holder = plan->run_lock_holder;
  }
  return combined;
}

}  // namespace

namespace {

struct Session {
  std::unique_ptr<pqxx::connection> connection;
  PhasePlan plan;  // read under the run lock
  std::vector<const MigrationFile*> in_transaction;
  std::vector<const MigrationFile*> alone;
};

// The run lock on `connection`, polled in autocommit until lock_wait (from
// `since`). The lock goes with the connection, whatever happens.
boost::asio::awaitable<Result<void>> take_run_lock(pqxx::connection& connection, const MigratorOptions& options,
                                                   Clock& clock, Clock::TimePoint since) {
  auto waited = [&] { return std::chrono::duration_cast<milliseconds>(clock.now() - since); };
  for (;;) {
    std::optional<Error> error;
    bool taken = false;
    std::optional<std::string> holder;
    try {
      pqxx::nontransaction tx(connection);
      taken = tx.exec_params("SELECT pg_try_advisory_lock($1, $2)", k_run_lock.space, k_run_lock.key)[0][0].as<bool>();
      if (!taken && waited() >= options.lock_wait) holder = describe_lock_holder(tx, k_run_lock);
    } catch (const std::exception& e) {
      error = to_error(e, "taking the migration run lock");
    }
    if (error) co_return std::unexpected(*error);
    if (taken) co_return Result<void>{};
    if (waited() >= options.lock_wait) {
      co_return fail(ErrorKind::conflict, "another migration run holds the run lock of the application database: " +
                                              holder.value_or("a session that just let go") + "; waited " +
                                              seconds_text(options.lock_wait) + " (migrations.lock_wait)");
    }
    co_await clock.sleep_for(std::min(options.lock_poll, options.lock_wait - waited()));
  }
}

// `connection` (a new one when null) under the run lock, with the plan read
// again under it: a run we waited for, or a COMMIT whose answer was lost,
// may have applied everything.
boost::asio::awaitable<Result<Session>> locked_session(std::unique_ptr<pqxx::connection> connection,
                                                       const std::vector<Phase>& phases,
                                                       const std::vector<std::vector<MigrationFile>>& files,
                                                       const MigratorOptions& options, Clock& clock) {
  const auto since = clock.now();
  if (!connection) {
    auto opened = connect_app(options, phases.front());
    if (!opened) co_return std::unexpected(opened.error());
    connection = std::move(*opened);
  }
  if (auto locked = co_await take_run_lock(*connection, options, clock, since); !locked) {
    co_return std::unexpected(locked.error());
  }
  auto plan = plan_phases(*connection, files, phases, options.allow_out_of_order);
  if (!plan) co_return std::unexpected(plan.error());
  if (!plan->unfinished.empty()) co_return fail(ErrorKind::conflict, unfinished_text(plan->unfinished));
  Session session{std::move(connection), std::move(*plan), {}, {}};
  for (const auto& file : session.plan.pending) {
    (file.no_transaction ? session.alone : session.in_transaction).push_back(&file);
  }
  co_return session;
}

// Connects and reads the plan; when something is pending, takes the run lock
// and reads it again under it. nullopt: nothing to do.
boost::asio::awaitable<Result<std::optional<Session>>> open_session(const std::vector<Phase>& phases,
                                                                   const std::vector<std::vector<MigrationFile>>& files,
                                                                   const MigratorOptions& options, Clock& clock) {
  auto opened = connect_app(options, phases.front());
  if (!opened) co_return std::unexpected(opened.error());
  // Nothing to do is the common repeat: answer it without queueing for the lock.
  auto plan = plan_phases(**opened, files, phases, options.allow_out_of_order);
  if (!plan) co_return std::unexpected(plan.error());
  if (plan->pending.empty() && plan->unfinished.empty()) co_return std::optional<Session>{};
  auto session = co_await locked_session(std::move(*opened), phases, files, options, clock);
  if (!session) co_return std::unexpected(session.error());
  co_return std::optional<Session>(std::move(*session));
}

bool still_pending(const Session& session, const std::string& label) {
  return std::any_of(session.plan.pending.begin(), session.plan.pending.end(),
                     [&](const MigrationFile& f) { return f.label() == label; });
}

}  // namespace

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
    tx.exec_params("SELECT pg_advisory_unlock($1, $2)", k_run_lock.space, k_run_lock.key);
  } catch (const std::exception&) {
    // Closing the connection lets go of it too.
  }
  report.elapsed = elapsed();
  co_return report;
}

}  // namespace lbctl::db
