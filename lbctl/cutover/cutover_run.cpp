#include "lbctl/cutover/cutover_run.hpp"

#include <fmt/format.h>
#include <unordered_map>

#include "lbctl/cutover/lb_view.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

CutoverRun::CutoverRun(CutoverDeps deps, CutoverOptions options, db::Cutover row, CutoverProgress progress)
    : m_deps(std::move(deps)), m_options(options), m_row(std::move(row)), m_progress(std::move(progress)) {
  // Validated when the config was loaded; a default for configs built in code.
  std::string problem;
  if (auto parsed = pools::parse_server_options(config().new_pool.server_options, &problem)) m_server_options = *parsed;
}

std::int64_t CutoverRun::wall_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(m_deps.clock.wall_now().time_since_epoch()).count();
}

void CutoverRun::emit(Step step, EventKind kind, std::string text, nlohmann::json details, bool journal) {
  Event e;
  e.time = m_deps.clock.wall_now();
  e.cutover_id = m_row.id;
  e.step = std::string(to_string(step));
  e.kind = kind;
  e.text = std::move(text);
  e.details = std::move(details);
  e.journal = journal;
  if (journal && m_row.id != 0 && !m_lost_lock) {
    nlohmann::json stored = e.details;
    stored["text"] = e.text;
    (void)m_deps.journal.add_event(m_row.id, e.step, e.name(), stored.dump());
  }
  m_deps.events.emit(e);
}

Result<void> CutoverRun::save() {
  if (m_lost_lock) return fail(ErrorKind::conflict, "lost the service lock");
  m_row.progress_json = write_progress(m_progress);
  return m_deps.journal.save(m_row);
}

Result<void> CutoverRun::enter(Step step) {
  m_row.step = std::string(to_string(step));
  if (auto saved = save(); !saved) return saved;
  emit(step, EventKind::step_started, fmt::format("{} started", to_string(step)));
  return {};
}

Result<void> CutoverRun::finish(db::CutoverStatus status, const std::string& error) {
  m_row.status = status;
  m_row.error = error;
  return save();
}

void CutoverRun::record_servers(db::Pool pool, const std::string& state) {
  std::vector<db::ServerRecord> records;
  const auto& servers = pool == db::Pool::old_pool ? m_progress.old_pool : m_progress.new_pool;
  for (const auto& s : servers) {
    std::optional<int> id;
    if (pool == db::Pool::new_pool) id = static_cast<int>(s.id);
    records.push_back({pool, s.name, s.address, state, id, {}});
  }
  (void)m_deps.journal.save_servers(m_row.id, records);
}

void CutoverRun::emit_commands(Step step, const std::vector<pools::Applied>& per_lb) {
  for (std::size_t i = 0; i < per_lb.size(); ++i) {
    const auto& commands = per_lb[i].commands;
    if (commands.empty()) continue;
    const std::string lb = m_deps.fleet.at(i).name();
    const std::string text =
        commands.size() <= 4
            ? fmt::format("{}", fmt::join(commands, "; "))
            : fmt::format("{} commands: {}; ...; {}", commands.size(), commands.front(), commands.back());
    emit(step, EventKind::haproxy, fmt::format("{}: {}", lb, text), {{"lb", lb}, {"commands", commands}});
  }
}

void CutoverRun::emit_lb_view(Step step, const std::vector<std::vector<pools::ServerStat>>& stats) {
  std::unordered_map<std::string, std::string> pool_of;
  for (const auto& s : m_progress.old_pool) pool_of[s.name] = "old";
  for (const auto& s : m_progress.new_pool) pool_of[s.name] = "new";
  std::vector<LbView> views;
  for (std::size_t i = 0; i < stats.size(); ++i) views.push_back(lb_view(m_deps.fleet.at(i).name(), stats[i], pool_of));
  emit(step, EventKind::lb_view, "load balancers", {{"load_balancers", views}}, false);
}

bool CutoverRun::stop_requested() {
  if (m_abort_seen || m_lost_lock) return true;
  const auto now = m_deps.clock.now();
  // The journal is asked at most every 100 ms, however often steps poll.
  if (m_last_poll && now - *m_last_poll < 100ms) return false;
  m_last_poll = now;
  if (auto beat = m_deps.journal.heartbeat(m_row.id); !beat && beat.error().kind == ErrorKind::conflict) {
    m_lost_lock = true;
    return true;
  }
  if (auto asked = m_deps.journal.abort_requested(m_row.id); asked && *asked) m_abort_seen = true;
  return m_abort_seen;
}

void CutoverRun::be_patient() {
  for (std::size_t i = 0; i < m_deps.fleet.size() && i < config().load_balancers.size(); ++i) {
    m_deps.fleet.at(i).set_patience(config().load_balancers[i].unreachable_timeout);
  }
}

void CutoverRun::mark_reloads() {
  m_reloads_mark.clear();
  for (const auto& lb : m_deps.fleet.lbs()) m_reloads_mark.push_back(lb->reloads_seen());
  m_reload_interrupted = false;
}

std::vector<std::string> CutoverRun::reloaded_since_mark() const {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < m_reloads_mark.size() && i < m_deps.fleet.size(); ++i) {
    if (m_deps.fleet.lbs()[i]->reloads_seen() != m_reloads_mark[i]) names.push_back(m_deps.fleet.lbs()[i]->name());
  }
  return names;
}

Result<void> CutoverRun::noticed_reload() {
  if (m_reloads_mark.empty()) return {};
  const auto reloaded = reloaded_since_mark();
  if (reloaded.empty()) return {};
  m_reload_interrupted = true;
  return fail(ErrorKind::cancelled, fmt::format("{} reloaded", fmt::join(reloaded, ", ")));
}

asio::awaitable<Result<std::vector<std::string>>> CutoverRun::look_for_reloads() {
  auto seen = co_await m_deps.fleet.all<pools::LbIdentity>([](pools::LoadBalancer& lb) { return lb.identity(); });
  if (!seen) co_return std::unexpected(seen.error());
  co_return reloaded_since_mark();
}

asio::awaitable<Result<std::vector<std::vector<pools::ServerStat>>>> CutoverRun::fleet_stats(Step step) {
  auto stats = co_await m_deps.fleet.all<std::vector<pools::ServerStat>>([](pools::LoadBalancer& lb) { return lb.stats(); });
  if (!stats) co_return stats;
  if (m_deps.events.wants_views()) emit_lb_view(step, *stats);
  if (auto reload = noticed_reload(); !reload) co_return std::unexpected(reload.error());
  co_return stats;
}

std::vector<std::vector<std::string>> CutoverRun::on_every_lb(const std::vector<std::string>& names) const {
  return std::vector<std::vector<std::string>>(m_deps.fleet.size(), names);
}

asio::awaitable<Result<void>> CutoverRun::wait_fleet(std::vector<std::vector<std::string>> names_per_lb,
                                                      pools::StatPredicate done, std::string what,
                                                      std::chrono::milliseconds timeout, std::chrono::milliseconds poll,
                                                      Step step, bool abortable) {
  pools::FleetWait wait{std::move(names_per_lb), std::move(done), what, timeout, poll, {}};
  wait.on_read = [this, step, abortable, what](const std::vector<std::vector<pools::ServerStat>>& stats) -> Result<void> {
    if (m_deps.events.wants_views()) emit_lb_view(step, stats);
    if (auto reload = noticed_reload(); !reload) return reload;
    if (abortable && stop_requested()) return fail(ErrorKind::cancelled, fmt::format("stopped while waiting for {}", what));
    return {};
  };
  co_return co_await m_deps.fleet.wait_until(std::move(wait), m_deps.clock);
}

asio::awaitable<Result<void>> CutoverRun::sleep_watching_reloads(std::chrono::milliseconds duration,
                                                                 std::chrono::milliseconds poll) {
  const auto end = m_deps.clock.now() + duration;
  while (m_deps.clock.now() < end) {
    co_await m_deps.clock.sleep_for(
        std::min(poll, std::chrono::duration_cast<std::chrono::milliseconds>(end - m_deps.clock.now())));
    auto reloaded = co_await look_for_reloads();
    if (!reloaded) co_return std::unexpected(reloaded.error());
    if (auto reload = noticed_reload(); !reload) co_return reload;
  }
  co_return Result<void>{};
}

}  // namespace lbctl
