#include "lbctl/cli/plan_render.hpp"

#include <fmt/format.h>

#include "lbctl/cutover/analysis.hpp"
#include "lbctl/cutover/step_table.hpp"

namespace lbctl {

namespace {

std::string pools_text(const PlanReport& report, const Config& config) {
  const auto& plan = report.plan;
  std::vector<std::string> old_list;
  for (const auto& s : plan.old_servers) old_list.push_back(fmt::format("{} ({})", s.name, s.address));
  std::string out = plan.release.empty() ? "" : fmt::format("  release: {}\n", plan.release);
  out += fmt::format("  old pool: {}\n", fmt::join(old_list, ", "));
  std::vector<std::string> left_out;
  for (const auto& s : plan.left_out) left_out.push_back(fmt::format("{} ({})", s.name, s.why));
  if (!left_out.empty()) out += fmt::format("  left alone: {}\n", fmt::join(left_out, ", "));
  out += fmt::format("  new pool: {} (ids {}-{}), cloned by the {} provider\n", fmt::join(plan.new_names, ", "),
                     plan.first_id, plan.first_id + plan.new_names.size() - 1, to_string(config.provider.type));
  if (!config.migrations) return out;
  for (const auto& phase : {"pre", "post"}) {
    const auto it = report.migrations.find(phase);
    const bool none = it == report.migrations.end() || it->second.empty();
    out += fmt::format("  {}-migrations: {}\n", phase,
                       none ? std::string("none pending") : fmt::format("{}", fmt::join(it->second, ", ")));
  }
  out += fmt::format("  backup: {}\n", config.migrations->backup ? "before migrating" : "none configured");
  return out;
}

// The promotion gate and the undo window, as the plan says them; "" when neither.
std::string promotion_text(const PromotionConfig& p) {
  std::string out;
  if (p.manual()) {
    std::vector<std::string> timers;
    if (p.auto_promote_after.count() > 0) timers.push_back("auto promote after " + format_duration(p.auto_promote_after));
    if (p.auto_abort_after.count() > 0) timers.push_back("auto abort after " + format_duration(p.auto_abort_after));
    out += fmt::format("  then: pause with both pools serving until `lbctl promote` ({}); `lbctl abort` rolls back\n",
                       timers.empty() ? std::string("no timers: it waits") : fmt::format("{}", fmt::join(timers, ", ")));
  }
  if (p.undo_window.count() > 0) {
    out += fmt::format("  after detach: the old servers kept running and ready for {} (`lbctl undo` puts them back); "
                       "post-migrations and terminate wait\n",
                       format_duration(p.undo_window));
  }
  return out;
}

// "error_ratio (max 0.01), prometheus sum(...) (max 5), command /bin/smoke (exit 0)"
std::vector<std::string> metric_lines(const AnalysisConfig& analysis) {
  std::vector<std::string> out;
  for (const auto& m : analysis.metrics) {
    std::string what = m.name();
    if (m.source == AnalysisMetric::Source::prometheus) what += " " + m.query;
    if (m.source == AnalysisMetric::Source::command) what += " " + describe_argv(m.command);
    out.push_back(fmt::format("{} ({})", what, describe_limits(m)));
  }
  return out;
}

std::string analysis_text(const Config& config) {
  if (!config.analysis) return "";
  const auto& a = *config.analysis;
  return fmt::format("  analysis: every {} in each stage's hold (of at least that), the promotion pause and the undo "
                     "window; fail after {} failed measurement{} in a row; under {} new-pool responses inconclusive "
                     "(a hold with no conclusive one: {}):\n    {}\n",
                     format_duration(a.interval), a.failure_limit, a.failure_limit == 1 ? "" : "s", a.min_requests,
                     a.on_inconclusive == AnalysisConfig::OnInconclusive::fail ? "fail" : "pass",
                     fmt::join(metric_lines(a), "\n    "));
}

std::string steps_text(const PlanReport& report, const Config& config) {
  const auto& plan = report.plan;
  std::string out;
  for (const auto& lb : report.lbs) {
    out += fmt::format("  {} (backend {}, HAProxy {}), commands:\n", lb.lb, lb.backend,
                       lb.version.empty() ? std::string("version not said") : lb.version);
    for (const auto& command : commands_for(report, config, lb)) out += "    " + command + "\n";
    if (!lb.persistence.empty()) {
      out += fmt::format("    persistence: {}\n", fmt::join(lb.persistence, "; "));
      for (const auto& step : lb.persistence_plan) out += "      lbctl: " + step + "\n";
    }
  }
  if (config.drain.method == DrainConfig::Method::health_file) {
    out += "  health files to remove (old servers leave rotation, their sessions continue):\n";
    for (const auto& s : plan.old_servers) out += fmt::format("    {}: {}\n", s.name, health_file_of(config, s));
  }
  std::vector<std::string> capacity;
  for (const auto& step : plan.capacity) capacity.push_back(fmt::format("{} {}", step.step, fmt::join(step.up_per_lb, "/")));
  out += fmt::format("  servers UP per LB: {} (min_healthy {})\n", fmt::join(capacity, "; "), plan.min_healthy);
  if (!config.stages.empty()) {
    std::vector<std::string> stages;
    for (const auto& s : config.stages) stages.push_back(fmt::format("{}% for {}", s.weight_percent, format_duration(s.hold)));
    out += fmt::format("  stages: {}\n", fmt::join(stages, ", "));
  }
  out += analysis_text(config);
  out += promotion_text(config.promotion);
  out += fmt::format("  then: terminate the old servers after {}\n", format_duration(config.terminate_delay));
  return out;
}

std::string files_text(const PlanReport& report) {
  std::string out;
  for (const auto& file : report.files) {
    out += fmt::format("  {}: persisted to {}{}; once the cutover completes it says:\n", file.lb, file.file,
                       file.checked ? " (each rewrite checked first)" : "");
    if (file.diff.empty()) out += "    (no change)\n";
    for (std::size_t pos = 0; pos < file.diff.size();) {
      const auto end = std::min(file.diff.find('\n', pos), file.diff.size());
      out += "    " + file.diff.substr(pos, end - pos) + "\n";
      pos = end + 1;
    }
  }
  for (const auto& warning : report.warnings) out += "  warning: " + warning + "\n";
  return out;
}

}  // namespace

std::string render_plan(const PlanReport& report, const Config& config) {
  return fmt::format("Plan for service {} (nothing has changed):\n", config.service) + pools_text(report, config) +
         steps_text(report, config) + files_text(report);
}

nlohmann::json plan_json(const PlanReport& report, const Config& config) {
  const auto& plan = report.plan;
  auto old_pool = nlohmann::json::array();
  for (const auto& s : plan.old_servers) {
    old_pool.push_back({{"name", s.name}, {"address", s.address}, {"health_file", health_file_of(config, s)}});
  }
  auto left_out = nlohmann::json::array();
  for (const auto& s : plan.left_out) left_out.push_back({{"name", s.name}, {"why", s.why}});
  auto new_pool = nlohmann::json::array();
  for (std::size_t i = 0; i < plan.new_names.size(); ++i) new_pool.push_back({{"name", plan.new_names[i]}, {"id", plan.id_of(i)}});
  auto lbs = nlohmann::json::array();
  for (const auto& lb : report.lbs) {
    lbs.push_back({{"name", lb.lb},
                   {"backend", lb.backend},
                   {"haproxy_version", lb.version},
                   {"commands", commands_for(report, config, lb)},
                   {"persistence", lb.persistence},
                   {"persistence_plan", lb.persistence.empty() ? std::vector<std::string>() : lb.persistence_plan}});
  }
  auto capacity = nlohmann::json::array();
  for (const auto& step : plan.capacity) capacity.push_back({{"step", step.step}, {"up_per_lb", step.up_per_lb}});
  auto files = nlohmann::json::array();
  for (const auto& file : report.files) {
    files.push_back({{"lb", file.lb}, {"file", file.file}, {"diff", file.diff}, {"checked", file.checked}});
  }
  const auto steps = flow_step_names(config);
  const nlohmann::json promotion = {{"mode", to_string(config.promotion.mode)},
                                    {"auto_promote_after", format_duration(config.promotion.auto_promote_after)},
                                    {"auto_abort_after", format_duration(config.promotion.auto_abort_after)},
                                    {"undo_window", format_duration(config.promotion.undo_window)}};
  nlohmann::json analysis = nullptr;
  if (config.analysis) {
    analysis = {{"interval", format_duration(config.analysis->interval)},
                {"failure_limit", config.analysis->failure_limit},
                {"min_requests", config.analysis->min_requests},
                {"on_inconclusive", config.analysis->on_inconclusive == AnalysisConfig::OnInconclusive::fail ? "fail" : "pass"},
                {"metrics", metric_lines(*config.analysis)}};
  }
  return {{"service", config.service},   {"release", plan.release}, {"steps", steps}, {"promotion", promotion},
          {"analysis", analysis}, {"old_pool", old_pool}, {"left_alone", left_out}, {"new_pool", new_pool},
          {"load_balancers", lbs},       {"migrations", report.migrations}, {"capacity", capacity},
          {"min_healthy", plan.min_healthy}, {"persisted_files", files}, {"warnings", report.warnings}};
}

}  // namespace lbctl
