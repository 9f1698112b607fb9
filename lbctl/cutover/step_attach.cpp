// attach: the new servers into rotation on every LB, in HAProxy's safe order:
// added in MAINT with their checks running, HAProxy's own check passed, then
// ready, then UP everywhere. Leaving MAINT before the first check sends
// traffic at once ("UP 1/3").

#include <fmt/format.h>
#include <unordered_map>

#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;

asio::awaitable<Result<void>> prepare_on_fleet(CutoverRun& run, std::vector<pools::NewServer> servers, Step step) {
  std::vector<std::string> names;
  for (const auto& s : servers) names.push_back(s.name);
  const auto options = run.server_options();
  // Without a cookie rule (an LB before HAProxy 3.0 in the fleet), a backend
  // with a persistence cookie gives new servers dynamic cookies (preflight
  // made sure it can), before they take a request.
  const bool dynamic_cookies = run.cookie_rule().empty();
  auto add_and_check = [servers, names, options,
                        dynamic_cookies](pools::LoadBalancer& lb) -> asio::awaitable<Result<pools::Applied>> {
    auto add = co_await lb.ensure_added(servers, options);
    if (!add) co_return add;
    auto health = co_await lb.ensure_health_enabled(names);
    if (!health) co_return health;
    add->commands.insert(add->commands.end(), health->commands.begin(), health->commands.end());
    if (!dynamic_cookies) co_return add;
    auto cookies = co_await lb.ensure_dynamic_cookies(names);
    if (!cookies) co_return cookies;
    add->commands.insert(add->commands.end(), cookies->commands.begin(), cookies->commands.end());
    co_return add;
  };
  auto added = co_await run.fleet().all<pools::Applied>(add_and_check);
  if (!added) co_return std::unexpected(added.error());
  run.emit_commands(step, *added);
  co_return Result<void>{};
}

namespace {

// Dynamic cookies derive from the LB's key and the server's address: a new
// server with another cookie on each LB means the keys differ, and a user's
// cookie would name another server (or none) on the next LB.
asio::awaitable<Result<void>> same_cookie_on_every_lb(CutoverRun& run, Step step) {
  auto stats = co_await run.fleet_stats(step);
  if (!stats) co_return std::unexpected(stats.error());
  const auto names = run.new_names();
  std::unordered_map<std::string, std::pair<std::string, std::string>> first;  // server -> (cookie, lb)
  for (std::size_t i = 0; i < stats->size(); ++i) {
    const auto by_name = pools::index_by_name((*stats)[i]);
    for (const auto& name : names) {
      const auto it = by_name.find(name);
      if (it == by_name.end() || it->second->cookie.empty()) continue;
      const auto& lb = run.fleet().at(i).name();
      const auto [seen, fresh] = first.try_emplace(name, it->second->cookie, lb);
      if (fresh || seen->second.first == it->second->cookie) continue;
      co_return fail(ErrorKind::invalid,
                     fmt::format("{} got the cookie {} on {} and {} on {}: their `dynamic-cookie-key`s differ, so a "
                                 "user's cookie would name another server (or none) on the next LB; give every LB the "
                                 "same key",
                                 name, seen->second.first, seen->second.second, it->second->cookie, lb));
    }
  }
  co_return Result<void>{};
}

}  // namespace

asio::awaitable<Result<void>> attach_new_pool(CutoverRun& run, Step step) {
  const auto names = run.new_names();
  const auto poll = pools::check_poll(run.server_options().inter());
  const auto deadline = run.config().health.deadline;
  const auto servers = run.new_servers();
  if (auto prepared = co_await prepare_on_fleet(run, servers, step); !prepared) co_return prepared;
  if (run.cookie_rule().empty()) {
    if (auto same = co_await same_cookie_on_every_lb(run, step); !same) co_return same;
  }
  if (auto passed = co_await run.wait_fleet(
          run.on_every_lb(names), [](const pools::ServerStat& s) { return s.check_passed(); },
          "passing HAProxy's check (L7OK)", deadline, poll, step);
      !passed) {
    co_return passed;
  }
  auto make_ready = [names](pools::LoadBalancer& lb) { return lb.ensure_state(names, pools::AdminTarget::ready); };
  auto ready = co_await run.fleet().all<pools::Applied>(make_ready);
  if (!ready) co_return std::unexpected(ready.error());
  run.emit_commands(step, *ready);
  co_return co_await run.wait_fleet(
      run.on_every_lb(names), [](const pools::ServerStat& s) { return s.is_fully_up(); }, "UP on every load balancer",
      deadline, poll, step);
}

asio::awaitable<Result<void>> step_attach(CutoverRun& run) {
  if (auto attached = co_await attach_new_pool(run, Step::attach); !attached) co_return attached;
  run.record_servers(db::Pool::new_pool, "attached");
  run.emit(Step::attach, EventKind::attached,
           fmt::format("{} new servers UP on all {} load balancers", run.progress().new_pool.size(),
                       run.fleet().size()));
  co_return Result<void>{};
}

}  // namespace lbctl
