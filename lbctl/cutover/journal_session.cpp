#include "lbctl/cutover/journal_session.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "core/duration.hpp"
#include "core/off_loop.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

JournalSession::JournalSession(db::Journal& journal, Offload lane, Clock& clock, Settings settings, db::Cutover row,
                               std::shared_ptr<bool> interrupted, Notice notice)
    : m_journal(journal),
      m_lane(std::move(lane)),
      m_clock(clock),
      m_settings(settings),
      m_row(std::move(row)),
      m_interrupted(std::move(interrupted)),
      m_notice(std::move(notice)),
      m_lease_from(clock.now()),
      m_lane_version(std::make_shared<std::int64_t>(m_row.version)) {}

bool JournalSession::lease_held() const {
  return !m_lost_lock && !m_db_lost_at && m_clock.now() - m_lease_from < m_settings.lease;
}

void JournalSession::lose_lock(std::string reason) {
  m_lost_lock = true;
  m_lost_lock_reason = std::move(reason);
}

asio::awaitable<Result<void>> JournalSession::hold_lease() {
  // Every batch polls too (at most every 100 ms): a detach retrying its
  // `del server` for a while keeps the lease fresh.
  poll();
  for (;;) {
    if (m_lost_lock) co_return fail(ErrorKind::conflict, m_lost_lock_reason);
    if (lease_held()) co_return Result<void>{};
    if (m_db_lost_at) {
      if (auto back = co_await ride_out_outage(); !back) co_return back;
      continue;
    }
    // Reachable, but no heartbeat confirmed within the lease (a database so
    // slow its answers come later than that): nothing goes to the LBs until
    // one is, for as long as an outage would be ridden out.
    const auto since = m_clock.now() - m_lease_from;
    if (since >= m_settings.lease + m_settings.reconnect_timeout) {
      lose_lock(fmt::format("no heartbeat was confirmed for {} (state.lease {} + state.reconnect_timeout {})",
                            format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(since)),
                            format_duration(m_settings.lease), format_duration(m_settings.reconnect_timeout)));
      continue;
    }
    poll(true);
    if (lease_held()) continue;
    co_await m_clock.sleep_for(100ms);
  }
}

void JournalSession::write(Write write) {
  if (m_db_lost_at || m_reconnecting) {
    m_unjournaled.push_back(std::move(write));
    return;
  }
  if (m_lane.inline_()) {
    auto written = write(m_journal);
    if (!written && written.error().kind == ErrorKind::unreachable) keep_for_later(write, written.error());
    return;
  }
  {
    const std::lock_guard lock(m_write_queue->mutex);
    m_write_queue->writes.push_back(std::move(write));
    if (m_write_queue->task_posted) return;  // the task not yet started takes it too
    m_write_queue->task_posted = true;
  }
  using Kept = std::vector<std::pair<Write, Error>>;
  off_loop_then<Kept>(
      m_lane,
      [&journal = m_journal, queue = m_write_queue]() {
        std::vector<Write> writes;
        {
          const std::lock_guard lock(queue->mutex);
          writes.swap(queue->writes);
          queue->task_posted = false;
        }
        Kept kept;
        for (auto& queued : writes) {
          auto written = queued(journal);
          if (!written && written.error().kind == ErrorKind::unreachable) {
            kept.emplace_back(std::move(queued), written.error());
          }
        }
        return kept;
      },
      [this, alive = std::weak_ptr<bool>(m_alive)](Kept kept) {
        if (alive.expired()) return;
        for (auto& [failed, why] : kept) keep_for_later(std::move(failed), why);
      });
}

void JournalSession::keep_for_later(Write write, const Error& error) {
  m_unjournaled.push_back(std::move(write));
  database_lost(error);
}

void JournalSession::database_lost(const Error& error) {
  if (m_db_lost_at || m_lost_lock) return;
  m_db_lost_at = m_clock.now();
  m_db_backoff = 250ms;
  m_db_next_try = *m_db_lost_at + m_db_backoff;
  m_notice(EventKind::state_database_lost,
           fmt::format("the state database is out of reach ({}): the load balancers stay as they are; reconnecting for "
                       "up to {}",
                       error.message, format_duration(m_settings.reconnect_timeout)),
           {{"error", error.message}});
}

bool JournalSession::reconnect_due() const {
  return m_db_lost_at && !m_lost_lock && !m_reconnecting && m_clock.now() >= m_db_next_try;
}

std::function<JournalSession::Reconnected()> JournalSession::reconnect_attempt() {
  m_reconnecting = true;
  auto pending = std::move(m_unjournaled);
  m_unjournaled.clear();
  return [&journal = m_journal, version = m_lane_version, id = m_row.id, host = m_row.host, pid = m_row.pid,
          pending = std::move(pending), sent = m_clock.now()]() mutable {
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

bool JournalSession::reconnected(Reconnected attempt) {
  m_reconnecting = false;
  // Writes made while the attempt was out come after those it carried.
  attempt.left.insert(attempt.left.end(), std::make_move_iterator(m_unjournaled.begin()),
                      std::make_move_iterator(m_unjournaled.end()));
  m_unjournaled = std::move(attempt.left);
  const auto now = m_clock.now();
  const auto& back = attempt.back;
  if (!back && back.error().kind == ErrorKind::unreachable) {
    if (now - *m_db_lost_at >= m_settings.reconnect_timeout) {
      lose_lock(fmt::format("the state database was out of reach for longer than state.reconnect_timeout ({}; last: {})",
                            format_duration(m_settings.reconnect_timeout), back.error().message));
      return false;
    }
    m_db_backoff = std::min<std::chrono::milliseconds>(m_db_backoff * 2, 5s);
    m_db_next_try = now + m_db_backoff;
    return false;
  }
  if (!back) {
    lose_lock("the state database came back but " + back.error().message);
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
  m_notice(EventKind::state_database_back,
           fmt::format("the state database is back after {:.1f} s: the service lock is held again and the journal is as "
                       "this lbctl left it; {} journal writes made meanwhile saved",
                       static_cast<double>(out_for.count()) / 1000.0, attempt.replayed),
           {{"out_ms", out_for.count()}, {"replayed", attempt.replayed}});
  for (auto& write : later) this->write(std::move(write));
  return true;
}

void JournalSession::start_reconnect() {
  if (!reconnect_due()) return;
  off_loop_then<Reconnected>(m_lane, reconnect_attempt(),
                             [this, alive = std::weak_ptr<bool>(m_alive)](Reconnected attempt) {
                               if (!alive.expired()) (void)reconnected(std::move(attempt));
                             });
}

asio::awaitable<Result<void>> JournalSession::ride_out_outage() {
  while (m_db_lost_at && !m_lost_lock) {
    if (interrupted()) {
      // Nothing more can be journaled: the run ends here, the LBs as they
      // are, for `lbctl resume` or `lbctl abort` once the lease ran out.
      lose_lock("interrupted while the state database was out of reach");
      break;
    }
    // Attempts go out without being waited for: an interrupt is seen within
    // 100 ms even while one hangs on a database that does not answer.
    start_reconnect();
    if (!m_db_lost_at) break;
    const auto due = std::chrono::duration_cast<std::chrono::milliseconds>(m_db_next_try - m_clock.now());
    co_await m_clock.sleep_for(m_reconnecting ? 10ms : std::clamp<std::chrono::milliseconds>(due, 10ms, 100ms));
  }
  if (m_lost_lock) co_return fail(ErrorKind::conflict, m_lost_lock_reason);
  co_return Result<void>{};
}

// Built outside the coroutine: GCC 12 mishandles a lambda's init-captures
// inside a coroutine body (a string freed twice, seen under ASan).
std::function<JournalSession::Saved()> JournalSession::save_attempt(std::string progress_json) {
  m_row.progress_json = std::move(progress_json);
  return [row = m_row, version = m_lane_version, &journal = m_journal]() mutable {
    row.version = *version;
    auto result = journal.save(row);
    if (result) *version = row.version;
    return Saved{result, row};
  };
}

asio::awaitable<Result<void>> JournalSession::save(ProgressWriter progress) {
  co_return co_await through_outage([this, &progress]() -> asio::awaitable<Result<void>> {
    const auto sent = m_clock.now();
    auto saved = co_await off_loop<Saved>(m_lane, save_attempt(progress()));
    if (saved.first) {
      // A save renews the lease too.
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

asio::awaitable<Result<void>> JournalSession::through_outage(std::function<asio::awaitable<Result<void>>()> write) {
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

void JournalSession::poll() { poll(false); }

std::shared_ptr<bool> JournalSession::keep_polling(const asio::any_io_executor& executor) {
  auto token = std::make_shared<bool>(true);
  asio::co_spawn(executor, poll_while(m_clock, token, m_alive), asio::detached);
  return token;
}

// Starts later than it is made: `this` only once `alive` says the session is still there.
asio::awaitable<void> JournalSession::poll_while(Clock& clock, std::weak_ptr<bool> token, std::weak_ptr<bool> alive) {
  for (;;) {
    co_await clock.sleep_for(500ms);
    // Dropped with the wait it kept company, or the session is gone: done.
    if (token.expired() || alive.expired()) co_return;
    poll();
  }
}

void JournalSession::poll(bool now_please) {
  if (m_lost_lock) return;
  const auto now = m_clock.now();
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
      m_lane,
      [&journal = m_journal, id = m_row.id, lost]() {
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
