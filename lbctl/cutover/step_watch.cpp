// watch: the old servers' sessions, read on every LB (and in the workers a
// reload left behind) every drain.poll, until none is left and, with
// drain.idle, no session went to any of them for that long (HAProxy's
// `lastsess`) and no stick-table entry points at one: a user with a
// persistence cookie comes back between two connections; at drain.timeout,
// roll back (on_timeout: abort) or cut them (force), counting the sticky
// users still active.

#include <fmt/format.h>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "lbctl/cutover/drain_progress.hpp"
#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<Result<std::vector<SessionMap>>> sessions_in_old_workers(CutoverRun& run, std::vector<std::string> names) {
  auto read = [names](pools::LoadBalancer& lb) { return lb.old_worker_sessions(names); };
  co_return co_await run.fleet().all<SessionMap>(read);
}

namespace {

// What a look at the old servers finds: their sessions (on every LB, and in
// the workers a reload left behind), and, with drain.idle, the ones sticky
// users still come to.
struct DrainLook {
  std::vector<SessionCount> sessions;
  std::vector<StickyUse> sticky;
};

// The sessions each old server took lately, from `stot` read at each look:
// how many in the last drain.idle.
class RecentSessions {
 public:
  explicit RecentSessions(std::chrono::milliseconds window) : m_window(window) {}
  std::uint64_t add(const std::string& key, Clock::TimePoint at, std::uint64_t stot) {
    auto& samples = m_samples[key];
    samples.emplace_back(at, stot);
    while (samples.size() > 1 && samples[1].first <= at - m_window) samples.pop_front();
    return stot >= samples.front().second ? stot - samples.front().second : 0;
  }

 private:
  std::chrono::milliseconds m_window;
  std::unordered_map<std::string, std::deque<std::pair<Clock::TimePoint, std::uint64_t>>> m_samples;
};

// With drain.idle: the live stick-table entries on each LB, per server id
// (empty maps without it).
asio::awaitable<Result<std::vector<pools::StickEntries>>> stick_entries(CutoverRun& run) {
  if (run.config().drain.idle.count() == 0) co_return std::vector<pools::StickEntries>(run.fleet().size());
  auto read = [](pools::LoadBalancer& lb) { return lb.stick_entries(); };
  co_return co_await run.fleet().all<pools::StickEntries>(read);
}

StickyUse sticky_use(const std::string& lb, const pools::ServerStat& s, std::uint64_t recent, std::uint64_t entries) {
  StickyUse use;
  use.lb = lb;
  use.server = s.name;
  use.last_session_s = s.last_session_s;
  use.recent_sessions = recent;
  use.stick_entries = entries;
  return use;
}

// `final`: the look at drain.timeout, which counts every sticky user.
asio::awaitable<Result<DrainLook>> look_at_old_servers(CutoverRun& run, RecentSessions& recent, bool final) {
  const auto names = run.old_names();
  const std::unordered_set<std::string> old(names.begin(), names.end());
  auto stats = co_await run.fleet_stats(Step::watch);
  if (!stats) co_return std::unexpected(stats.error());
  // Stick tables are read whole: only once no old server has a session left
  // (before that the drain cannot end anyway), or for the final count.
  bool sessions_left = false;
  for (const auto& lb : *stats) {
    for (const auto& s : lb) sessions_left = sessions_left || (old.contains(s.name) && s.sessions() > 0);
  }
  Result<std::vector<pools::StickEntries>> entries = std::vector<pools::StickEntries>(run.fleet().size());
  if (!sessions_left || final) entries = co_await stick_entries(run);
  if (!entries) co_return std::unexpected(entries.error());
  const auto idle_s = std::chrono::duration_cast<std::chrono::seconds>(run.config().drain.idle).count();
  const auto now = run.clock().now();
  DrainLook look;
  for (std::size_t i = 0; i < stats->size(); ++i) {
    const auto& lb = run.fleet().at(i).name();
    for (const auto& s : (*stats)[i]) {
      if (!old.contains(s.name)) continue;
      if (s.sessions() > 0) look.sessions.push_back({lb, s.name, s.scur, s.qcur});
      if (idle_s == 0) continue;
      const auto recent_sessions = recent.add(lb + "/" + s.name, now, s.stot);
      std::uint64_t stuck = 0;
      if (i < entries->size()) {
        if (const auto entry = (*entries)[i].find(s.id); entry != (*entries)[i].end()) stuck = entry->second;
      }
      // HAProxy's lastsess is the difference of two whole-second clock
      // readings: N means more than N-1 seconds. Only a count above idle
      // proves drain.idle has passed (up to a second more).
      const bool lately = s.last_session_s >= 0 && s.last_session_s <= idle_s;
      if (lately || stuck > 0) look.sticky.push_back(sticky_use(lb, s, recent_sessions, stuck));
    }
  }
  // A reload's old worker keeps its sessions, and the new worker does not
  // count them: they end on the old servers too.
  auto behind = co_await sessions_in_old_workers(run, names);
  if (!behind) co_return std::unexpected(behind.error());
  for (std::size_t i = 0; i < behind->size(); ++i) {
    for (const auto& [server, count] : (*behind)[i]) {
      look.sessions.push_back({run.fleet().at(i).name() + " (old worker)", server, count, 0});
    }
  }
  co_return look;
}

std::uint64_t total(const std::vector<SessionCount>& counts) {
  std::uint64_t sum = 0;
  for (const auto& c : counts) sum += c.scur + c.qcur;
  return sum;
}

// " (old-1 on lb1: 3, ...)"; "" when none.
std::string where(const std::vector<SessionCount>& counts) {
  if (counts.empty()) return "";
  std::vector<std::string> parts;
  for (const auto& c : counts) parts.push_back(fmt::format("{} on {}: {}", c.server, c.lb, c.scur + c.qcur));
  return fmt::format(" ({})", fmt::join(parts, ", "));
}

// "old-1 on lb1 (last session 1s ago, 4 sessions in the last 3s, 2 stick-table entries)".
std::string where(const std::vector<StickyUse>& sticky, Duration idle) {
  std::vector<std::string> parts;
  for (const auto& u : sticky) {
    std::string part = fmt::format("{} on {} (", u.server, u.lb);
    if (u.last_session_s >= 0) part += fmt::format("last session {}s ago, ", u.last_session_s);
    part += fmt::format("{} sessions in the last {}", u.recent_sessions, format_duration(idle));
    if (u.stick_entries > 0) part += fmt::format(", {} stick-table entries", u.stick_entries);
    parts.push_back(part + ")");
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

// "; 2 old servers still used by sticky users: ..." ("" when none).
std::string sticky_text(const std::vector<StickyUse>& sticky, Duration idle, std::string_view verb) {
  if (sticky.empty()) return "";
  std::unordered_set<std::string> servers;  // one server seen on two LBs counts once
  for (const auto& use : sticky) servers.insert(use.server);
  return fmt::format("; {} old server{} {} sticky users: {}", servers.size(), servers.size() == 1 ? "" : "s", verb,
                     where(sticky, idle));
}

// At drain.timeout with on_timeout: force.
asio::awaitable<Result<void>> cut_sessions(CutoverRun& run, DrainLook look) {
  const auto& counts = look.sessions;
  const auto names = run.old_names();
  auto shut_down = [names](pools::LoadBalancer& lb) { return lb.shutdown_sessions(names); };
  auto cut = co_await run.fleet().all<pools::Applied>(shut_down);
  if (!cut) co_return std::unexpected(cut.error());
  run.emit_commands(Step::watch, *cut);
  run.progress().cut_sessions = counts;
  run.progress().sticky_at_timeout = look.sticky;
  if (auto saved = co_await run.save(); !saved) co_return saved;
  const auto& drain = run.config().drain;
  nlohmann::json details = {{"sessions", total(counts)}, {"servers", counts}};
  if (drain.idle.count() > 0) details["sticky"] = look.sticky;
  run.emit(Step::watch, EventKind::sessions_cut,
           fmt::format("drain.timeout {} passed: cut {} sessions{}{}", format_duration(drain.timeout), total(counts),
                       where(counts), sticky_text(look.sticky, drain.idle, "still had active")),
           details);
  co_return Result<void>{};
}

}  // namespace

asio::awaitable<Result<void>> step_watch(CutoverRun& run) {
  const auto& drain = run.config().drain;
  if (run.progress().watch_started_ms == 0) {
    run.progress().watch_started_ms = run.wall_ms();
    if (auto saved = co_await run.save(); !saved) co_return saved;
  }
  const std::int64_t deadline_ms = run.progress().watch_started_ms + drain.timeout.count();
  DrainProgress progress;
  RecentSessions recent(drain.idle);
  std::optional<Clock::TimePoint> last_journaled;
  for (;;) {
    auto look = co_await look_at_old_servers(run, recent, run.wall_ms() >= deadline_ms);
    if (!look) co_return std::unexpected(look.error());
    const auto& counts = look->sessions;
    const std::uint64_t left = total(counts);
    const bool done = left == 0 && look->sticky.empty();
    progress.add(run.clock().now(), left);
    nlohmann::json details = progress.details();
    details["servers"] = counts;
    if (drain.idle.count() > 0) details["sticky"] = look->sticky;
    details["timeout_in_s"] = std::max<std::int64_t>(0, (deadline_ms - run.wall_ms()) / 1000);
    // Journaled every 5 s (and at the end) so `lbctl status` elsewhere can show a rate.
    const bool journal_it = !last_journaled || run.clock().now() - *last_journaled >= 5s || done;
    if (journal_it) last_journaled = run.clock().now();
    run.emit(Step::watch, EventKind::drain_progress,
             fmt::format("{} sessions left{}", left, sticky_text(look->sticky, drain.idle, "still used by")), details,
             journal_it);
    if (done) {
      run.record_servers(db::Pool::old_pool, "drained");
      run.emit(Step::watch, EventKind::drained,
               drain.idle.count() > 0
                   ? fmt::format("no sessions left on the old servers, and none for {} on any of them",
                                 format_duration(drain.idle))
                   : std::string("no sessions left on the old servers"));
      co_return Result<void>{};
    }
    run.poll_journal();
    if (run.abort_asked()) co_return fail(ErrorKind::cancelled, "stopped during the drain");
    if (run.wall_ms() >= deadline_ms) {
      if (drain.on_timeout == DrainConfig::OnTimeout::force) co_return co_await cut_sessions(run, std::move(*look));
      co_return fail(ErrorKind::timeout,
                     fmt::format("drain.timeout {} passed with {} sessions left{}{}", format_duration(drain.timeout),
                                 left, where(counts), sticky_text(look->sticky, drain.idle, "still had active")));
    }
    co_await run.clock().sleep_for(drain.poll);
  }
}

}  // namespace lbctl
