#include "lbctl/cutover_run.hpp"

#include <fmt/format.h>

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

Error step_error(ErrorKind kind, std::string message) { return Error{kind, std::move(message)}; }

CutoverRun::CutoverRun(CutoverDeps deps, CutoverOptions opts, db::Cutover r)
    : d(std::move(deps)), options(opts), row(std::move(r)) {
  std::string problem;
  if (auto parsed = pools::parse_server_options(d.config.new_pool.server_options, &problem)) server_options = *parsed;
}

std::vector<std::string> CutoverRun::old_names() const {
  std::vector<std::string> names;
  for (const auto& s : old_servers) names.push_back(s.name);
  return names;
}

std::vector<std::string> CutoverRun::new_names() const {
  std::vector<std::string> names;
  for (const auto& s : new_servers) names.push_back(s.name);
  return names;
}

std::vector<pools::Server> CutoverRun::new_pool() const {
  std::vector<pools::Server> servers;
  for (const auto& s : new_servers) {
    if (!s.address.empty()) servers.push_back({s.name, s.address});
  }
  return servers;
}

void CutoverRun::emit(Step step, std::string event, std::string text, nlohmann::json details, bool journal) {
  Event e;
  e.time = d.clock.wall_now();
  e.cutover_id = row.id;
  e.step = std::string(to_string(step));
  e.event = std::move(event);
  e.text = std::move(text);
  e.details = std::move(details);
  e.journal = journal;
  if (journal && row.id != 0 && !m_lost_lock) {
    nlohmann::json stored = e.details;
    stored["text"] = e.text;
    (void)d.journal.add_event(row.id, e.step, e.event, stored.dump());
  }
  d.events.emit(e);
}

Result<void> CutoverRun::save() {
  if (m_lost_lock) return fail(ErrorKind::conflict, "lost the service lock");
  row.progress_json = progress.dump();
  return d.journal.save(row);
}

Result<void> CutoverRun::enter(Step step) {
  row.step = std::string(to_string(step));
  if (auto saved = save(); !saved) return saved;
  emit(step, "step_started", fmt::format("{} started", to_string(step)));
  return {};
}

void CutoverRun::record_servers(db::Pool pool, const std::string& state) {
  std::vector<db::ServerRecord> records;
  if (pool == db::Pool::old_pool) {
    for (const auto& s : old_servers) records.push_back({pool, s.name, s.address, state, std::nullopt, {}});
  } else {
    for (const auto& s : new_servers) records.push_back({pool, s.name, s.address, state, static_cast<int>(s.id), {}});
  }
  (void)d.journal.save_servers(row.id, records);
}

void CutoverRun::store_servers_in_progress() {
  auto old_json = nlohmann::json::array();
  for (const auto& s : old_servers) old_json.push_back({{"name", s.name}, {"address", s.address}});
  auto new_json = nlohmann::json::array();
  for (const auto& s : new_servers) new_json.push_back({{"name", s.name}, {"address", s.address}, {"id", s.id}});
  progress["old"] = old_json;
  progress["new"] = new_json;
}

void CutoverRun::load_progress() {
  progress = nlohmann::json::parse(row.progress_json.empty() ? "{}" : row.progress_json, nullptr, false);
  if (!progress.is_object()) progress = nlohmann::json::object();
  old_servers.clear();
  new_servers.clear();
  for (const auto& s : progress.value("old", nlohmann::json::array())) {
    old_servers.push_back({s.value("name", ""), s.value("address", "")});
  }
  for (const auto& s : progress.value("new", nlohmann::json::array())) {
    new_servers.push_back({s.value("name", ""), s.value("address", ""), s.value("id", std::uint64_t{0})});
  }
}

bool CutoverRun::stop_requested() {
  if (m_abort_seen || m_lost_lock) return true;
  const auto now = d.clock.now();
  // The journal is asked at most every 100 ms, however often steps poll.
  if (m_last_poll && now - *m_last_poll < 100ms) return false;
  m_last_poll = now;
  if (auto beat = d.journal.heartbeat(row.id); !beat && beat.error().kind == ErrorKind::conflict) {
    m_lost_lock = true;
    return true;
  }
  if (auto asked = d.journal.abort_requested(row.id); asked && *asked) m_abort_seen = true;
  return m_abort_seen;
}

asio::awaitable<Result<std::vector<std::vector<pools::ServerStat>>>> CutoverRun::fleet_stats(Step step) {
  auto stats = co_await d.fleet.all<std::vector<pools::ServerStat>>([](pools::LoadBalancer& lb) { return lb.stats(); });
  if (stats && d.events.wants_views()) emit_lb_view(step, *stats);
  if (stats && !m_reloads_mark.empty()) {
    if (const auto reloaded = reloaded_since_mark(); !reloaded.empty()) {
      m_reload_interrupted = true;
      co_return fail(ErrorKind::cancelled, fmt::format("{} reloaded", fmt::join(reloaded, ", ")));
    }
  }
  co_return stats;
}

void CutoverRun::be_patient() {
  for (std::size_t i = 0; i < d.fleet.size() && i < config().load_balancers.size(); ++i) {
    d.fleet.at(i).set_patience(config().load_balancers[i].unreachable_timeout);
  }
}

void CutoverRun::mark_reloads() {
  m_reloads_mark.clear();
  for (const auto& lb : d.fleet.lbs()) m_reloads_mark.push_back(lb->reloads_seen());
  m_reload_interrupted = false;
}

std::vector<std::string> CutoverRun::reloaded_since_mark() const {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < m_reloads_mark.size() && i < d.fleet.size(); ++i) {
    if (d.fleet.lbs()[i]->reloads_seen() != m_reloads_mark[i]) names.push_back(d.fleet.lbs()[i]->name());
  }
  return names;
}

asio::awaitable<Result<void>> CutoverRun::sleep_watching_reloads(std::chrono::milliseconds duration,
                                                                 std::chrono::milliseconds poll) {
  const auto end = d.clock.now() + duration;
  while (d.clock.now() < end) {
    co_await d.clock.sleep_for(std::min(poll, std::chrono::duration_cast<std::chrono::milliseconds>(end - d.clock.now())));
    auto reloaded = co_await look_for_reloads();
    if (!reloaded) co_return std::unexpected(reloaded.error());
    if (!reloaded->empty()) {
      m_reload_interrupted = true;
      co_return fail(ErrorKind::cancelled, fmt::format("{} reloaded", fmt::join(*reloaded, ", ")));
    }
  }
  co_return Result<void>{};
}

asio::awaitable<Result<std::vector<std::string>>> CutoverRun::look_for_reloads() {
  auto seen = co_await d.fleet.all<pools::LbIdentity>([](pools::LoadBalancer& lb) { return lb.identity(); });
  if (!seen) co_return std::unexpected(seen.error());
  co_return reloaded_since_mark();
}

void CutoverRun::emit_commands(Step step, const std::vector<pools::Applied>& per_lb) {
  for (std::size_t i = 0; i < per_lb.size(); ++i) {
    const auto& commands = per_lb[i].commands;
    if (commands.empty()) continue;
    const std::string lb = d.fleet.at(i).name();
    std::string text;
    if (commands.size() <= 4) {
      for (const auto& c : commands) text += (text.empty() ? "" : "; ") + c;
    } else {
      text = fmt::format("{} commands: {}; ...; {}", commands.size(), commands.front(), commands.back());
    }
    emit(step, "haproxy", fmt::format("{}: {}", lb, text), {{"lb", lb}, {"commands", commands}});
  }
}

void CutoverRun::emit_lb_view(Step step, const std::vector<std::vector<pools::ServerStat>>& stats) {
  std::unordered_map<std::string, std::string> pool_of;
  for (const auto& s : old_servers) pool_of[s.name] = "old";
  for (const auto& s : new_servers) pool_of[s.name] = "new";
  auto lbs = nlohmann::json::array();
  for (std::size_t i = 0; i < stats.size(); ++i) {
    auto servers = nlohmann::json::array();
    for (const auto& s : stats[i]) {
      const auto pool = pool_of.find(s.name);
      servers.push_back({{"name", s.name},
                         {"pool", pool == pool_of.end() ? "other" : pool->second},
                         {"status", s.status},
                         {"sessions", s.sessions()},
                         {"check_status", s.check_status}});
    }
    lbs.push_back({{"name", d.fleet.at(i).name()}, {"servers", servers}});
  }
  emit(step, "lb_view", "load balancers", {{"load_balancers", lbs}}, false);
}

asio::awaitable<Result<void>> CutoverRun::wait_fleet(std::vector<std::string> names,
                                                      std::function<bool(const pools::ServerStat&)> done,
                                                      std::string what, std::chrono::milliseconds timeout,
                                                      std::chrono::milliseconds poll, Step step, bool abortable) {
  std::vector<std::vector<std::string>> per_lb(d.fleet.size(), names);
  co_return co_await wait_fleet_per_lb(std::move(per_lb), std::move(done), std::move(what), timeout, poll, step,
                                       abortable);
}

asio::awaitable<Result<void>> CutoverRun::wait_fleet_per_lb(std::vector<std::vector<std::string>> names_per_lb,
                                                             std::function<bool(const pools::ServerStat&)> done,
                                                             std::string what, std::chrono::milliseconds timeout,
                                                             std::chrono::milliseconds poll, Step step,
                                                             bool abortable) {
  const auto deadline = d.clock.now() + timeout;
  for (;;) {
    auto stats = co_await fleet_stats(step);
    if (!stats) co_return std::unexpected(stats.error());
    std::string missing;
    for (std::size_t i = 0; i < stats->size() && i < names_per_lb.size(); ++i) {
      std::string on_lb;
      const auto by_name = pools::index_by_name((*stats)[i]);
      for (const auto& name : names_per_lb[i]) {
        const auto it = by_name.find(name);
        if (it == by_name.end()) {
          on_lb += fmt::format("{}{} absent", on_lb.empty() ? "" : ", ", name);
        } else if (!done(*it->second)) {
          on_lb += fmt::format("{}{} {}{}{}", on_lb.empty() ? "" : ", ", name, it->second->status,
                               it->second->check_status.empty() ? "" : " check ", it->second->check_status);
        }
      }
      if (!on_lb.empty()) missing += fmt::format("{}{}: {}", missing.empty() ? "" : "; ", d.fleet.at(i).name(), on_lb);
    }
    if (missing.empty()) co_return Result<void>{};
    if (abortable && stop_requested()) co_return fail(ErrorKind::cancelled, fmt::format("stopped while waiting for {}", what));
    if (d.clock.now() >= deadline) {
      co_return fail(ErrorKind::timeout,
                     fmt::format("not {} after {}: {}", what, format_duration(timeout), missing));
    }
    co_await d.clock.sleep_for(poll);
  }
}

}  // namespace lbctl
