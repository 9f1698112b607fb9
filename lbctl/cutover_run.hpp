#pragma once
// The state of one cutover while it runs: its journal row, the progress it
// saves to resume, its servers, and the helpers every step uses (events,
// journaling, abort checks, fleet-wide waits). Internal to the controller.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lbctl/cutover.hpp"
#include "pools/server_options.hpp"

namespace lbctl {

struct NewServerRecord {
  std::string name;
  std::string address;  // "" until cloned
  std::uint64_t id = 0;
};

class CutoverRun {
 public:
  CutoverRun(CutoverDeps deps, CutoverOptions options, db::Cutover row);

  CutoverDeps d;
  CutoverOptions options;
  db::Cutover row;
  nlohmann::json progress = nlohmann::json::object();
  std::vector<pools::Server> old_servers;
  std::vector<NewServerRecord> new_servers;
  pools::ServerOptions server_options;

  std::int64_t id() const { return row.id; }
  const Config& config() const { return d.config; }
  std::vector<std::string> old_names() const;
  std::vector<std::string> new_names() const;
  std::vector<pools::Server> new_pool() const;  // cloned ones (with an address)

  // Reports an event to the sinks, and to the journal unless `journal` is false.
  void emit(Step step, std::string event, std::string text, nlohmann::json details = nlohmann::json::object(),
            bool journal = true);
  // Saves the row (step, status, progress, error) with its version.
  Result<void> save();
  // Journals the step as current and reports it started.
  Result<void> enter(Step step);
  void record_servers(db::Pool pool, const std::string& state);

  // Re-reads what a resumed run needs from the progress record.
  void load_progress();
  void store_servers_in_progress();

  // True once `lbctl abort` asked for this cutover (polled from the journal,
  // together with the heartbeat). Also true when the service lock was lost.
  bool stop_requested();
  bool lost_lock() const { return m_lost_lock; }
  bool abort_seen() const { return m_abort_seen; }

  // Polls every LB's stats every `poll` until `done` holds for every named
  // server on every LB; emits the LB view; stops early (cancelled) when an
  // abort is asked for, unless `abortable` is false (rollback's own waits).
  // `timeout` names the LBs and servers that were not there.
  boost::asio::awaitable<Result<void>> wait_fleet(std::vector<std::string> names,
                                                  std::function<bool(const pools::ServerStat&)> done,
                                                  std::string what, std::chrono::milliseconds timeout,
                                                  std::chrono::milliseconds poll, Step step, bool abortable = true);
  // The same, with its own list of servers for each LB (index as in the fleet).
  boost::asio::awaitable<Result<void>> wait_fleet_per_lb(std::vector<std::vector<std::string>> names_per_lb,
                                                         std::function<bool(const pools::ServerStat&)> done,
                                                         std::string what, std::chrono::milliseconds timeout,
                                                         std::chrono::milliseconds poll, Step step,
                                                         bool abortable = true);
  // One stats read per LB; emits the LB view. Fails (cancelled, and
  // reload_interrupted() turns true) when an LB was reloaded or restarted
  // since mark_reloads(): what the step did there may be gone, so the
  // controller re-ensures it and runs the step again.
  boost::asio::awaitable<Result<std::vector<std::vector<pools::ServerStat>>>> fleet_stats(Step step);

  // Reloads. mark_reloads() remembers each LB's process; look_for_reloads()
  // asks every LB which process answers now and names those that changed
  // since the mark (empty: none).
  void mark_reloads();
  // From here on an LB that does not answer is retried for its
  // unreachable_timeout before an operation fails (preflight fails at once:
  // nothing has changed, and exit 5 says so).
  void be_patient();
  boost::asio::awaitable<Result<std::vector<std::string>>> look_for_reloads();
  std::vector<std::string> reloaded_since_mark() const;
  bool reload_interrupted() const { return m_reload_interrupted; }
  // Sleeps `duration`, asking the LBs every `poll` whether one was reloaded;
  // fails like fleet_stats when one was.
  boost::asio::awaitable<Result<void>> sleep_watching_reloads(std::chrono::milliseconds duration,
                                                              std::chrono::milliseconds poll);
  void emit_lb_view(Step step, const std::vector<std::vector<pools::ServerStat>>& stats);
  // One "haproxy" event per LB for a batch of commands sent to it.
  void emit_commands(Step step, const std::vector<pools::Applied>& per_lb);

 private:
  std::optional<Clock::TimePoint> m_last_poll;
  bool m_abort_seen = false;
  bool m_lost_lock = false;
  std::vector<std::uint64_t> m_reloads_mark;
  bool m_reload_interrupted = false;
};

// Errors a step returns: the kind picks the exit code before anything
// changed (unreachable -> 5, invalid/conflict -> 2, else 1).
Error step_error(ErrorKind kind, std::string message);

}  // namespace lbctl
