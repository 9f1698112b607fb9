#pragma once
// An in-memory Journal for the controller's unit tests. It keeps the real
// one's rules (one lock per service, versioned saves, interrupted derived
// from the lock, the same refusal texts) and records every call, so a test
// can assert the exact sequence:
//   begin shop | adopt shop | save 1 v1 running attach | heartbeat 1 |
//   server 1 new v2-1 attached | event 1 attach started | events 1 after 0 |
//   recent_events 1 | servers 1 | request_abort shop | abort_requested 1 |
//   request_promote shop alice@web1 | request_undo shop alice@web1 |
//   requests 1 | release | latest shop | get 1 | history shop
// ("save ID vVERSION STATUS STEP" shows the version the caller sent).
// Simulate the world with hold_lock(), owner_died(), lose_lock(),
// other_writer() and fail_next().

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "db/journal.hpp"

namespace lbctl::test {

class FakeJournal final : public db::Journal {
 public:
  // Times come from `clock` (its wall time) when given, else from a fixed epoch.
  explicit FakeJournal(const Clock* clock = nullptr) : m_clock(clock) {}

  Result<db::Cutover> begin(const db::NewCutover& cutover) override;
  Result<db::Cutover> adopt(const std::string& service, const std::string& host, int pid) override;
  // With a clock only (without one the lease never holds anyone up).
  Result<std::chrono::milliseconds> lease_left(const std::string& service) override;
  Result<void> save(db::Cutover& cutover) override;
  Result<void> heartbeat(std::int64_t cutover_id) override;
  Result<db::Cutover> reacquire(std::int64_t cutover_id, std::int64_t version, const std::string& host,
                                int pid) override;
  Result<void> save_server(std::int64_t cutover_id, const db::ServerRecord& server) override;
  // Recorded as one "server ..." call per server, like save_server.
  Result<void> save_servers(std::int64_t cutover_id, const std::vector<db::ServerRecord>& servers) override;
  Result<std::vector<db::ServerRecord>> servers(std::int64_t cutover_id) override;
  Result<std::int64_t> add_event(std::int64_t cutover_id, std::string_view step, std::string_view kind,
                                 std::string_view detail_json) override;
  Result<std::vector<db::Event>> events(std::int64_t cutover_id, std::int64_t after_id, std::size_t limit) override;
  Result<std::vector<db::Event>> recent_events(std::int64_t cutover_id, std::size_t limit) override;
  // The requests of other lbctl processes (fake_journal_requests.cpp).
  Result<std::int64_t> request_abort(const std::string& service) override;
  Result<bool> abort_requested(std::int64_t cutover_id) override;
  Result<std::int64_t> request_promote(const std::string& service, const std::string& by) override;
  Result<std::int64_t> request_undo(const std::string& service, const std::string& by) override;
  Result<db::Requests> requests(std::int64_t cutover_id) override;
  Result<void> lock_service(const std::string& service, const std::string& host, int pid) override;
  void release() override;
  // Logged as "records shop lb1,lb2" (apart from the "save" calls).
  Result<void> save_lb_records(const std::string& service, const std::vector<db::LbRecord>& records) override;
  Result<std::vector<db::LbRecord>> lb_records(const std::string& service) override;
  Result<std::optional<db::Cutover>> latest(const std::string& service) override;
  Result<db::Cutover> get(std::int64_t cutover_id) override;
  Result<std::vector<db::Cutover>> history(const std::string& service, std::size_t limit) override;
  Result<std::map<std::string, std::int64_t>> outcome_counts(const std::string& service) override;
  // Logged as "begin_restore shop cutover=1", "finish_restore 1 done",
  // "restores shop" (fake_journal_restores.cpp).
  Result<db::Restore> begin_restore(const db::NewRestore& restore) override;
  Result<void> finish_restore(std::int64_t restore_id, db::RestoreStatus status, std::string_view error,
                              std::string_view detail_json) override;
  Result<std::vector<db::Restore>> restores(const std::string& service, std::size_t limit) override;
  // Cutover requests (fake_journal_requests.cpp): "submit shop r7",
  // "request 1", "request_queue shop", "takeovers shop"; begin() with a
  // request_id takes it as the real one does.
  Result<db::CutoverRequest> submit_request(const db::NewRequest& request) override;
  Result<db::CutoverRequest> cutover_request(std::int64_t request_id) override;
  Result<std::vector<db::CutoverRequest>> request_queue(const std::string& service, std::size_t taken) override;
  Result<std::int64_t> takeovers(const std::string& service) override;

  // --- the world, for tests ---

  // Every call, in order (see the top of this file).
  std::vector<std::string> calls;
  // Only the calls starting with `prefix` ("save", "event 1 drain").
  std::vector<std::string> calls_starting(std::string_view prefix) const;

  // Stores a row as it is (e.g. a cutover some earlier run left): status
  // running with nobody holding the lock reads interrupted. Returns its id
  // (assigned when row.id is 0).
  std::int64_t seed(db::Cutover row);
  // Another live process holds the service's lock (with its running row, if
  // seeded, named in the refusal).
  void hold_lock(const std::string& service);
  // The other process holding the service's lock died.
  void other_died(const std::string& service);
  // This journal's owner died (its connection dropped): the lock is gone,
  // its running row reads interrupted. The fake stays usable for reads.
  void owner_died();
  // The next heartbeat finds the lock lost (conflict), as when the lock's
  // connection broke.
  void lose_lock();
  // The state database stops (every call fails with unreachable, and the
  // lock goes with the connection), then comes back.
  void go_down();
  void come_back();
  bool down() const { return m_down; }
  // Another writer saved the cutover: its version moves on, so the next
  // save with the old version is refused.
  void other_writer(std::int64_t cutover_id);
  // Another lbctl took the cutover over: a new owner token (and version),
  // so every later write of this journal's owner is refused.
  void taken_over(std::int64_t cutover_id);
  // From now on (until false) every heartbeat fails as a statement timeout
  // would: the database answers, but confirms nothing.
  void stall_heartbeats(bool stalled) { m_stall_heartbeats = stalled; }
  // The lease adopt() waits out (default 15 s).
  void set_lease(std::chrono::milliseconds lease) { m_lease = lease; }
  // The next call of `method` ("begin", "save", "heartbeat", ...) fails with `error`.
  void fail_next(const std::string& method, Error error);

  // The rows, servers and events as stored.
  const std::map<std::int64_t, db::Cutover>& rows() const { return m_rows; }
  const std::map<std::int64_t, db::Restore>& restore_rows() const { return m_restores; }
  const std::map<std::int64_t, db::CutoverRequest>& request_rows() const { return m_requests; }
  std::vector<db::Event> all_events(std::int64_t cutover_id) const;
  // The service whose lock this journal holds, if any.
  std::optional<std::string> held_service() const { return m_held; }

 private:
  db::JournalTime now() const;
  std::optional<Error> injected(const std::string& method);
  db::Cutover read(const db::Cutover& stored) const;
  db::Cutover* active(const std::string& service);
  Result<void> take_lock(const std::string& service);
  std::string new_token() { return "token-" + std::to_string(++m_tokens); }
  // conflict when `cutover_id` is this journal's and another took it over.
  std::optional<Error> fenced(std::int64_t cutover_id) const;
  // begin()'s part for a cutover that carries out a request: conflict when
  // it is no longer queued; else taken by cutover `cutover_id`.
  std::optional<Error> take_request(const db::NewCutover& cutover, std::int64_t cutover_id);

  const Clock* m_clock;
  std::map<std::int64_t, db::Cutover> m_rows;
  std::map<std::int64_t, std::map<std::string, db::ServerRecord>> m_servers;
  std::map<std::string, std::map<std::string, db::LbRecord>> m_lb_records;
  std::map<std::int64_t, db::Restore> m_restores;
  std::map<std::int64_t, db::CutoverRequest> m_requests;
  std::vector<db::Event> m_events;
  std::set<std::string> m_locked;  // services whose lock someone holds
  std::optional<std::string> m_held;
  bool m_lose_lock = false;
  bool m_down = false;
  std::map<std::string, std::deque<Error>> m_failures;
  std::chrono::milliseconds m_lease{15000};
  bool m_stall_heartbeats = false;
  std::int64_t m_owned = 0;  // the cutover this journal runs, and its token
  std::string m_token;
  int m_tokens = 0;
  std::int64_t m_next_id = 1;
  std::int64_t m_next_event = 1;
  mutable int m_ticks = 0;
};

}  // namespace lbctl::test
