// A migration run's session with the application database: the connection,
// the plan read from files and history, and the run lock (polled in
// autocommit) under which the plan is read again.

#include "db/pg_migrator_session.hpp"

#include <algorithm>

#include "db/pg_migration_history.hpp"
#include "db/pg_support.hpp"
#include "db/pqxx_compat.hpp"

namespace lbctl::db::migrator_session {

using std::chrono::milliseconds;
using history::k_run_lock;

std::string seconds_text(milliseconds d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s" : std::to_string(d.count()) + "ms";
}

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


// The pending and unfinished files of every phase, in the order given.
static Result<PhasePlan> plan_phases(pqxx::connection& connection, const std::vector<std::vector<MigrationFile>>& files,
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


// The run lock on `connection`, polled in autocommit until lock_wait (from
// `since`). The lock goes with the connection, whatever happens.
static boost::asio::awaitable<Result<void>> take_run_lock(pqxx::connection& connection, const MigratorOptions& options,
                                                   Clock& clock, Clock::TimePoint since) {
  auto waited = [&] { return std::chrono::duration_cast<milliseconds>(clock.now() - since); };
  for (;;) {
    std::optional<Error> error;
    bool taken = false;
    std::optional<std::string> holder;
    try {
      pqxx::nontransaction tx(connection);
      taken = exec_params(tx, "SELECT pg_try_advisory_lock($1, $2)", k_run_lock.space, k_run_lock.key)[0][0].as<bool>();
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

}  // namespace lbctl::db::migrator_session
