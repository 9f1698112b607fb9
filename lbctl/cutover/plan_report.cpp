#include "lbctl/cutover/plan_report.hpp"

#include <fmt/format.h>
#include <unordered_set>

#include "lbctl/cutover/maintenance.hpp"
#include "pools/backend_file.hpp"
#include "pools/commands.hpp"

namespace lbctl {

namespace asio = boost::asio;

std::uint64_t id_floor(db::Journal& journal, const std::string& service, std::int64_t exclude_cutover_id) {
  std::uint64_t floor = 1000;
  auto past = journal.history(service, 20);
  if (!past) return floor;
  for (const auto& cutover : *past) {
    if (cutover.id == exclude_cutover_id) continue;
    auto servers = journal.servers(cutover.id);
    if (!servers) continue;
    for (const auto& s : *servers) {
      if (s.haproxy_id) floor = std::max(floor, static_cast<std::uint64_t>(*s.haproxy_id) + 1);
    }
  }
  return floor;
}

namespace {

// Open stats-socket sessions (this one's included) past which plan warns.
constexpr std::size_t k_cli_sessions_crowded = 8;

// The rule new servers' cookies come from, for the whole fleet (a user's
// cookie must name the same server through every LB): new_pool.cookie; else,
// when a backend keeps users with a cookie, "{name}" if every LB runs
// HAProxy 3.0 or later (`cookie` on `add server`), or "" for dynamic cookies
// (an LB before 3.0 refuses `cookie` on `add server`).
constexpr std::string_view k_default_cookie_rule = "{name}";

std::string fleet_cookie_rule(const Config& config,
                              const std::vector<pools::PerLb<pools::LoadBalancer::Abilities>>& abilities) {
  if (!config.new_pool.cookie.empty()) return config.new_pool.cookie;
  bool any_cookie = false;
  bool all_3_0 = true;
  for (const auto& lb : abilities) {
    if (!lb.result) return "";
    any_cookie = any_cookie || !lb.result->cookie_name.empty();
    all_3_0 = all_3_0 && lb.result->version.known() && lb.result->version.at_least(3, 0);
  }
  return any_cookie && all_3_0 ? std::string(k_default_cookie_rule) : std::string();
}

// New servers' persistence cookies. With a rule (`rule`: new_pool.cookie, or
// the default "{name}"), `cookie VALUE` on `add server`, which HAProxy takes
// from 3.0 on; without one, a backend with a cookie gives new servers
// dynamic cookies (`cookie ... dynamic` and a `dynamic-cookie-key`), which
// lbctl turns on after adding them. A backend with a cookie that can do
// neither is refused: its users would move at every request once their
// server is gone.
std::optional<std::string> cookie_problems(const Config& config, const std::string& cookie_rule,
                                           const pools::LoadBalancer& lb,
                                           const pools::LoadBalancer::Abilities& abilities,
                                           std::vector<std::string>& warnings) {
  const bool rule = !cookie_rule.empty();
  const bool before_3_0 = abilities.version.known() && !abilities.version.at_least(3, 0);
  const auto& file = abilities.file_persistence;
  if (rule && before_3_0) {  // only new_pool.cookie: the default needs every LB at 3.0
    return fmt::format("new_pool.cookie: {}: remove new_pool.cookie and give backend {} dynamic cookies (`dynamic` on "
                       "its `cookie` line and a `dynamic-cookie-key`, the same on every LB), or upgrade the LB",
                       pools::cookie_refusal(lb.name(), abilities.version), lb.backend());
  }
  if (rule && abilities.cookie_name.empty() && !config.new_pool.cookie.empty()) {
    warnings.push_back(fmt::format("{}: backend {} has no `cookie` line: the cookies new_pool.cookie gives new servers "
                                   "are never sent to users",
                                   lb.name(), lb.backend()));
  }
  if (rule || abilities.cookie_name.empty()) return std::nullopt;
  const std::string second_fix =
      before_3_0 ? fmt::format("upgrade it to HAProxy 3.0 or later (it runs {}), as every LB of the service, so that "
                               "lbctl gives each new server its own cookie on `add server` (its name, or "
                               "new_pool.cookie)",
                               abilities.version.text)
                 : std::string("upgrade the LBs that run HAProxy before 3.0, so that lbctl gives each new server its own "
                               "cookie on `add server` (its name, or new_pool.cookie)");
  if (!file) {
    warnings.push_back(fmt::format("{}: backend {} keeps users on their server with cookie {}; without its file lbctl "
                                   "cannot tell whether it has dynamic cookies: after adding the new servers it sends "
                                   "`enable dynamic-cookie backend {}` and rolls back if one gets no cookie; or {}",
                                   lb.name(), lb.backend(), abilities.cookie_name, lb.backend(), second_fix));
    return std::nullopt;
  }
  if (file->cookie_dynamic && file->dynamic_cookie_key) return std::nullopt;
  return fmt::format("{}: backend {} keeps users on their server with cookie {}, and new servers would get none "
                     "(their users would move at every request): {} has {}. Either add {} to backend {} (the same key "
                     "on every LB: a user's cookie then names the same server through each), or {}",
                     lb.name(), lb.backend(), abilities.cookie_name, lb.persisted_file()->describe(),
                     file->cookie.empty()    ? "no `cookie` line (the running HAProxy has one: is the file behind it?)"
                     : file->cookie_dynamic ? "no `dynamic-cookie-key`"
                                            : "no `dynamic` on its `cookie` line",
                     file->cookie_dynamic ? "a `dynamic-cookie-key`"
                                          : (file->dynamic_cookie_key ? "`dynamic` to the `cookie` line"
                                                                      : "`dynamic` to the `cookie` line and a "
                                                                        "`dynamic-cookie-key`"),
                     lb.backend(), second_fix);
}

// How the backend keeps users on their server, in words for plan.
std::vector<std::string> persistence_used(const pools::LoadBalancer::Abilities& abilities) {
  std::vector<std::string> used;
  const auto& file = abilities.file_persistence;
  if (file && !file->cookie.empty()) {
    used.push_back(fmt::format("cookie {}{}", file->cookie, file->dynamic_cookie_key ? " (with a dynamic-cookie-key)" : ""));
  } else if (!abilities.cookie_name.empty()) {
    used.push_back("cookie " + abilities.cookie_name);
  }
  if (file) used.insert(used.end(), file->stick.begin(), file->stick.end());
  for (const auto& table : abilities.stick_tables) {
    used.push_back(fmt::format("stick table {} ({} entries)", table.name, table.used));
  }
  if (file && file->option_persist) used.push_back("option persist");
  if (file && file->force_persist) used.push_back("force-persist");
  if (pools::LoadBalancer::is_hash_algorithm(abilities.algo)) {
    used.push_back(fmt::format("balance {} (a user's server follows the hash)", abilities.algo));
  }
  return used;
}

// What lbctl does about it.
std::vector<std::string> persistence_plan(const Config& config, const std::string& cookie_rule,
                                          const pools::LoadBalancer& lb,
                                          const pools::LoadBalancer::Abilities& abilities) {
  std::vector<std::string> plan;
  if (!abilities.cookie_name.empty()) {
    plan.push_back(cookie_rule.empty()
                       ? fmt::format("new servers get dynamic cookies (`enable dynamic-cookie backend {}` once added)",
                                     lb.backend())
                       : fmt::format("new servers get `cookie {}` on `add server`{}", cookie_rule,
                                     config.new_pool.cookie.empty() ? " (each its name; new_pool.cookie changes it)"
                                                                    : ""));
  }
  const auto& drain = config.drain;
  plan.push_back(drain.idle.count() > 0
                     ? fmt::format("the drain waits until no session went to an old server for {} on every LB{}",
                                   format_duration(drain.idle),
                                   abilities.stick_tables.empty() ? "" : " and no stick-table entry points at one")
                     : std::string("the drain ends when the old servers have no session: users between two requests "
                                   "move (drain.idle is not set)"));
  return plan;
}

// drain.idle unset while a backend keeps users: how many the drain would cut.
asio::awaitable<std::optional<std::string>> sticky_users_warning(const Config& config, pools::LoadBalancer& lb,
                                                                 const pools::LoadBalancer::Abilities& abilities,
                                                                 const LbState& state,
                                                                 std::vector<pools::Server> old_servers) {
  // A hash alone is left out: a drained server leaves the hash, and its
  // users are not sent back to it.
  const bool keeps_users = !abilities.cookie_name.empty() || !abilities.stick_tables.empty() ||
                           (abilities.file_persistence && abilities.file_persistence->any());
  if (config.drain.idle.count() > 0 || !keeps_users) co_return std::nullopt;
  std::uint64_t sessions = 0;
  std::unordered_set<std::uint64_t> old_ids;
  for (const auto& server : old_servers) {
    if (const auto* stat = state.state.stat(server.name)) {
      sessions += stat->sessions();
      old_ids.insert(stat->id);
    }
  }
  std::string entries;
  if (!abilities.stick_tables.empty()) {
    if (auto stuck = co_await lb.stick_entries()) {
      std::uint64_t users = 0;
      for (const auto& [id, count] : *stuck) {
        if (old_ids.contains(id)) users += count;
      }
      entries = fmt::format(", and {} stick-table entries (users) point at them", users);
    }
  }
  co_return fmt::format("{}: backend {} keeps users on their server ({}) and drain.idle is not set: the drain ends as "
                        "soon as the old servers have no session, so every sticky user who is between two requests "
                        "then loses their server (and its in-memory session): {} sessions on the old servers now{}; "
                        "HAProxy does not count cookie users between requests. Set drain.idle to how long a user may "
                        "pause (e.g. 30s)",
                        lb.name(), lb.backend(), fmt::join(state.persistence, "; "), sessions, entries);
}

// What an LB must allow, checked before the first change: a runtime API
// socket at level admin, a backend whose algorithm takes servers at runtime,
// and (for drain.method health_file) HTTP checks on the old servers. An
// error naming the LB and what to change in its configuration, or warnings.
std::optional<std::string> lb_cannot_take(const Config& config, const std::string& cookie_rule,
                                          const pools::LoadBalancer& lb,
                                          const pools::LoadBalancer::Abilities& abilities, const LbState& state,
                                          std::vector<std::string>& warnings) {
  // Every lbctl process (a cutover, serve, status --watch) holds one of the
  // stats socket's connections per LB while it talks to it.
  if (abilities.cli_sessions >= k_cli_sessions_crowded) {
    warnings.push_back(fmt::format("{}: {} connections to the stats socket are open now; HAProxy serves 10 at once "
                                   "unless `stats maxconn` raises it, and each lbctl process (a cutover, serve, "
                                   "status --watch) needs one: set `stats maxconn` on the socket to the number of "
                                   "lbctl processes plus room for people",
                                   lb.name(), abilities.cli_sessions));
  }
  if (abilities.cli_level != "admin") {
    return fmt::format("{}: its runtime API socket is at level {}: lbctl needs `level admin` on that `stats socket` "
                       "line (HAProxy refuses add server, set server and del server below it)",
                       lb.name(), abilities.cli_level.empty() ? std::string("(not said)") : abilities.cli_level);
  }
  if (abilities.algo == "static-rr") {
    return fmt::format("{}: backend {} uses `balance static-rr`, a static algorithm: HAProxy adds servers at runtime "
                       "only to a backend with a dynamic one (roundrobin, leastconn, first, random, or a hash with "
                       "`hash-type consistent`); change `balance` in its configuration",
                       lb.name(), lb.backend());
  }
  const bool hash = pools::LoadBalancer::is_hash_algorithm(abilities.algo);
  if (hash && abilities.dynamic_servers == false) {
    return fmt::format("{}: backend {} balances by {} without `hash-type consistent` ({}): HAProxy adds servers at "
                       "runtime only to a hash with consistent hashing; add `hash-type consistent` to backend {} "
                       "(users then move between servers as little as a hash allows), or balance another way",
                       lb.name(), lb.backend(), abilities.algo, abilities.dynamic_servers_why, lb.backend());
  }
  if (hash && !abilities.dynamic_servers) {
    warnings.push_back(fmt::format("{}: backend {} balances by {}: HAProxy adds servers at runtime only with "
                                   "`hash-type consistent`, which the runtime API does not show, and lbctl could "
                                   "not tell (no persisted file, and a throwaway `add server {}` did not answer "
                                   "either way); without it the first `add server` fails and the cutover rolls back",
                                   lb.name(), lb.backend(), abilities.algo,
                                   pools::LoadBalancer::k_probe_server));
  }
  if (auto refusal = cookie_problems(config, cookie_rule, lb, abilities, warnings)) return refusal;
  if (config.drain.method != DrainConfig::Method::health_file) return std::nullopt;
  for (const auto& stat : state.state.stats) {
    if (stat.backup || stat.check_status.empty() || stat.check_status.starts_with("L7")) continue;
    if (stat.check_status == "INI" || stat.check_status.starts_with("L4CON") || stat.check_status.starts_with("L4TOUT") ||
        stat.check_status == "SOCKERR") {
      continue;  // no check has completed, or the server is down: says nothing of the check's kind
    }
    return fmt::format("{}: server {}'s check is {}, not an HTTP check: drain.method health_file needs `option "
                       "httpchk` and `http-check disable-on-404` in backend {}, or set drain.method: haproxy",
                       lb.name(), stat.name, stat.check_status, lb.backend());
  }
  return std::nullopt;
}

// What the config alone refuses before any LB is asked.
std::optional<PlanFailure> config_refusal(const Config& config, const pools::Provider& provider) {
  if (config.provider.type == ProviderConfig::Type::static_ &&
      config.drain.method == DrainConfig::Method::health_file && config.provider.remove_health_file.empty()) {
    return PlanFailure{ErrorKind::invalid,
                       fmt::format("{}: drain.method health_file needs provider.remove_health_file (and "
                                   "restore_health_file) with a static provider, or set drain.method: haproxy",
                                   config.file.string())};
  }
  if (auto usable = provider.check(); !usable) {
    return PlanFailure{usable.error().kind, config.file.string() + ": " + usable.error().message};
  }
  return std::nullopt;
}

// Every LB's backend as it is now, into report.lbs.
asio::awaitable<std::optional<PlanFailure>> snapshot_fleet(pools::Fleet& fleet, PlanReport& report) {
  auto snapshots = co_await fleet.each<pools::BackendState>([](pools::LoadBalancer& lb) { return lb.snapshot(); });
  std::string unreachable;
  for (std::size_t i = 0; i < snapshots.size(); ++i) {
    if (!snapshots[i].result) {
      const auto& error = snapshots[i].result.error();
      // HAProxy said no, or the way to it is misconfigured (a host key, a
      // certificate, a socket path): the config's to fix, exit 2.
      if (error.kind == ErrorKind::refused || error.kind == ErrorKind::invalid) {
        co_return PlanFailure{ErrorKind::invalid, error.message};
      }
      unreachable += (unreachable.empty() ? "" : "; ") + error.message;
      continue;
    }
    report.lbs.push_back(
        {snapshots[i].lb, fleet.at(i).backend(), std::move(*snapshots[i].result), fleet.at(i).version().text});
  }
  if (!unreachable.empty()) co_return PlanFailure{ErrorKind::unreachable, unreachable};
  co_return std::nullopt;
}

// What each LB can do (socket level, algorithm, persistence), checked; the
// fleet's cookie rule and each LB's persistence into the report.
std::optional<PlanFailure> check_abilities(const Config& config, pools::Fleet& fleet,
                                           const std::vector<pools::PerLb<pools::LoadBalancer::Abilities>>& abilities,
                                           PlanReport& report, std::vector<std::string>& lb_warnings) {
  report.cookie_rule = fleet_cookie_rule(config, abilities);
  for (std::size_t i = 0; i < abilities.size() && i < report.lbs.size(); ++i) {
    if (!abilities[i].result) {
      const auto& error = abilities[i].result.error();
      return PlanFailure{error.kind == ErrorKind::refused ? ErrorKind::invalid : error.kind, error.message};
    }
    if (auto refusal =
            lb_cannot_take(config, report.cookie_rule, fleet.at(i), *abilities[i].result, report.lbs[i], lb_warnings)) {
      return PlanFailure{ErrorKind::invalid, *refusal};
    }
    auto& lb = report.lbs[i];
    lb.persistence = persistence_used(*abilities[i].result);
    lb.persistence_plan = persistence_plan(config, report.cookie_rule, fleet.at(i), *abilities[i].result);
    lb.dynamic_cookies = report.cookie_rule.empty() && !abilities[i].result->cookie_name.empty();
  }
  return std::nullopt;
}

// The migrations pending in each phase, into the report; a run that died
// mid-file refuses.
std::optional<PlanFailure> read_migrations(db::Migrator& migrator, PlanReport& report) {
  for (auto phase : {db::Phase::pre, db::Phase::post}) {
    auto plan = migrator.plan(phase);
    if (!plan) {
      const auto kind = plan.error().kind == ErrorKind::unreachable ? ErrorKind::unreachable : ErrorKind::invalid;
      return PlanFailure{kind, "migrations: " + plan.error().message};
    }
    if (!plan->unfinished.empty()) {
      return PlanFailure{ErrorKind::invalid,
                         fmt::format("migrations: {} is recorded as running: a run died while applying it; check the "
                                     "database and the history table first",
                                     plan->unfinished.front().name)};
    }
    auto& labels = report.migrations[std::string(db::to_string(phase))];
    for (const auto& file : plan->pending) labels.push_back(file.label());
  }
  return std::nullopt;
}

// Each new server's cookie from new_pool.cookie, checked.
std::optional<PlanFailure> check_new_cookies(const PlanReport& report) {
  if (report.cookie_rule.empty()) return std::nullopt;
  for (const auto& name : report.plan.new_names) {
    if (const auto cookie = cookie_of(report.cookie_rule, name); !pools::is_cookie_value(cookie)) {
      return PlanFailure{ErrorKind::invalid,
                         fmt::format("new_pool.cookie: the new server {} would get the cookie '{}' ({} characters): a "
                                     "cookie has 1 to 64 of [A-Za-z0-9._-]",
                                     name, cookie.substr(0, 80), cookie.size())};
    }
  }
  return std::nullopt;
}

}  // namespace

asio::awaitable<std::expected<PlanReport, PlanFailure>> gather_plan(const Config& config, pools::Fleet& fleet,
                                                                   const pools::Provider& provider,
                                                                   db::Migrator* migrator, std::uint64_t first_id,
                                                                   std::string release) {
  using Failure = std::unexpected<PlanFailure>;
  if (auto refused = config_refusal(config, provider)) co_return Failure(std::move(*refused));
  PlanReport report;
  if (auto refused = co_await snapshot_fleet(fleet, report)) co_return Failure(std::move(*refused));
  auto abilities = co_await fleet.each<pools::LoadBalancer::Abilities>([](pools::LoadBalancer& lb) { return lb.abilities(); });
  std::vector<std::string> lb_warnings;
  if (auto refused = check_abilities(config, fleet, abilities, report, lb_warnings)) co_return Failure(std::move(*refused));
  if (config.maintenance && !config.maintenance->map.empty()) {
    if (auto known = co_await check_maintenance_map(fleet, config.maintenance->map); !known) {
      co_return Failure(PlanFailure{known.error().kind, "maintenance: " + known.error().message});
    }
  }
  if (migrator) {
    if (auto refused = read_migrations(*migrator, report)) co_return Failure(std::move(*refused));
  }
  auto plan = make_plan(config, report.lbs, first_id, release);
  if (!plan) {
    co_return Failure(PlanFailure{
        plan.error().problem == PlanProblem::config ? ErrorKind::invalid : ErrorKind::refused, plan.error().message});
  }
  report.plan = std::move(*plan);
  for (std::size_t i = 0; i < abilities.size() && i < report.lbs.size(); ++i) {
    auto warning = co_await sticky_users_warning(config, fleet.at(i), *abilities[i].result, report.lbs[i],
                                                 report.plan.old_servers);
    if (warning) lb_warnings.push_back(std::move(*warning));
  }
  if (auto refused = check_new_cookies(report)) co_return Failure(std::move(*refused));
  auto files = co_await gather_files(fleet, report.lbs, report.plan);
  if (!files) co_return Failure(files.error());
  report.files = std::move(*files);
  report.warnings = config_warnings(config);
  report.warnings.insert(report.warnings.end(), lb_warnings.begin(), lb_warnings.end());
  report.fleet_warnings = std::move(lb_warnings);
  co_return report;
}

// The health file the drain removes on `server`, as people find it.
std::string health_file_of(const Config& config, const pools::Server& server) {
  switch (config.provider.type) {
    case ProviderConfig::Type::local:
      return (config.provider.base_dir / server.name / config.provider.health_file).string();
    case ProviderConfig::Type::exec:
    case ProviderConfig::Type::static_:
      return fmt::format("by running {}", config.provider.remove_health_file.empty()
                                               ? std::string("(no command)")
                                               : config.provider.remove_health_file.front());
  }
  return "?";
}

// The runtime API commands a cutover would send to one LB, built by the
// same functions the cutover sends them with.
std::vector<std::string> commands_for(const PlanReport& report, const Config& config, const LbState& lb) {
  const auto& plan = report.plan;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < plan.new_names.size(); ++i) {
    out.push_back(pools::add_server_command(lb.backend, plan.new_names[i], "<address from the provider>",
                                            plan.id_of(i), plan.options,
                                            cookie_of(report.cookie_rule, plan.new_names[i])));
  }
  for (const auto& name : plan.new_names) out.push_back(pools::enable_health_command(lb.backend, name));
  if (lb.dynamic_cookies) out.push_back(fmt::format("enable dynamic-cookie backend {}", lb.backend));
  for (const auto& name : plan.new_names) {
    out.push_back(pools::set_state_command(lb.backend, name, pools::AdminTarget::ready) +
                  "   (once HAProxy's check is L7OK)");
  }
  if (config.drain.method == DrainConfig::Method::haproxy) {
    for (const auto& s : plan.old_servers) {
      out.push_back(pools::set_state_command(lb.backend, s.name, pools::AdminTarget::drain));
    }
  }
  for (const auto& s : plan.old_servers) {
    out.push_back(pools::set_state_command(lb.backend, s.name, pools::AdminTarget::maint) +
                  "   (once its sessions are gone)");
    out.push_back(pools::del_server_command(lb.backend, s.name));
  }
  return out;
}

}  // namespace lbctl
