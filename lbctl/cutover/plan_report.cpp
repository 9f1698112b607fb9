#include "lbctl/cutover/plan_report.hpp"

#include <fmt/format.h>

#include "lbctl/cutover/maintenance.hpp"
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

asio::awaitable<std::expected<PlanReport, PlanFailure>> gather_plan(const Config& config, pools::Fleet& fleet,
                                                                   const pools::Provider& provider,
                                                                   db::Migrator* migrator, db::Journal& journal,
                                                                   std::int64_t exclude_cutover_id) {
  using Failure = std::unexpected<PlanFailure>;
  if (config.provider.type == ProviderConfig::Type::static_ &&
      config.drain.method == DrainConfig::Method::health_file && config.provider.remove_health_file.empty()) {
    co_return Failure(PlanFailure{
        ErrorKind::invalid,
        fmt::format("{}: drain.method health_file needs provider.remove_health_file (and restore_health_file) with a "
                    "static provider, or set drain.method: haproxy",
                    config.file.string())});
  }
  if (auto usable = provider.check(); !usable) {
    co_return Failure(PlanFailure{usable.error().kind, config.file.string() + ": " + usable.error().message});
  }
  PlanReport report;
  auto snapshots = co_await fleet.each<pools::BackendState>([](pools::LoadBalancer& lb) { return lb.snapshot(); });
  std::string unreachable;
  for (std::size_t i = 0; i < snapshots.size(); ++i) {
    if (!snapshots[i].result) {
      const auto& error = snapshots[i].result.error();
      if (error.kind == ErrorKind::refused) co_return Failure(PlanFailure{ErrorKind::invalid, error.message});
      unreachable += (unreachable.empty() ? "" : "; ") + error.message;
      continue;
    }
    report.lbs.push_back({snapshots[i].lb, fleet.at(i).backend(), std::move(*snapshots[i].result)});
  }
  if (!unreachable.empty()) co_return Failure(PlanFailure{ErrorKind::unreachable, unreachable});
  if (config.maintenance && !config.maintenance->map.empty()) {
    if (auto known = co_await check_maintenance_map(fleet, config.maintenance->map); !known) {
      co_return Failure(PlanFailure{known.error().kind, "maintenance: " + known.error().message});
    }
  }

  if (migrator) {
    for (auto phase : {db::Phase::pre, db::Phase::post}) {
      auto plan = migrator->plan(phase);
      if (!plan) {
        const auto kind = plan.error().kind == ErrorKind::unreachable ? ErrorKind::unreachable : ErrorKind::invalid;
        co_return Failure(PlanFailure{kind, "migrations: " + plan.error().message});
      }
      if (!plan->unfinished.empty()) {
        co_return Failure(PlanFailure{
            ErrorKind::invalid,
            fmt::format("migrations: {} is recorded as running: a run died while applying it; check the database "
                        "and the history table first",
                        plan->unfinished.front().name)});
      }
      auto& labels = report.migrations[std::string(db::to_string(phase))];
      for (const auto& file : plan->pending) labels.push_back(file.label());
    }
  }

  auto plan = make_plan(config, report.lbs, id_floor(journal, config.service, exclude_cutover_id));
  if (!plan) {
    co_return Failure(PlanFailure{
        plan.error().problem == PlanProblem::config ? ErrorKind::invalid : ErrorKind::refused, plan.error().message});
  }
  report.plan = std::move(*plan);
  auto files = co_await gather_files(fleet, report.lbs, report.plan);
  if (!files) co_return Failure(files.error());
  report.files = std::move(*files);
  report.warnings = config_warnings(config);
  co_return report;
}

namespace {

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
                                            plan.id_of(i), plan.options));
  }
  for (const auto& name : plan.new_names) out.push_back(pools::enable_health_command(lb.backend, name));
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

std::string joined(const std::vector<std::size_t>& counts) {
  std::string text;
  for (auto c : counts) text += (text.empty() ? "" : "/") + std::to_string(c);
  return text;
}

}  // namespace

std::string render_plan(const PlanReport& report, const Config& config) {
  const auto& plan = report.plan;
  std::string out = fmt::format("Plan for service {} (nothing has changed):\n", config.service);
  std::string old_list;
  for (const auto& s : plan.old_servers) old_list += fmt::format("{}{} ({})", old_list.empty() ? "" : ", ", s.name, s.address);
  out += fmt::format("  old pool: {}\n", old_list);
  out += fmt::format("  new pool: {} (ids {}-{}), cloned by the {} provider\n", fmt::join(plan.new_names, ", "),
                     plan.first_id, plan.first_id + plan.new_names.size() - 1,
                     to_string(config.provider.type));
  if (config.migrations) {
    for (const auto& phase : {"pre", "post"}) {
      const auto it = report.migrations.find(phase);
      const bool none = it == report.migrations.end() || it->second.empty();
      out += fmt::format("  {}-migrations: {}\n", phase, none ? std::string("none pending") : fmt::format("{}", fmt::join(it->second, ", ")));
    }
    out += fmt::format("  backup: {}\n", config.migrations->backup ? "before migrating" : "none configured");
  }
  for (const auto& lb : report.lbs) {
    out += fmt::format("  {} (backend {}), commands:\n", lb.lb, lb.backend);
    for (const auto& command : commands_for(report, config, lb)) out += "    " + command + "\n";
  }
  if (config.drain.method == DrainConfig::Method::health_file) {
    out += "  health files to remove (old servers leave rotation, their sessions continue):\n";
    for (const auto& s : plan.old_servers) out += fmt::format("    {}: {}\n", s.name, health_file_of(config, s));
  }
  std::string capacity;
  for (const auto& step : plan.capacity) {
    capacity += fmt::format("{}{} {}", capacity.empty() ? "" : "; ", step.step, joined(step.up_per_lb));
  }
  out += fmt::format("  servers UP per LB: {} (min_healthy {})\n", capacity, plan.min_healthy);
  if (!config.stages.empty()) {
    std::string stages;
    for (const auto& s : config.stages) {
      stages += fmt::format("{}{}% for {}", stages.empty() ? "" : ", ", s.weight_percent, format_duration(s.hold));
    }
    out += fmt::format("  stages: {}\n", stages);
  }
  out += fmt::format("  then: terminate the old servers after {}\n", format_duration(config.terminate_delay));
  for (const auto& file : report.files) {
    out += fmt::format("  {}: persisted to {}{}; once the cutover completes it says:\n", file.lb, file.file,
                       file.checked ? " (each rewrite checked first)" : "");
    std::string indented;
    for (std::size_t pos = 0; pos < file.diff.size();) {
      const auto end = std::min(file.diff.find('\n', pos), file.diff.size());
      indented += "    " + file.diff.substr(pos, end - pos) + "\n";
      pos = end + 1;
    }
    out += file.diff.empty() ? std::string("    (no change)\n") : indented;
  }
  for (const auto& warning : report.warnings) out += "  warning: " + warning + "\n";
  return out;
}

nlohmann::json plan_json(const PlanReport& report, const Config& config) {
  const auto& plan = report.plan;
  auto old_pool = nlohmann::json::array();
  for (const auto& s : plan.old_servers) {
    old_pool.push_back({{"name", s.name}, {"address", s.address}, {"health_file", health_file_of(config, s)}});
  }
  auto new_pool = nlohmann::json::array();
  for (std::size_t i = 0; i < plan.new_names.size(); ++i) new_pool.push_back({{"name", plan.new_names[i]}, {"id", plan.id_of(i)}});
  auto lbs = nlohmann::json::array();
  for (const auto& lb : report.lbs) lbs.push_back({{"name", lb.lb}, {"backend", lb.backend}, {"commands", commands_for(report, config, lb)}});
  auto capacity = nlohmann::json::array();
  for (const auto& step : plan.capacity) capacity.push_back({{"step", step.step}, {"up_per_lb", step.up_per_lb}});
  auto files = nlohmann::json::array();
  for (const auto& file : report.files) {
    files.push_back({{"lb", file.lb}, {"file", file.file}, {"diff", file.diff}, {"checked", file.checked}});
  }
  return {{"service", config.service}, {"old_pool", old_pool},     {"new_pool", new_pool},
          {"load_balancers", lbs},     {"migrations", report.migrations}, {"capacity", capacity},
          {"min_healthy", plan.min_healthy}, {"persisted_files", files}, {"warnings", report.warnings}};
}

}  // namespace lbctl
