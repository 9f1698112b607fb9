#include "lbctl/cutover/reconcile.hpp"

#include <fmt/format.h>
#include <map>
#include <set>

#include "lbctl/cutover/maintenance.hpp"
#include "pools/backend_file.hpp"
#include "pools/server.hpp"
#include "pools/server_options.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::vector<std::string> reconcile_actions(const LbLook& look, bool persisted) {
  std::vector<std::string> actions;
  for (const auto& d : look.drift) {
    if (d.kind == "missing") actions.push_back(fmt::format("add {} at {} and make it {}", d.server, d.recorded, "as recorded"));
    else if (d.kind == "extra") actions.push_back(fmt::format("take {} out (MAINT) and delete it", d.server));
    else if (d.kind == "address") actions.push_back(fmt::format("set {}'s address back to {}", d.server, d.recorded));
    else if (d.kind == "state") actions.push_back(fmt::format("set {} state {}", d.server, d.recorded));
    else if (d.kind == "weight") actions.push_back(fmt::format("set {}'s weight back to {}", d.server, d.recorded));
  }
  const bool file_drift = std::any_of(look.drift.begin(), look.drift.end(), [](const Drift& d) { return d.kind == "file"; });
  if (persisted && (file_drift || !actions.empty())) actions.push_back("rewrite the persisted file to match");
  return actions;
}

asio::awaitable<std::optional<RecordedBackend>> target_of(const LbLook& look, pools::LoadBalancer& lb,
                                                          const Config& config) {
  if (look.recorded) co_return look.recorded;
  auto* file = lb.persisted_file();
  if (file == nullptr) co_return std::nullopt;
  auto backend = co_await file->inspect();
  if (!backend) co_return std::nullopt;
  RecordedBackend from_file;
  for (const auto& line : backend->servers) {
    RecordedServer server;
    server.name = line.name;
    server.address = line.address;
    server.id = line.id.value_or(0);
    server.admin = line.disabled ? "maint" : "ready";
    server.weight = line.effective_weight();
    server.options = config.new_pool.server_options;
    from_file.servers.push_back(std::move(server));
  }
  co_return from_file;
}

namespace {

// Missing servers back in the safe order: in MAINT with checks, HAProxy's
// check passed, then (below) their recorded state.
asio::awaitable<Result<void>> add_missing(pools::LoadBalancer& lb, std::vector<RecordedServer> missing,
                                          const Config& config) {
  std::map<std::string, std::vector<pools::NewServer>> by_options;
  std::vector<std::string> names;
  for (const auto& s : missing) {
    if (!pools::parse_address(s.address) || s.id == 0) {
      co_return fail(ErrorKind::invalid,
                     fmt::format("{}: cannot add {} back: its recorded address '{}' or id {} is not usable", lb.name(),
                                 s.name, s.address, s.id));
    }
    // A line lbctl wrote for a server with a cookie says `... cookie VALUE`.
    const auto line = pools::split_line_cookie(s.options.empty() ? config.new_pool.server_options : s.options);
    by_options[line.options].push_back({s.name, s.address, s.id, line.cookie});
    names.push_back(s.name);
  }
  for (const auto& [text, servers] : by_options) {
    std::string problem;
    auto options = pools::parse_server_options(text, &problem);
    if (!options) co_return fail(ErrorKind::invalid, fmt::format("{}: options '{}': {}", lb.name(), text, problem));
    if (auto added = co_await lb.ensure_added(servers, *options); !added) co_return std::unexpected(added.error());
  }
  if (auto checks = co_await lb.ensure_health_enabled(names); !checks) co_return std::unexpected(checks.error());
  // Servers added back without a cookie of their own get the backend's
  // dynamic ones (as attach gave them), before they take a request. A
  // backend without dynamic cookies (invalid) leaves them without one, as a
  // server added at runtime always was there.
  std::vector<std::string> cookieless;
  for (const auto& [text, servers] : by_options) {
    for (const auto& s : servers) {
      if (s.cookie.empty()) cookieless.push_back(s.name);
    }
  }
  if (!cookieless.empty()) {
    auto cookies = co_await lb.ensure_dynamic_cookies(cookieless);
    if (!cookies && cookies.error().kind != ErrorKind::invalid) co_return std::unexpected(cookies.error());
  }
  auto passed = co_await lb.wait_until(
      names, [](const pools::ServerStat& s) { return s.check_passed(); }, "passing HAProxy's check (L7OK)",
      config.health.deadline, 250ms);
  if (!passed) co_return std::unexpected(passed.error());
  co_return Result<void>{};
}

}  // namespace

asio::awaitable<Result<void>> reconcile_lb(pools::LoadBalancer& lb, RecordedBackend target, pools::BackendState live,
                                           const Config& config) {
  std::vector<RecordedServer> missing;
  std::set<std::string> wanted;
  std::vector<std::pair<std::string, pools::AdminTarget>> states;
  std::vector<std::pair<std::string, unsigned>> weights;
  std::vector<std::pair<std::string, std::string>> addresses;
  for (const auto& s : target.servers) {
    wanted.insert(s.name);
    if (live.stat(s.name) == nullptr) missing.push_back(s);
    else addresses.emplace_back(s.name, s.address);
    states.emplace_back(s.name, admin_target(s.admin));
    weights.emplace_back(s.name, s.weight);
  }
  if (!missing.empty()) {
    if (auto added = co_await add_missing(lb, missing, config); !added) co_return added;
  }
  if (auto moved = co_await lb.ensure_addresses(addresses); !moved) co_return std::unexpected(moved.error());
  if (auto set = co_await lb.ensure_weight(weights); !set) co_return std::unexpected(set.error());
  if (auto set = co_await lb.ensure_states(states); !set) co_return std::unexpected(set.error());
  std::vector<std::string> ready;
  for (const auto& s : target.servers) {
    if (s.admin == "ready") ready.push_back(s.name);
  }
  // Capacity first: what must serve is UP before anything is taken away.
  auto up = co_await lb.wait_until(
      ready, [](const pools::ServerStat& s) { return s.is_fully_up(); }, "UP", config.health.deadline, 250ms);
  if (!up) co_return std::unexpected(up.error());
  std::vector<std::string> extra;
  for (const auto& s : live.stats) {
    if (!wanted.contains(s.name)) extra.push_back(s.name);
  }
  if (!extra.empty()) {
    auto deleted = co_await lb.ensure_deleted(extra, 60s, 500ms);
    if (!deleted) co_return std::unexpected(deleted.error());
  }
  if (auto* file = lb.persisted_file()) {
    if (auto persisted = co_await lb.ensure_persisted(); !persisted) co_return std::unexpected(persisted.error());
    if (config.maintenance && file->maps_too()) {
      // The page follows the file, which lbctl wrote last.
      const auto& map = config.maintenance->map;
      auto in_file = co_await file->map_value(map, k_maintenance_key);
      if (!in_file) co_return std::unexpected(in_file.error());
      // No ?: around co_await: GCC 12 frees such temporaries twice.
      Result<pools::Applied> fixed;
      if (*in_file) fixed = co_await lb.ensure_map_value(map, k_maintenance_key, **in_file);
      else fixed = co_await lb.ensure_map_key_absent(map, k_maintenance_key);
      if (!fixed) co_return std::unexpected(fixed.error());
    }
  }
  co_return Result<void>{};
}

}  // namespace lbctl
