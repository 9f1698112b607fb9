#pragma once
// One cutover while it runs: its typed progress (the resume record), the
// collaborators by name, and what every step needs: events, reads and waits
// across the fleet. Its parts, each with an interface of its own: the
// journal session (the row, the lease, the requests, an outage ridden out),
// the reload watch and the new pool's liveness. Internal to the controller.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "lbctl/cutover/journal_session.hpp"
#include "lbctl/cutover/leased_provider.hpp"
#include "lbctl/cutover/new_pool_liveness.hpp"
#include "lbctl/cutover/progress.hpp"
#include "lbctl/cutover/reload_watch.hpp"
#include "lbctl/cutover/step.hpp"
#include "pools/server_options.hpp"

namespace lbctl {

class CutoverRun {
 public:
  CutoverRun(CutoverDeps deps, CutoverOptions options, db::Cutover row, CutoverProgress progress = {});
  // Takes its write gate off the fleet.
  ~CutoverRun();
  CutoverRun(const CutoverRun&) = delete;
  CutoverRun& operator=(const CutoverRun&) = delete;

  // The collaborators.
  const CutoverDeps& deps() const { return m_deps; }
  const Config& config() const { return m_deps.config; }
  pools::Fleet& fleet() { return m_deps.fleet; }
  // Its changes wait for the lease, like the fleet's (LeasedProvider).
  pools::Provider& provider() { return m_provider; }
  health::HttpProber& prober() { return m_deps.prober; }
  db::Journal& journal() { return m_deps.journal; }
  db::Migrator* migrator() { return m_deps.migrator; }
  // Where the migrator's blocking work runs (inline when empty).
  const Offload& migrations_lane() const { return m_deps.migrations_lane; }
  Clock& clock() { return m_deps.clock; }
  ProcessRunner& processes() { return m_deps.processes; }
  EventSink& events() { return m_deps.events; }
  // Runs the backup; empty when none is configured.
  const std::function<boost::asio::awaitable<Result<std::string>>(std::int64_t, std::string)>& backup() const {
    return m_deps.backup;
  }
  const CutoverOptions& options() const { return m_options; }
  // The new pool's `server_options`, parsed (validated with the config).
  const pools::ServerOptions& server_options() const { return m_server_options; }

  // The record.
  std::int64_t id() const { return m_session.row().id; }
  const db::Cutover& row() const { return m_session.row(); }
  CutoverProgress& progress() { return m_progress; }
  const CutoverProgress& progress() const { return m_progress; }
  std::vector<std::string> old_names() const { return m_progress.old_names(); }
  std::vector<std::string> new_names() const { return m_progress.new_names(); }
  // The rule new servers' cookies come from (preflight's decision, else
  // new_pool.cookie); "" for dynamic cookies or none.
  const std::string& cookie_rule() const;
  // The new pool as `add server` takes it: name, address, id, and the cookie
  // cookie_rule() gives it.
  std::vector<pools::NewServer> new_servers() const;
  // Saves the row (step, status, progress, error) through the session:
  // while the state database is out of reach it waits, so nothing that
  // depends on the save starts before it is durable.
  boost::asio::awaitable<Result<void>> save();
  // Journals the step as current and reports it started. `watch_new_pool`
  // (the step table's column): from now on every read of the fleet also
  // asks whether a new server died.
  boost::asio::awaitable<Result<void>> enter(Step step, bool watch_new_pool = false);
  // Journals the run's end (completed, rolled back, needs_operator).
  boost::asio::awaitable<Result<void>> finish(db::CutoverStatus status, const std::string& error);
  void set_running() { m_session.row().status = db::CutoverStatus::running; }
  void set_lb_snapshot(std::string json) { m_session.row().lb_snapshot_json = std::move(json); }
  // The step the journal says is running.
  Step current_step() const { return parse_step(row().step).value_or(Step::preflight); }
  // Saves the pool's servers, each in `state` ("cloned", "draining", ...).
  void record_servers(db::Pool pool, const std::string& state);
  // Saves these server records (a write that does not wait).
  void record_servers(std::vector<db::ServerRecord> records);

  // Reports an event to the sinks, and to the journal unless `journal` is false.
  void emit(Step step, EventKind kind, std::string text, nlohmann::json details = nlohmann::json::object(),
            bool journal = true);
  // One event per LB for a batch of commands sent to it.
  void emit_commands(Step step, const std::vector<pools::Applied>& per_lb);

  // The run's hold on the state database: the lease, the heartbeat and the
  // requests of other lbctl processes, the outage ridden out.
  JournalSession& session() { return m_session; }
  const JournalSession& session() const { return m_session; }
  // Polls the journal (the heartbeat, what other lbctl processes asked),
  // at most every 100 ms however often it is called. Every wait calls it.
  void poll_journal() { m_session.poll(); }
  // True once `lbctl abort` asked for this cutover (as last polled), or the
  // first SIGINT/SIGTERM did, or the service lock was lost for good. Pure:
  // poll_journal() is what reads the journal.
  bool abort_asked() const { return abort_seen() || m_session.lost_lock(); }
  // `lbctl abort` or the first SIGINT/SIGTERM asked (a lost lock aside).
  bool abort_seen() const { return m_session.abort_requested() || interrupted(); }
  bool lost_lock() const { return m_session.lost_lock(); }

  // Which LBs were reloaded since the step's mark.
  ReloadWatch& reloads() { return m_reloads; }

  // From here on an LB that does not answer is retried for its
  // unreachable_timeout before an operation fails (preflight fails at once:
  // nothing has changed, and exit 5 says so).
  void be_patient();

  // One stats read per LB; emits the LB view. Fails (cancelled, and
  // reloads().interrupted() turns true) when an LB was reloaded or
  // restarted since the mark: what the step did there may be gone, so the
  // controller re-ensures it and runs the step again. In a step entered
  // watching the new pool, fails too when a new server died.
  boost::asio::awaitable<Result<std::vector<std::vector<pools::ServerStat>>>> fleet_stats(Step step);
  // Waits until `done` holds for each LB's named servers (Fleet::wait_until),
  // polling the journal, showing each read, stopping on a reload and, when
  // `abortable`, on an abort (rollback's own waits are not).
  boost::asio::awaitable<Result<void>> wait_fleet(std::vector<std::vector<std::string>> names_per_lb,
                                                  pools::StatPredicate done, std::string what,
                                                  std::chrono::milliseconds timeout, std::chrono::milliseconds poll,
                                                  Step step, bool abortable = true);
  // The same names on every LB.
  std::vector<std::vector<std::string>> on_every_lb(const std::vector<std::string>& names) const;
  // Sleeps `duration`, asking the LBs every `poll` whether one was reloaded;
  // fails like fleet_stats when one was.
  boost::asio::awaitable<Result<void>> sleep_watching_reloads(std::chrono::milliseconds duration,
                                                              std::chrono::milliseconds poll);
  // How long a new server may stay DOWN on an LB once attached before the
  // cutover gives up on it (NewPoolLiveness::patience).
  std::chrono::milliseconds new_pool_patience() const { return NewPoolLiveness::patience(m_server_options); }
  // Wall time now, in ms since the epoch (what the progress record keeps).
  std::int64_t wall_ms() const;

 private:
  void emit_lb_view(Step step, const std::vector<std::vector<pools::ServerStat>>& stats);
  // What every read of the fleet checks: the view shown, a reload, a new server dead.
  Result<void> after_read(Step step, const std::vector<std::vector<pools::ServerStat>>& stats);
  bool interrupted() const { return m_deps.interrupted && *m_deps.interrupted; }

  CutoverDeps m_deps;
  LeasedProvider m_provider;
  CutoverOptions m_options;
  JournalSession m_session;
  CutoverProgress m_progress;
  pools::ServerOptions m_server_options;
  ReloadWatch m_reloads;
  NewPoolLiveness m_liveness;
  bool m_watch_new_pool = false;  // as the step entered last asked
};

}  // namespace lbctl
