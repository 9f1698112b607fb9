// CutoverRun's journal: every write goes to the journal's lane (off the
// event loop), saves chain on the version the lane keeps, and a state
// database out of reach is ridden out: writes kept, the lock taken again on
// reconnect, the writes replayed, up to state.reconnect_timeout. Also the
// heartbeat and abort poll.

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "core/off_loop.hpp"
#include "lbctl/cutover/cutover_run.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;
void CutoverRun::journal_write(JournalWrite write) {
  if (m_db_lost_at || m_reconnecting) {
    m_unjournaled.push_back(std::move(write));
    return;
  }
  auto& journal = lane_journal();
  off_loop_then<Result<void>>(
      m_deps.journal_lane, [&journal, write]() { return write(journal); },
      [this, alive = std::weak_ptr<bool>(m_alive), write](Result<void> written) {
        if (alive.expired()) return;
        if (!written && written.error().kind == ErrorKind::unreachable) keep_for_later(write, written.error());
      });
}

void CutoverRun::keep_for_later(JournalWrite write, const Error& error) {
  m_unjournaled.push_back(std::move(write));
  database_lost(error);
}

void CutoverRun::database_lost(const Error& error) {
  if (m_db_lost_at || m_lost_lock) return;
  m_db_lost_at = m_deps.clock.now();
  m_db_backoff = 250ms;
  m_db_next_try = *m_db_lost_at + m_db_backoff;
  emit(current_step(), EventKind::state_database_lost,
       fmt::format("the state database is out of reach ({}): the load balancers stay as they are; reconnecting for "
                   "up to {}",
                   error.message, format_duration(config().state_reconnect_timeout)),
       {{"error", error.message}});
}

bool CutoverRun::reconnect_due() const {
  return m_db_lost_at && !m_lost_lock && !m_reconnecting && m_deps.clock.now() >= m_db_next_try;
}

std::function<CutoverRun::Reconnected()> CutoverRun::reconnect_attempt() {
  m_reconnecting = true;
  auto pending = std::move(m_unjournaled);
  m_unjournaled.clear();
  return [&journal = lane_journal(), version = m_lane_version, id = m_row.id, host = m_row.host, pid = m_row.pid,
          pending = std::move(pending), sent = m_deps.clock.now()]() mutable {
    Reconnected attempt;
    attempt.sent = sent;
    attempt.back = journal.reacquire(id, *version, host, pid);
    if (!attempt.back) {
      attempt.left = std::move(pending);
      return attempt;
    }
    *version = attempt.back->version;
    for (std::size_t i = 0; i < pending.size(); ++i) {
      auto written = pending[i](journal);
      if (written || written.error().kind != ErrorKind::unreachable) {
        ++attempt.replayed;
        continue;
      }
      // Gone again: what is left waits for the next time it is back.
      attempt.left.assign(std::make_move_iterator(pending.begin() + static_cast<std::ptrdiff_t>(i)),
                          std::make_move_iterator(pending.end()));
      attempt.lost_again = written.error();
      break;
    }
    return attempt;
  };
}

bool CutoverRun::reconnected(Reconnected attempt) {
  m_reconnecting = false;
  // Writes made while the attempt was out come after those it carried.
  attempt.left.insert(attempt.left.end(), std::make_move_iterator(m_unjournaled.begin()),
                      std::make_move_iterator(m_unjournaled.end()));
  m_unjournaled = std::move(attempt.left);
  const auto now = m_deps.clock.now();
  const auto& back = attempt.back;
  if (!back && back.error().kind == ErrorKind::unreachable) {
    if (now - *m_db_lost_at >= config().state_reconnect_timeout) {
      m_lost_lock = true;
      m_lost_lock_reason = fmt::format("the state database was out of reach for longer than state.reconnect_timeout "
                                       "({}; last: {})",
                                       format_duration(config().state_reconnect_timeout), back.error().message);
      return false;
    }
    m_db_backoff = std::min<std::chrono::milliseconds>(m_db_backoff * 2, 5s);
    m_db_next_try = now + m_db_backoff;
    return false;
  }
  if (!back) {
    m_lost_lock = true;
    m_lost_lock_reason = "the state database came back but " + back.error().message;
    return false;
  }
  const auto out_for = std::chrono::duration_cast<std::chrono::milliseconds>(now - *m_db_lost_at);
  m_row.version = back->version;
  m_db_lost_at.reset();
  m_lease_from = std::max(m_lease_from, attempt.sent);
  if (attempt.lost_again) {
    database_lost(*attempt.lost_again);
    return false;
  }
  auto later = std::move(m_unjournaled);
  m_unjournaled.clear();
  emit(current_step(), EventKind::state_database_back,
       fmt::format("the state database is back after {:.1f} s: the service lock is held again and the journal is as "
                   "this lbctl left it; {} journal writes made meanwhile saved",
                   static_cast<double>(out_for.count()) / 1000.0, attempt.replayed),
       {{"out_ms", out_for.count()}, {"replayed", attempt.replayed}});
  for (auto& write : later) journal_write(std::move(write));
  return true;
}

void CutoverRun::start_reconnect() {
  if (!reconnect_due()) return;
  off_loop_then<Reconnected>(m_deps.journal_lane, reconnect_attempt(),
                             [this, alive = std::weak_ptr<bool>(m_alive)](Reconnected attempt) {
                               if (!alive.expired()) (void)reconnected(std::move(attempt));
                             });
}

asio::awaitable<Result<void>> CutoverRun::ride_out_outage() {
  while (m_db_lost_at && !m_lost_lock) {
    if (interrupted()) {
      // Nothing more can be journaled: the run ends here, the LBs as they
      // are, for `lbctl resume` or `lbctl abort` once the lease ran out.
      m_lost_lock = true;
      m_lost_lock_reason = "interrupted while the state database was out of reach";
      break;
    }
    // Attempts go out without being waited for: an interrupt is seen within
    // 100 ms even while one hangs on a database that does not answer.
    start_reconnect();
    if (!m_db_lost_at) break;
    const auto due = std::chrono::duration_cast<std::chrono::milliseconds>(m_db_next_try - m_deps.clock.now());
    co_await m_deps.clock.sleep_for(m_reconnecting ? 10ms : std::clamp<std::chrono::milliseconds>(due, 10ms, 100ms));
  }
  if (m_lost_lock) co_return fail(ErrorKind::conflict, m_lost_lock_reason);
  co_return Result<void>{};
}

// Built outside the coroutine: GCC 12 mishandles a lambda's init-captures
// inside a coroutine body (a string freed twice, seen under ASan).
std::function<CutoverRun::Saved()> CutoverRun::save_attempt() {
  m_row.progress_json = write_progress(m_progress);
  return [row = m_row, version = m_lane_version, &journal = lane_journal()]() mutable {
    row.version = *version;
    auto result = journal.save(row);
    if (result) *version = row.version;
    return Saved{result, row};
  };
}

asio::awaitable<Result<void>> CutoverRun::save() {
  co_return co_await journal_through_outage([this]() -> asio::awaitable<Result<void>> {
    const auto sent = m_deps.clock.now();
    auto saved = co_await off_loop<Saved>(m_deps.journal_lane, save_attempt());
    if (saved.first) {
      // A save beats too.
      m_lease_from = std::max(m_lease_from, sent);
      // What save() sets: the version and the times.
      m_row.version = saved.second.version;
      m_row.step_started_at = saved.second.step_started_at;
      m_row.heartbeat_at = saved.second.heartbeat_at;
      m_row.finished_at = saved.second.finished_at;
    }
    co_return saved.first;
  });
}

asio::awaitable<Result<void>> CutoverRun::journal_through_outage(
    std::function<asio::awaitable<Result<void>>()> write) {
  for (;;) {
    if (m_lost_lock) co_return fail(ErrorKind::conflict, m_lost_lock_reason);
    if (m_db_lost_at) {
      if (auto back = co_await ride_out_outage(); !back) co_return back;
    }
    auto written = co_await write();
    if (written || written.error().kind != ErrorKind::unreachable) co_return written;
    database_lost(written.error());
  }
}

asio::awaitable<Result<void>> CutoverRun::enter(Step step) {
  m_row.step = std::string(to_string(step));
  if (auto saved = co_await save(); !saved) co_return saved;
  emit(step, EventKind::step_started, fmt::format("{} started", to_string(step)));
  co_return Result<void>{};
}

asio::awaitable<Result<void>> CutoverRun::finish(db::CutoverStatus status, const std::string& error) {
  m_row.status = status;
  m_row.error = error;
  co_return co_await save();
}

void CutoverRun::record_servers(db::Pool pool, const std::string& state) {
  std::vector<db::ServerRecord> records;
  const auto& servers = pool == db::Pool::old_pool ? m_progress.old_pool : m_progress.new_pool;
  for (const auto& s : servers) {
    std::optional<int> id;
    if (pool == db::Pool::new_pool) id = static_cast<int>(s.id);
    records.push_back({pool, s.name, s.address, state, id, {}});
  }
  record_servers(std::move(records));
}

void CutoverRun::record_servers(std::vector<db::ServerRecord> records) {
  journal_write([id = m_row.id, records = std::move(records)](db::Journal& j) { return j.save_servers(id, records); });
}

bool CutoverRun::stop_requested() {
  beat();
  return abort_asked();
}

void CutoverRun::beat() { beat(false); }

std::shared_ptr<bool> CutoverRun::keep_beating(const asio::any_io_executor& executor) {
  auto token = std::make_shared<bool>(true);
  asio::co_spawn(executor, beat_while(m_deps.clock, token, m_alive), asio::detached);
  return token;
}

// Starts later than it is made: `this` only once `alive` says the run is still there.
asio::awaitable<void> CutoverRun::beat_while(Clock& clock, std::weak_ptr<bool> token, std::weak_ptr<bool> alive) {
  for (;;) {
    co_await clock.sleep_for(500ms);
    // Dropped with the wait it kept company, or the run is gone: done.
    if (token.expired() || alive.expired()) co_return;
    beat();
  }
}

void CutoverRun::beat(bool now_please) {
  if (m_lost_lock) return;
  const auto now = m_deps.clock.now();
  // The journal is asked at most every 100 ms, however often steps poll.
  if (!now_please && m_last_poll && now - *m_last_poll < 100ms) return;
  m_last_poll = now;
  if (m_db_lost_at) {
    start_reconnect();
    return;
  }
  if (m_polling) return;
  // A lock lost with its connection, or a database out of reach: ridden
  // out (the lock is taken again if nobody else took it). A cutover taken
  // over by another lbctl (its owner token changed) is lost for good.
  m_polling = true;
  using Polled = std::pair<Result<void>, Result<db::Requests>>;
  auto lost = [](const Result<void>& beat) {
    return !beat && (beat.error().kind == ErrorKind::conflict || beat.error().kind == ErrorKind::unreachable);
  };
  off_loop_then<Polled>(
      m_deps.journal_lane,
      [&journal = lane_journal(), id = m_row.id, lost]() {
        auto beat = journal.heartbeat(id);
        if (lost(beat)) return Polled{beat, db::Requests{}};
        return Polled{beat, journal.requests(id)};
      },
      [this, alive = std::weak_ptr<bool>(m_alive), lost, sent = now](Polled polled) {
        if (alive.expired()) return;
        m_polling = false;
        const auto& [beat, asked] = polled;
        if (lost(beat)) {
          database_lost(beat.error());
          return;
        }
        if (beat) m_lease_from = std::max(m_lease_from, sent);
        if (!asked && asked.error().kind == ErrorKind::unreachable) database_lost(asked.error());
        if (!asked) return;
        m_requests = *asked;
        if (asked->abort) m_abort_seen = true;
      });
}

}  // namespace lbctl
