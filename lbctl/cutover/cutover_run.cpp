#include "lbctl/cutover/cutover_run.hpp"

#include <fmt/format.h>
#include <unordered_map>

#include "lbctl/cutover/lb_view.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

CutoverRun::CutoverRun(CutoverDeps deps, CutoverOptions options, db::Cutover row, CutoverProgress progress)
    : m_deps(std::move(deps)),
      m_provider(m_deps.provider, [this]() { return hold_lease(); }),
      m_options(options),
      m_row(std::move(row)),
      m_progress(std::move(progress)) {
  // Validated when the config was loaded; a default for configs built in code.
  std::string problem;
  if (auto parsed = pools::parse_server_options(config().new_pool.server_options, &problem)) m_server_options = *parsed;
  m_lane_version = std::make_shared<std::int64_t>(m_row.version);
  m_deps.provider.set_release(m_row.release, m_row.old_release);
  // begin() or adopt() just wrote the heartbeat.
  m_lease_from = m_deps.clock.now();
  m_deps.fleet.set_write_gate([this]() { return hold_lease(); });
}

CutoverRun::~CutoverRun() { m_deps.fleet.set_write_gate({}); }

bool CutoverRun::lease_held() const {
  return !m_lost_lock && !m_db_lost_at && m_deps.clock.now() - m_lease_from < config().state_lease;
}

asio::awaitable<Result<void>> CutoverRun::hold_lease() {
  // Every batch beats too (at most every 100 ms): a detach retrying its
  // `del server` for a while keeps the lease fresh.
  beat();
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
    const auto since = m_deps.clock.now() - m_lease_from;
    if (since >= config().state_lease + config().state_reconnect_timeout) {
      m_lost_lock = true;
      m_lost_lock_reason = fmt::format("no heartbeat was confirmed for {} (state.lease {} + state.reconnect_timeout {})",
                                       format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(since)),
                                       format_duration(config().state_lease),
                                       format_duration(config().state_reconnect_timeout));
      continue;
    }
    beat(true);
    if (lease_held()) continue;
    co_await m_deps.clock.sleep_for(100ms);
  }
}

std::int64_t CutoverRun::wall_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(m_deps.clock.wall_now().time_since_epoch()).count();
}

void CutoverRun::emit(Step step, EventKind kind, std::string text, nlohmann::json details, bool journal) {
  Event e;
  e.time = m_deps.clock.wall_now();
  e.cutover_id = m_row.id;
  e.release = m_row.release;
  e.step = std::string(to_string(step));
  e.kind = kind;
  e.text = std::move(text);
  e.details = std::move(details);
  e.journal = journal;
  if (journal && m_row.id != 0 && !m_lost_lock) {
    nlohmann::json stored = e.details;
    stored["text"] = e.text;
    journal_write([id = m_row.id, step = e.step, kind = std::string(e.name()), json = stored.dump()](db::Journal& j) {
      auto added = j.add_event(id, step, kind, json);
      return added ? Result<void>{} : Result<void>(std::unexpected(added.error()));
    });
  }
  m_deps.events.emit(e);
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
  if (auto alive = new_pool_alive(step, *stats); !alive) co_return std::unexpected(alive.error());
  co_return stats;
}

std::chrono::milliseconds CutoverRun::new_pool_patience() const {
  const auto inter = m_server_options.inter();
  return inter * (m_server_options.rise_count() + m_server_options.fall_count()) * 2 + std::chrono::seconds(2);
}

Result<void> CutoverRun::new_pool_alive(Step step, const std::vector<std::vector<pools::ServerStat>>& stats) {
  if (step != Step::stages && step != Step::promote && step != Step::drain && step != Step::watch) return {};
  const auto now = m_deps.clock.now();
  const auto names = new_names();
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const auto by_name = pools::index_by_name(stats[i]);
    for (const auto& name : names) {
      const auto found = by_name.find(name);
      const pools::ServerStat* seen = found == by_name.end() ? nullptr : found->second;
      if (seen == nullptr || !seen->is_down()) {
        if (!m_new_down_since.empty()) m_new_down_since.erase({i, name});
        continue;
      }
      const std::pair<std::size_t, std::string> key{i, name};
      const auto since = m_new_down_since.try_emplace(key, now).first->second;
      if (now - since < new_pool_patience()) continue;
      return fail(ErrorKind::refused,
                  fmt::format("new server {} ({}) died after attach: {} on {} for {} (last check {})", name,
                              seen->address, seen->status, m_deps.fleet.at(i).name(),
                              format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(now - since)),
                              seen->check_status.empty() ? "none" : seen->check_status));
    }
  }
  return {};
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
    if (auto alive = new_pool_alive(step, stats); !alive) return alive;
    // Every wait beats; only an abortable one stops for an abort.
    beat();
    if (abortable && abort_asked()) return fail(ErrorKind::cancelled, fmt::format("stopped while waiting for {}", what));
    return {};
  };
  co_return co_await m_deps.fleet.wait_until(std::move(wait), m_deps.clock);
}

asio::awaitable<Result<void>> CutoverRun::sleep_watching_reloads(std::chrono::milliseconds duration,
                                                                 std::chrono::milliseconds poll) {
  const auto end = m_deps.clock.now() + duration;
  while (m_deps.clock.now() < end) {
    beat();
    co_await m_deps.clock.sleep_for(
        std::min(poll, std::chrono::duration_cast<std::chrono::milliseconds>(end - m_deps.clock.now())));
    auto reloaded = co_await look_for_reloads();
    if (!reloaded) co_return std::unexpected(reloaded.error());
    if (auto reload = noticed_reload(); !reload) co_return reload;
  }
  co_return Result<void>{};
}

std::vector<pools::NewServer> CutoverRun::new_servers() const {
  std::vector<pools::NewServer> servers;
  servers.reserve(m_progress.new_pool.size());
  const std::string& rule = cookie_rule();
  for (const auto& s : m_progress.new_pool) servers.push_back({s.name, s.address, s.id, cookie_of(rule, s.name)});
  return servers;
}

const std::string& CutoverRun::cookie_rule() const {
  static const std::string none;
  if (m_progress.cookie_rule == k_no_cookie_rule) return none;
  // Empty: a record from before preflight decided it.
  return m_progress.cookie_rule.empty() ? config().new_pool.cookie : m_progress.cookie_rule;
}

}  // namespace lbctl
