#include "lbctl/cutover/cutover_run.hpp"

#include <fmt/format.h>
#include <unordered_map>

#include "lbctl/cutover/lb_view.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

CutoverRun::CutoverRun(CutoverDeps deps, CutoverOptions options, db::Cutover row, CutoverProgress progress)
    : m_deps(std::move(deps)),
      m_provider(m_deps.provider, [this]() { return m_session.hold_lease(); }),
      m_options(options),
      m_session(m_deps.journal_on_lane(), m_deps.journal_lane, m_deps.clock,
                {m_deps.config.state_lease, m_deps.config.state_reconnect_timeout}, std::move(row),
                m_deps.interrupted,
                [this](EventKind kind, std::string text, nlohmann::json details) {
                  emit(current_step(), kind, std::move(text), std::move(details));
                }),
      m_progress(std::move(progress)),
      m_reloads(m_deps.fleet),
      m_liveness(m_deps.fleet, m_deps.clock) {
  // Validated when the config was loaded; a default for configs built in code.
  std::string problem;
  if (auto parsed = pools::parse_server_options(config().new_pool.server_options, &problem)) m_server_options = *parsed;
  m_deps.provider.set_release(m_session.row().release, m_session.row().old_release);
  m_deps.fleet.set_write_gate([this]() { return m_session.hold_lease(); });
}

CutoverRun::~CutoverRun() { m_deps.fleet.set_write_gate({}); }

asio::awaitable<Result<void>> CutoverRun::save() {
  co_return co_await m_session.save([this]() { return write_progress(m_progress); });
}

asio::awaitable<Result<void>> CutoverRun::enter(Step step, bool watch_new_pool) {
  m_session.row().step = std::string(to_string(step));
  m_watch_new_pool = watch_new_pool;
  if (auto saved = co_await save(); !saved) co_return saved;
  emit(step, EventKind::step_started, fmt::format("{} started", to_string(step)));
  co_return Result<void>{};
}

asio::awaitable<Result<void>> CutoverRun::finish(db::CutoverStatus status, const std::string& error) {
  m_session.row().status = status;
  m_session.row().error = error;
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
  m_session.write([id = id(), records = std::move(records)](db::Journal& j) { return j.save_servers(id, records); });
}

std::int64_t CutoverRun::wall_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(m_deps.clock.wall_now().time_since_epoch()).count();
}

void CutoverRun::emit(Step step, EventKind kind, std::string text, nlohmann::json details, bool journal) {
  Event e;
  e.time = m_deps.clock.wall_now();
  e.cutover_id = id();
  e.release = row().release;
  e.step = std::string(to_string(step));
  e.kind = kind;
  e.text = std::move(text);
  e.details = std::move(details);
  e.journal = journal;
  if (journal && id() != 0 && !m_session.lost_lock()) {
    nlohmann::json stored = e.details;
    stored["text"] = e.text;
    m_session.write([id = id(), step = e.step, kind = std::string(e.name()), json = stored.dump()](db::Journal& j) {
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

Result<void> CutoverRun::after_read(Step step, const std::vector<std::vector<pools::ServerStat>>& stats) {
  if (m_deps.events.wants_views()) emit_lb_view(step, stats);
  if (auto reload = m_reloads.notice(); !reload) return reload;
  if (!m_watch_new_pool) return {};
  return m_liveness.check(new_names(), stats, new_pool_patience());
}

asio::awaitable<Result<std::vector<std::vector<pools::ServerStat>>>> CutoverRun::fleet_stats(Step step) {
  auto stats = co_await m_deps.fleet.all<std::vector<pools::ServerStat>>([](pools::LoadBalancer& lb) { return lb.stats(); });
  if (!stats) co_return stats;
  if (auto checked = after_read(step, *stats); !checked) co_return std::unexpected(checked.error());
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
    if (auto checked = after_read(step, stats); !checked) return checked;
    // Every wait polls the journal; only an abortable one stops for an abort.
    poll_journal();
    if (abortable && abort_asked()) return fail(ErrorKind::cancelled, fmt::format("stopped while waiting for {}", what));
    return {};
  };
  co_return co_await m_deps.fleet.wait_until(std::move(wait), m_deps.clock);
}

asio::awaitable<Result<void>> CutoverRun::sleep_watching_reloads(std::chrono::milliseconds duration,
                                                                 std::chrono::milliseconds poll) {
  const auto end = m_deps.clock.now() + duration;
  while (m_deps.clock.now() < end) {
    poll_journal();
    co_await m_deps.clock.sleep_for(
        std::min(poll, std::chrono::duration_cast<std::chrono::milliseconds>(end - m_deps.clock.now())));
    if (auto reload = co_await m_reloads.look_and_notice(); !reload) co_return reload;
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
