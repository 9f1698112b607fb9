#include "lbctl/cutover/plan_report.hpp"

#include <fmt/format.h>

#include "lbctl/cutover/lb_abilities.hpp"
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
