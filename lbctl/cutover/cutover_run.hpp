#pragma once
// One cutover while it runs: its journal row and its typed progress (the
// resume record), the collaborators by name, and what every step needs:
// journaling, events, abort and lock checks, reload tracking, and reads and
// waits across the fleet. Internal to the controller.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "lbctl/cutover/leased_provider.hpp"
#include "lbctl/cutover/progress.hpp"
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
  std::int64_t id() const { return m_row.id; }
  const db::Cutover& row() const { return m_row; }
  CutoverProgress& progress() { return m_progress; }
  const CutoverProgress& progress() const { return m_progress; }
  std::vector<std::string> old_names() const { return m_progress.old_names(); }
  std::vector<std::string> new_names() const { return m_progress.new_names(); }
  // The new pool as `add server` takes it: name, address, id, and the cookie
  // cookie_rule() gives it.
  // The rule new servers' cookies come from (preflight's decision, else
  // new_pool.cookie); "" for dynamic cookies or none.
  const std::string& cookie_rule() const;
  std::vector<pools::NewServer> new_servers() const;
  // Saves the row (step, status, progress, error) with its version. While
  // the state database is out of reach it waits (reconnecting, the lock
  // taken again, the row checked) up to state.reconnect_timeout, so nothing
  // that depends on the save starts before it is durable.
  boost::asio::awaitable<Result<void>> save();
  // Journals the step as current and reports it started.
  boost::asio::awaitable<Result<void>> enter(Step step);
  // Journals the run's end (completed, rolled back, needs_operator).
  boost::asio::awaitable<Result<void>> finish(db::CutoverStatus status, const std::string& error);
  void set_running() { m_row.status = db::CutoverStatus::running; }
  void set_lb_snapshot(std::string json) { m_row.lb_snapshot_json = std::move(json); }
  // Saves the pool's servers, each in `state` ("cloned", "draining", ...).
  void record_servers(db::Pool pool, const std::string& state);
  // Saves these server records (a write that does not wait).
  void record_servers(std::vector<db::ServerRecord> records);

  // Reports an event to the sinks, and to the journal unless `journal` is false.
  void emit(Step step, EventKind kind, std::string text, nlohmann::json details = nlohmann::json::object(),
            bool journal = true);
  // One event per LB for a batch of commands sent to it.
  void emit_commands(Step step, const std::vector<pools::Applied>& per_lb);

  // Polls the journal without waiting: the heartbeat (which renews the
  // lease) and what other lbctl processes asked, at most every 100 ms
  // however often it is called; while the state database is out of reach,
  // starts a reconnection when one is due. Every wait calls it.
  void beat();
  // True once `lbctl abort` asked for this cutover (as last polled), or the
  // first SIGINT/SIGTERM did, or the service lock was lost for good. Pure.
  bool abort_asked() const { return m_abort_seen || m_lost_lock || interrupted(); }
  // beat(), then abort_asked(). A state database out of reach is not a
  // reason to stop: it is retried (at most every backoff) while waits go on
  // reading the LBs, until state.reconnect_timeout.
  bool stop_requested();
  // Until the returned token is dropped, the run beats every 500 ms on
  // `executor` (the caller's): for the waits that do not poll on their own
  // (a hook, a clone, a backup). Name the executor first:
  //   auto executor = co_await boost::asio::this_coro::executor;
  //   const auto beating = run.keep_beating(executor);
  std::shared_ptr<bool> keep_beating(const boost::asio::any_io_executor& executor);
  // The lease holds: the last heartbeat (or save) the database confirmed was
  // sent less than state.lease ago, and the database is not out of reach.
  bool lease_held() const;
  // The fleet's write gate: returns at once while the lease holds; else
  // waits, beating, until it holds again (the database back, the lock taken
  // again), or fails (conflict) when the lock is lost for good. No batch
  // goes to an LB meanwhile.
  boost::asio::awaitable<Result<void>> hold_lease();
  bool lost_lock() const { return m_lost_lock; }
  // A journal write outside save(): when it fails because the state
  // database is out of reach, waits for it (as save() does) and tries again.
  // (`write` uses journal(), which waits for the journal lane.)
  boost::asio::awaitable<Result<void>> journal_through_outage(std::function<boost::asio::awaitable<Result<void>>()> write);
  // Why the lock was lost for good ("" when it was not).
  const std::string& lost_lock_reason() const { return m_lost_lock_reason; }
  bool abort_seen() const { return m_abort_seen || interrupted(); }
  // What `lbctl promote` and `lbctl undo` asked, as last polled (with the
  // abort request, by stop_requested()).
  const db::Requests& requests() const { return m_requests; }

  // From here on an LB that does not answer is retried for its
  // unreachable_timeout before an operation fails (preflight fails at once:
  // nothing has changed, and exit 5 says so).
  void be_patient();
  // Reloads. mark_reloads() remembers each LB's process; look_for_reloads()
  // asks every LB which process answers now and names those that changed
  // since the mark (empty: none).
  void mark_reloads();
  boost::asio::awaitable<Result<std::vector<std::string>>> look_for_reloads();
  std::vector<std::string> reloaded_since_mark() const;
  bool reload_interrupted() const { return m_reload_interrupted; }

  // One stats read per LB; emits the LB view. Fails (cancelled, and
  // reload_interrupted() turns true) when an LB was reloaded or restarted
  // since mark_reloads(): what the step did there may be gone, so the
  // controller re-ensures it and runs the step again.
  boost::asio::awaitable<Result<std::vector<std::vector<pools::ServerStat>>>> fleet_stats(Step step);
  // Waits until `done` holds for each LB's named servers (Fleet::wait_until),
  // showing each read, stopping on a reload and, when `abortable`, on an
  // abort (rollback's own waits are not).
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
  // cutover gives up on it: a check that failed a few times (a flap, a slow
  // restart) gets time to rise again.
  std::chrono::milliseconds new_pool_patience() const;
  // Wall time now, in ms since the epoch (what the progress record keeps).
  std::int64_t wall_ms() const;

 private:
  // A journal write, run on the journal lane (the journal it wraps).
  using JournalWrite = std::function<Result<void>(db::Journal&)>;
  // What one reconnection attempt found, on the lane: the row, the writes
  // replayed, and those left when the database went away again.
  struct Reconnected {
    Result<db::Cutover> back;
    std::size_t replayed = 0;
    std::vector<JournalWrite> left;
    std::optional<Error> lost_again;
    Clock::TimePoint sent{};  // when it was started: the lease runs from there
  };

  Result<void> noticed_reload();
  // beat(), ignoring the 100 ms throttle when `now_please` (the write gate).
  void beat(bool now_please);
  boost::asio::awaitable<void> beat_while(Clock& clock, std::weak_ptr<bool> token, std::weak_ptr<bool> alive);
  // One save on the lane: the result and the row as saved.
  using Saved = std::pair<Result<void>, db::Cutover>;
  std::function<Saved()> save_attempt();
  db::Journal& lane_journal() { return m_deps.lane_journal ? *m_deps.lane_journal : m_deps.journal; }
  // Posts a write that nobody waits for (in order with every other journal
  // call); kept for later while the database is out of reach.
  void journal_write(JournalWrite write);
  // The state database: its connection broke (once per outage: an event,
  // the backoff reset).
  void database_lost(const Error& error);
  Step current_step() const { return parse_step(m_row.step).value_or(Step::preflight); }
  // Reconnecting: due when the backoff has passed and no attempt is out;
  // the attempt (taking the writes kept meanwhile) runs on the lane, and
  // reconnected() reads its outcome on the loop (true when back).
  bool reconnect_due() const;
  std::function<Reconnected()> reconnect_attempt();
  bool reconnected(Reconnected attempt);
  // From a poll: starts an attempt when one is due, without waiting.
  void start_reconnect();
  // Waits until the database is back or the run lost its lock for good.
  boost::asio::awaitable<Result<void>> ride_out_outage();
  // A journal write that failed because the database was out of reach:
  // kept, and replayed in order once it is back.
  void keep_for_later(JournalWrite write, const Error& error);
  void emit_lb_view(Step step, const std::vector<std::vector<pools::ServerStat>>& stats);
  // From attach until detach (stages, drain, watch), every read of the fleet
  // also asks whether a new server died: DOWN on an LB for longer than
  // new_pool_patience() fails the step (and so rolls back), naming it and
  // where.
  Result<void> new_pool_alive(Step step, const std::vector<std::vector<pools::ServerStat>>& stats);

  CutoverDeps m_deps;
  LeasedProvider m_provider;
  CutoverOptions m_options;
  db::Cutover m_row;
  CutoverProgress m_progress;
  pools::ServerOptions m_server_options;
  bool interrupted() const { return m_deps.interrupted && *m_deps.interrupted; }
  std::optional<Clock::TimePoint> m_last_poll;
  // When the last heartbeat (or save, or reconnection) that the database
  // confirmed was sent: the lease runs from there.
  Clock::TimePoint m_lease_from{};
  bool m_abort_seen = false;
  db::Requests m_requests;
  bool m_lost_lock = false;
  std::string m_lost_lock_reason;
  std::optional<Clock::TimePoint> m_db_lost_at;
  Clock::TimePoint m_db_next_try{};
  std::chrono::milliseconds m_db_backoff{0};
  std::vector<JournalWrite> m_unjournaled;
  bool m_reconnecting = false;  // an attempt is on the lane
  bool m_polling = false;       // a heartbeat and abort poll is on the lane
  // The row's version as last saved, touched only on the journal lane (saves
  // and reconnections chain on it, whatever the loop does meanwhile).
  std::shared_ptr<std::int64_t> m_lane_version;
  // Completions that come back after the run is gone do nothing.
  std::shared_ptr<bool> m_alive = std::make_shared<bool>(true);
  std::vector<std::uint64_t> m_reloads_mark;
  bool m_reload_interrupted = false;
  std::map<std::pair<std::size_t, std::string>, Clock::TimePoint> m_new_down_since;  // (LB, server)
};

}  // namespace lbctl
