#pragma once
// The cutover journal: one row per cutover (its status, step and whatever
// the controller needs to resume), its servers, its events, and the service
// lock that lets one cutover per service run at a time. PgJournal keeps it in
// Postgres (schema lbctl of state.database_url); tests use
// tests/support/fake_journal.hpp. JSON travels as text: the controller builds
// it, the journal checks it is JSON.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace lbctl::db {

// Stored: running, completed, rolled_back, needs_operator, stopped (ended
// before changing any load balancer: preflight, backup or pre_migrate
// failed). `interrupted` is only ever read: a running row whose service lock
// nobody holds (its lbctl died, or lost its database connection).
enum class CutoverStatus { running, interrupted, completed, rolled_back, needs_operator, stopped };

std::string_view to_string(CutoverStatus status);
std::optional<CutoverStatus> parse_cutover_status(std::string_view text);
// completed, rolled_back or stopped: nothing left to do.
bool is_finished(CutoverStatus status);

using JournalTime = std::chrono::system_clock::time_point;

struct Cutover {
  std::int64_t id = 0;
  std::string service;
  CutoverStatus status = CutoverStatus::running;
  std::string step;                  // the step's name, e.g. "attach"
  std::string mode;                  // "blue_green" or "maintenance"
  std::string config_json = "{}";    // the redacted config snapshot, as begin() got it
  std::string lb_snapshot_json;      // "" = none yet
  std::string progress_json = "{}";  // whatever the controller needs to resume
  std::string host;
  int pid = 0;
  JournalTime started_at{};
  JournalTime step_started_at{};
  JournalTime heartbeat_at{};
  std::optional<JournalTime> finished_at;  // set by save() when the status becomes finished
  std::optional<JournalTime> abort_requested_at;
  std::string error;         // "" = none
  std::int64_t version = 0;  // bumped by every write; save() must carry the current one
  std::string release;       // what it deploys ("r<id>" when none was given); "" before schema 4
  std::string old_release;   // the release of the service's last completed cutover ("" when none)
  // `lbctl promote` / `lbctl undo` (request_promote, request_undo): when, and
  // who ("alice@web1"); the first request is kept. None before schema 5.
  std::optional<JournalTime> promote_requested_at;
  std::string promote_requested_by = {};
  std::optional<JournalTime> undo_requested_at;
  std::string undo_requested_by = {};
  // Who runs it now: made fresh at every adoption (begin, adopt), written
  // with the service lock held; every write of the owner is conditional on
  // it, so a runner taken over is refused. "" when its runner gave it up, or
  // before schema 6.
  std::string owner_token = {};
};

// What other lbctl processes asked of a cutover through the journal, from
// any machine: `lbctl abort`, `lbctl promote`, `lbctl undo`.
struct Requests {
  bool abort = false;
  bool promote = false;
  std::string promote_by = {};  // "alice@web1"
  bool undo = false;
  std::string undo_by = {};
};

struct NewCutover {
  std::string service;
  std::string host;
  int pid = 0;
  std::string mode = "blue_green";
  std::string config_json = "{}";
  std::string step = "preflight";
  std::string release = {};  // "": begin() names it r<id>
  // The queued request (submit_request) this cutover carries out, 0 for none:
  // begin() marks it taken in the same commit as the cutover's row, and
  // refuses (conflict) when it is no longer queued, so a request runs once.
  std::int64_t request_id = 0;
  std::string agent = {};  // who takes it ("agent web2 (pid 4242)"), with request_id
};

// A cutover asked for through the state database (`lbctl submit`, serve's
// POST .../cutovers), run by an `lbctl agent`. Stored: queued, taken (a
// cutover carries it out: cutover_id); cancelled is not stored yet.
struct CutoverRequest {
  std::int64_t id = 0;
  std::string service;
  std::string release;        // "" = r<cutover id>
  std::string requested_by;   // "alice@web1"
  std::string config_digest;  // sha256 of the submitter's config snapshot (what it asked for)
  JournalTime requested_at{};
  std::string state = "queued";  // queued, taken
  std::int64_t cutover_id = 0;   // once taken
  std::string agent = {};        // who took it
  std::optional<JournalTime> taken_at = {};
};

struct NewRequest {
  std::string service;
  std::string release;
  std::string requested_by;
  std::string config_digest;
  // false: refused (conflict) while the service has an unfinished cutover or
  // a queued request; true: queued behind them.
  bool queue = false;
};

enum class Pool { old_pool, new_pool };
std::string_view to_string(Pool pool);  // "old", "new"

struct ServerRecord {
  Pool pool = Pool::old_pool;
  std::string name;
  std::string address;  // HOST:PORT
  std::string state;    // the controller's words: "cloned", "attached", "draining", ...
  std::optional<int> haproxy_id;
  JournalTime updated_at{};  // set by the journal
};

struct Event {
  std::int64_t id = 0;
  std::int64_t cutover_id = 0;
  JournalTime at{};
  std::string step;
  std::string kind;
  std::string detail_json = "{}";
};

// What lbctl last left on one LB: the backend's servers as JSON (the
// controller's shape), and the cutover (0: none, e.g. reconcile) that left it.
struct LbRecord {
  std::string lb;
  std::string backend;
  std::string state_json = "{}";
  std::int64_t cutover_id = 0;
  JournalTime updated_at{};  // set by the journal
};

// A restore of the application database from the backup a cutover took
// (`lbctl restore`). Stored: running, done, failed; `interrupted` is only
// read: a running row whose service lock nobody holds (its lbctl died).
enum class RestoreStatus { running, interrupted, done, failed };
std::string_view to_string(RestoreStatus status);

struct NewRestore {
  std::string service;
  std::int64_t cutover_id = 0;  // whose backup
  std::string backup_path;
  std::optional<JournalTime> backup_taken_at;
  std::string run_by;  // who ran it: "alice@web1"
  std::string host;
  int pid = 0;
};

struct Restore {
  std::int64_t id = 0;
  std::string service;
  std::int64_t cutover_id = 0;
  std::string backup_path;
  std::optional<JournalTime> backup_taken_at;
  RestoreStatus status = RestoreStatus::running;
  std::string run_by;
  std::string host;
  int pid = 0;
  JournalTime started_at{};
  std::optional<JournalTime> finished_at;
  std::string error;               // "" = none
  std::string detail_json = "{}";  // what it restored and what was lost, the controller's shape
};

// "cutover 12 (host web1, pid 4242, started 2026-11-21 10:15:30 UTC, at
// step drain)": how a lock's holder or an unfinished cutover is named.
std::string describe(const Cutover& cutover);

// The refusals of begin() and adopt(), worded the same by every Journal:
// conflict "service shop is locked by cutover 12 (...)", and conflict
// "service shop: cutover 12 (...) was interrupted: run `lbctl resume` to
// finish it or `lbctl abort` to roll it back".
Error lock_held_error(const Cutover& holder);
Error unfinished_cutover_error(const Cutover& cutover);
// adopt()'s refusal while a running cutover's lease has not run out.
Error lease_not_run_out(const Cutover& holder, std::chrono::milliseconds lease);

// "2026-11-21 10:15:30 UTC"
std::string format_utc(JournalTime t);

class Journal {
 public:
  virtual ~Journal() = default;

  // Takes the service lock (held until release() or the process dies) and
  // records a new running cutover at `step`, with its release (r<id> when
  // none is given) and the release of the service's last completed cutover
  // as its old release. Fails with conflict when another
  // session holds the lock (the message names its cutover id, host, pid and
  // start time) or when the service has an interrupted or needs_operator
  // cutover (named, with "run `lbctl resume` or `lbctl abort`"); invalid for
  // a bad name or config JSON; unreachable when the database is.
  virtual Result<Cutover> begin(const NewCutover& cutover) = 0;

  // Takes the service lock to finish (resume) or roll back (abort) the
  // service's interrupted or needs_operator cutover, and records `host` and
  // `pid` as its owner with a new owner token. Returns it with its stored
  // status (running or needs_operator) and a new version. Fails with
  // conflict naming the holder when a live session has the lock, or while a
  // running cutover's lease has not run out (see lease_left); invalid when
  // there is nothing to take over (the lock is then released).
  virtual Result<Cutover> adopt(const std::string& service, const std::string& host, int pid) = 0;
  // How long until the lease of the service's running cutover runs out: its
  // runner's last heartbeat + the lease, by the database's clock. 0 when it
  // has run out, when the runner gave it up (owner_token empty), or when no
  // cutover is running. adopt() refuses (conflict) until then.
  virtual Result<std::chrono::milliseconds> lease_left(const std::string& service) = 0;

  // Writes status, step (moving step_started_at when the step changes),
  // progress, lb_snapshot and error, and beats (heartbeat_at); sets
  // finished_at when the status becomes finished. Only when
  // `cutover.version` is the stored one and this journal's owner token still
  // owns the row: then bumps the version and updates `cutover` (version,
  // times). Fails with conflict when another writer got there first or took
  // the cutover over; invalid for bad JSON or a derived status (interrupted).
  virtual Result<void> save(Cutover& cutover) = 0;

  // Records that the owner is alive, and checks that this journal still holds
  // the service lock and the owner token: conflict when it lost either (its
  // lock connection broke, or another lbctl took the cutover over, so the
  // caller must stop).
  virtual Result<void> heartbeat(std::int64_t cutover_id) = 0;

  // After the state database's connection broke (a restart, a failover):
  // takes cutover `cutover_id`'s service lock again (keeps it when this
  // session still holds it) and returns the row as stored. The row must be
  // the one this lbctl last wrote: `version`, or version + 1 while this
  // journal's owner token still owns it (a save that committed but whose
  // answer was lost).
  // Fails with conflict naming the holder when another session holds the
  // lock, or when the row was taken over or changed meanwhile; unreachable
  // while the database still is.
  virtual Result<Cutover> reacquire(std::int64_t cutover_id, std::int64_t version, const std::string& host,
                                    int pid) = 0;

  // Adds or replaces (by name) one server of the cutover.
  virtual Result<void> save_server(std::int64_t cutover_id, const ServerRecord& server) = 0;
  // The same for many servers at once, in one round trip and one commit (a
  // 1,000-server pool changes state together). All or none are saved.
  virtual Result<void> save_servers(std::int64_t cutover_id, const std::vector<ServerRecord>& servers) = 0;
  // The cutover's servers, old pool first, each by name.
  virtual Result<std::vector<ServerRecord>> servers(std::int64_t cutover_id) = 0;

  // Appends an event; returns its id (ids grow). invalid for bad JSON.
  virtual Result<std::int64_t> add_event(std::int64_t cutover_id, std::string_view step, std::string_view kind,
                                         std::string_view detail_json) = 0;
  // Events with id > after_id, oldest first, at most `limit`.
  virtual Result<std::vector<Event>> events(std::int64_t cutover_id, std::int64_t after_id, std::size_t limit) = 0;
  // The last `limit` events, oldest first.
  virtual Result<std::vector<Event>> recent_events(std::int64_t cutover_id, std::size_t limit) = 0;

  // Asks the service's running (or interrupted, or needs_operator) cutover to
  // roll back; works from any machine. Returns its id; a repeat keeps the
  // first request's time. invalid when the service has no such cutover.
  virtual Result<std::int64_t> request_abort(const std::string& service) = 0;
  // True once request_abort() was called for this cutover.
  virtual Result<bool> abort_requested(std::int64_t cutover_id) = 0;
  // Asks the service's unfinished cutover (running, interrupted or
  // needs_operator) to end its promotion pause (promote) or to put the old
  // pool back during its undo window (undo), recording when and `by`
  // ("alice@web1"); works from any machine. Returns its id; a repeat keeps
  // the first request's time and author. invalid when the service has no
  // such cutover, or `by` is empty. The controller decides whether the
  // request can be carried out (the caller checks the step first).
  virtual Result<std::int64_t> request_promote(const std::string& service, const std::string& by) = 0;
  virtual Result<std::int64_t> request_undo(const std::string& service, const std::string& by) = 0;
  // Every request made of this cutover so far (abort, promote, undo), in one
  // read: what the running cutover polls. invalid for an unknown id.
  virtual Result<Requests> requests(std::int64_t cutover_id) = 0;

  // Takes the service lock without starting a cutover (for `lbctl
  // reconcile`): conflict naming the holder when another session holds it,
  // or naming the service's unfinished cutover (resume or abort it first).
  // release() lets go.
  virtual Result<void> lock_service(const std::string& service, const std::string& host, int pid) = 0;

  // Lets go of the service lock and closes its connection; a no-op when not
  // held. A running cutover this journal owns is given up too (its owner
  // token cleared), so another lbctl may take it over at once rather than
  // wait for the lease: unless the database stopped answering, when nothing
  // more is sent to it.
  virtual void release() = 0;

  // Replaces what lbctl last left on these LBs of the service (by LB name),
  // in one commit; the caller holds the service lock. invalid for bad JSON.
  virtual Result<void> save_lb_records(const std::string& service, const std::vector<LbRecord>& records) = 0;
  // What lbctl last left on each LB of the service (no lock needed).
  virtual Result<std::vector<LbRecord>> lb_records(const std::string& service) = 0;

  // Records a cutover request for an agent to run; returns it (queued).
  // conflict when the service already has an unfinished cutover or a queued
  // request and `request.queue` is false (the message names it); invalid for
  // a bad service name or release. Submits for one service take turns.
  virtual Result<CutoverRequest> submit_request(const NewRequest& request) = 0;
  // One request; invalid when there is no such id.
  virtual Result<CutoverRequest> cutover_request(std::int64_t request_id) = 0;
  // The service's requests still queued, oldest first, then the last `taken`
  // taken ones, newest first.
  virtual Result<std::vector<CutoverRequest>> request_queue(const std::string& service, std::size_t taken) = 0;
  // How many of the service's cutovers were taken over from a runner whose
  // lease ran out (their `taken_over` events).
  virtual Result<std::int64_t> takeovers(const std::string& service) = 0;

  // Reads that need no lock and work from any machine; running rows whose
  // lock nobody holds read as interrupted.
  // The service's newest cutover, nullopt when it has none.
  virtual Result<std::optional<Cutover>> latest(const std::string& service) = 0;
  // One cutover; invalid when there is no such id.
  virtual Result<Cutover> get(std::int64_t cutover_id) = 0;
  // The service's cutovers, newest first, at most `limit`.
  virtual Result<std::vector<Cutover>> history(const std::string& service, std::size_t limit) = 0;
  // How many of the service's cutovers are in each status ("completed": 12, ...).
  virtual Result<std::map<std::string, std::int64_t>> outcome_counts(const std::string& service) = 0;

  // Records a restore as running; the caller holds the service lock (see
  // lock_service), so a restore whose lbctl died reads interrupted. Returns
  // it. invalid for a bad service name or a cutover id that does not exist.
  virtual Result<Restore> begin_restore(const NewRestore& restore) = 0;
  // Records how it ended: done or failed (with `error`), and `detail_json`.
  // invalid for another status, bad JSON, or an unknown id.
  virtual Result<void> finish_restore(std::int64_t restore_id, RestoreStatus status, std::string_view error,
                                      std::string_view detail_json) = 0;
  // The service's restores, newest first, at most `limit` (no lock needed).
  virtual Result<std::vector<Restore>> restores(const std::string& service, std::size_t limit) = 0;
};

}  // namespace lbctl::db
