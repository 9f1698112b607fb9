#pragma once
// One running cutover's hold on the state database: the journal row it
// saves, the writes nobody waits for (events, server records: in order, on
// the journal's lane), the heartbeat that renews its lease and reads what
// other lbctl processes asked (abort, promote, undo), and a database out of
// reach ridden out: writes kept, the lock taken again on reconnect, the
// writes replayed, up to state.reconnect_timeout. Internal to CutoverRun.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/offload.hpp"
#include "db/journal.hpp"
#include "lbctl/cutover/events.hpp"

namespace lbctl {

class JournalSession {
 public:
  // A write on the journal's lane, against the journal it is given.
  using Write = std::function<Result<void>(db::Journal&)>;
  // Told when the database goes out of reach and when it is back: the run
  // reports it as an event at its current step.
  using Notice = std::function<void(EventKind, std::string, nlohmann::json)>;
  struct Settings {
    std::chrono::milliseconds lease;              // state.lease
    std::chrono::milliseconds reconnect_timeout;  // state.reconnect_timeout
  };

  // `journal` is the one the lane calls (not the wrapper that waits for the
  // lane); `lane` empty: every call inline. `interrupted` (may be null) is
  // the command's first SIGINT/SIGTERM. begin() or adopt() just wrote the
  // row's heartbeat: the lease runs from now.
  JournalSession(db::Journal& journal, Offload lane, Clock& clock, Settings settings, db::Cutover row,
                 std::shared_ptr<bool> interrupted, Notice notice);
  JournalSession(const JournalSession&) = delete;
  JournalSession& operator=(const JournalSession&) = delete;

  // The row as last saved, with what the run set on it since.
  db::Cutover& row() { return m_row; }
  const db::Cutover& row() const { return m_row; }

  // Saves the row (step, status, error, and the progress `progress` writes
  // at each try) with its version. While the database is out of reach it
  // waits (reconnecting, the lock taken again, the row checked) up to
  // state.reconnect_timeout, so nothing that depends on the save starts
  // before it is durable.
  using ProgressWriter = std::function<std::string()>;
  boost::asio::awaitable<Result<void>> save(ProgressWriter progress);
  // Posts a write nobody waits for, in order with every other journal call;
  // kept for later while the database is out of reach.
  void write(Write write);
  // A journal write of the caller's: when it fails because the database is
  // out of reach, waits for it (as save() does) and tries again.
  boost::asio::awaitable<Result<void>> through_outage(std::function<boost::asio::awaitable<Result<void>>()> write);

  // Polls the journal without waiting: the heartbeat (which renews the
  // lease) and the requests other lbctl processes made, at most every
  // 100 ms however often it is called; while the database is out of reach,
  // starts a reconnection when one is due. Every wait calls it.
  void poll();
  // Until the returned token is dropped, polls every 500 ms on `executor`
  // (the caller's): for the waits that do not poll on their own (a hook, a
  // clone, a backup). Name the executor first:
  //   auto executor = co_await boost::asio::this_coro::executor;
  //   const auto polling = run.session().keep_polling(executor);
  std::shared_ptr<bool> keep_polling(const boost::asio::any_io_executor& executor);

  // What the last poll read. Pure.
  const db::Requests& requests() const { return m_requests; }
  // True once a poll read that `lbctl abort` asked (it stays asked).
  bool abort_requested() const { return m_abort_seen; }

  // The lease holds: the last heartbeat (or save) the database confirmed was
  // sent less than state.lease ago, and the database is not out of reach.
  bool lease_held() const;
  // The fleet's write gate: returns at once while the lease holds; else
  // waits, polling, until it holds again (the database back, the lock taken
  // again), or fails (conflict) when the lock is lost for good.
  boost::asio::awaitable<Result<void>> hold_lease();
  bool lost_lock() const { return m_lost_lock; }
  // Why the lock was lost for good ("" when it was not).
  const std::string& lost_lock_reason() const { return m_lost_lock_reason; }

 private:
  // What one reconnection attempt found, on the lane: the row, the writes
  // replayed, and those left when the database went away again.
  struct Reconnected {
    Result<db::Cutover> back;
    std::size_t replayed = 0;
    std::vector<Write> left;
    std::optional<Error> lost_again;
    Clock::TimePoint sent{};  // when it was started: the lease runs from there
  };
  // Writes posted while the lane was busy go out together: one task on the
  // lane runs every write queued when it starts (10,000 `healthy` events at
  // the end of verify are a handful of tasks, not 10,000 round trips through
  // the loop). A write posted once a task has taken its queue posts the next
  // task, so the order with every other lane call holds.
  struct WriteQueue {
    std::mutex mutex;
    std::vector<Write> writes;
    bool task_posted = false;
  };
  // One save on the lane: the result and the row as saved.
  using Saved = std::pair<Result<void>, db::Cutover>;

  // poll(), ignoring the 100 ms throttle when `now_please` (the write gate).
  void poll(bool now_please);
  boost::asio::awaitable<void> poll_while(Clock& clock, std::weak_ptr<bool> token, std::weak_ptr<bool> alive);
  std::function<Saved()> save_attempt(std::string progress_json);
  // The database's connection broke (once per outage: a notice, the backoff reset).
  void database_lost(const Error& error);
  // A write that failed because the database was out of reach: kept, and
  // replayed in order once it is back.
  void keep_for_later(Write write, const Error& error);
  // Reconnecting: due when the backoff has passed and no attempt is out;
  // the attempt (taking the writes kept meanwhile) runs on the lane, and
  // reconnected() reads its outcome on the loop (true when back).
  bool reconnect_due() const;
  std::function<Reconnected()> reconnect_attempt();
  bool reconnected(Reconnected attempt);
  // Starts an attempt when one is due, without waiting.
  void start_reconnect();
  // Waits until the database is back or the lock is lost for good.
  boost::asio::awaitable<Result<void>> ride_out_outage();
  void lose_lock(std::string reason);
  bool interrupted() const { return m_interrupted && *m_interrupted; }

  db::Journal& m_journal;
  Offload m_lane;
  Clock& m_clock;
  Settings m_settings;
  db::Cutover m_row;
  std::shared_ptr<bool> m_interrupted;
  Notice m_notice;
  std::shared_ptr<WriteQueue> m_write_queue = std::make_shared<WriteQueue>();
  std::optional<Clock::TimePoint> m_last_poll;
  // When the last heartbeat (or save, or reconnection) that the database
  // confirmed was sent: the lease runs from there.
  Clock::TimePoint m_lease_from{};
  db::Requests m_requests;
  bool m_abort_seen = false;
  bool m_lost_lock = false;
  std::string m_lost_lock_reason;
  std::optional<Clock::TimePoint> m_db_lost_at;
  Clock::TimePoint m_db_next_try{};
  std::chrono::milliseconds m_db_backoff{0};
  std::vector<Write> m_unjournaled;
  bool m_reconnecting = false;  // an attempt is on the lane
  bool m_polling = false;       // a heartbeat and requests poll is on the lane
  // The row's version as last saved, touched only on the lane (saves and
  // reconnections chain on it, whatever the loop does meanwhile).
  std::shared_ptr<std::int64_t> m_lane_version;
  // Completions that come back after the session is gone do nothing.
  std::shared_ptr<bool> m_alive = std::make_shared<bool>(true);
};

}  // namespace lbctl
