// Steps 5-6: verify the new servers directly (HTTP and database checks)
// while every LB already adds them in MAINT and runs its own checks; then,
// once both agree, make them ready and wait until every LB has them UP.

#include <fmt/format.h>

#include "core/async.hpp"
#include "health/verify.hpp"
#include "lbctl/health_setup.hpp"
#include "lbctl/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// How often to poll HAProxy while waiting on its checks: a quarter of the
// check interval, kept between 50 ms and 500 ms.
std::chrono::milliseconds check_poll(const CutoverRun& run) {
  const auto inter = std::chrono::milliseconds(run.server_options.inter_ms.value_or(2000));
  return std::clamp(inter / 4, std::chrono::milliseconds(50), std::chrono::milliseconds(500));
}

std::vector<pools::NewServer> as_new_servers(const CutoverRun& run) {
  std::vector<pools::NewServer> servers;
  for (const auto& s : run.new_servers) servers.push_back({s.name, s.address, s.id});
  return servers;
}

}  // namespace

asio::awaitable<Result<void>> prepare_on_fleet(CutoverRun& run, std::vector<pools::NewServer> servers, Step step) {
  std::vector<std::string> names;
  for (const auto& s : servers) names.push_back(s.name);
  const auto options = run.server_options;
  auto add_and_check = [servers, names, options](pools::LoadBalancer& lb) -> asio::awaitable<Result<pools::Applied>> {
    auto add = co_await lb.ensure_added(servers, options);
    if (!add) co_return add;
    auto health = co_await lb.ensure_health_enabled(names);
    if (!health) co_return health;
    add->commands.insert(add->commands.end(), health->commands.begin(), health->commands.end());
    co_return add;
  };
  auto added = co_await run.d.fleet.all<pools::Applied>(add_and_check);
  if (!added) co_return std::unexpected(added.error());
  run.emit_commands(step, *added);
  co_return Result<void>{};
}

asio::awaitable<Result<void>> step_verify(CutoverRun& run) {
  std::vector<health::Target> targets;
  for (const auto& s : run.new_pool()) targets.push_back({s.name, s.address});
  auto policy = to_check_policy(run.config().health);
  auto checks = [&]() -> asio::awaitable<Result<void>> {
    std::function<bool()> should_stop = [&run] { return run.stop_requested(); };
    auto verdicts = co_await health::verify(targets, policy, run.d.prober, run.d.clock, should_stop);
    std::string failures;
    for (const auto& v : verdicts) {
      run.emit(Step::verify, v.healthy ? "healthy" : "unhealthy",
               fmt::format("{} ({}): {}", v.name, v.address, v.reason),
               {{"server", v.name}, {"healthy", v.healthy}, {"reason", v.reason}, {"elapsed_ms", v.elapsed.count()}});
      if (!v.healthy) failures += fmt::format("{}{}: {}", failures.empty() ? "" : "; ", v.name, v.reason);
    }
    if (run.stop_requested()) co_return fail(ErrorKind::cancelled, "stopped during verification");
    if (!failures.empty()) co_return fail(ErrorKind::refused, "new servers failed their checks: " + failures);
    co_return Result<void>{};
  };
  // Adding the new servers in MAINT sends them no traffic, and lets HAProxy's
  // checks run while ours do.
  std::vector<asio::awaitable<Result<void>>> both;
  both.push_back(checks());
  both.push_back(prepare_on_fleet(run, as_new_servers(run), Step::verify));
  auto results = co_await when_all(std::move(both));
  for (auto& result : results) {
    if (!result) co_return result;
  }
  run.record_servers(db::Pool::new_pool, "verified");
  co_return Result<void>{};
}

asio::awaitable<Result<void>> attach_new_pool(CutoverRun& run, Step step) {
  const auto names = run.new_names();
  const auto poll = check_poll(run);
  const auto deadline = run.config().health.deadline;
  if (auto prepared = co_await prepare_on_fleet(run, as_new_servers(run), step); !prepared) co_return prepared;
  // HAProxy's own check must pass before traffic: leaving MAINT first sends
  // traffic at once ("UP 1/3").
  if (auto passed = co_await run.wait_fleet(
          names, [](const pools::ServerStat& s) { return s.check_passed(); }, "passing HAProxy's check (L7OK)",
          deadline, poll, step);
      !passed) {
    co_return passed;
  }
  auto make_ready = [names](pools::LoadBalancer& lb) { return lb.ensure_state(names, pools::AdminTarget::ready); };
  auto ready = co_await run.d.fleet.all<pools::Applied>(make_ready);
  if (!ready) co_return std::unexpected(ready.error());
  run.emit_commands(step, *ready);
  if (auto up = co_await run.wait_fleet(
          names, [](const pools::ServerStat& s) { return s.is_fully_up(); }, "UP on every load balancer", deadline,
          poll, step);
      !up) {
    co_return up;
  }
  co_return Result<void>{};
}

asio::awaitable<Result<void>> step_attach(CutoverRun& run) {
  if (auto attached = co_await attach_new_pool(run, Step::attach); !attached) co_return attached;
  run.record_servers(db::Pool::new_pool, "attached");
  run.emit(Step::attach, "attached",
           fmt::format("{} new servers UP on all {} load balancers", run.new_servers.size(), run.d.fleet.size()));
  co_return Result<void>{};
}

}  // namespace lbctl
