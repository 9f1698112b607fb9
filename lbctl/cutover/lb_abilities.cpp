// What each LB of the fleet can do, judged before the first change: whether
// it can take the cutover at all (lb_cannot_take), how its backend keeps users
// on their server and what lbctl does about it, and the fleet's rule for new
// servers' cookies.

#include "lbctl/cutover/lb_abilities.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unordered_set>

#include "pools/backend_file.hpp"
#include "pools/commands.hpp"

namespace lbctl {

namespace asio = boost::asio;

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

}  // namespace

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

}  // namespace lbctl
