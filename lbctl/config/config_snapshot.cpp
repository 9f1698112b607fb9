#include "lbctl/config/config_snapshot.hpp"

#include "core/duration.hpp"

namespace lbctl {

namespace {

constexpr const char* k_redacted = "(redacted)";

nlohmann::json servers_json(const std::vector<ServerEntry>& servers) {
  auto out = nlohmann::json::array();
  for (const auto& s : servers) out.push_back({{"name", s.name}, {"address", s.address}});
  return out;
}

}  // namespace

nlohmann::json config_snapshot(const Config& c) {
  nlohmann::json lbs = nlohmann::json::array();
  for (const auto& lb : c.load_balancers) {
    lbs.push_back({{"name", lb.name}, {"runtime_api", lb.runtime_api.to_string()}, {"backend", lb.backend},
                   {"timeout", format_duration(lb.timeout)}});
  }
  nlohmann::json snapshot = {
      {"file", c.file.string()},
      {"service", c.service},
      {"state", {{"database_url", k_redacted}, {"reconnect_timeout", format_duration(c.state_reconnect_timeout)},
                 {"partition_timeout", format_duration(c.state_partition_timeout)},
                 {"lease", format_duration(c.state_lease)}}},
      {"load_balancers", lbs},
      {"old_pool", {{"discover", c.old_pool.discover}, {"servers", servers_json(c.old_pool.servers)}}},
      {"new_pool",
       {{"count", c.new_pool.count ? nlohmann::json(*c.new_pool.count) : nlohmann::json("match_old")},
        {"name_prefix", c.new_pool.name_prefix},
        {"server_options", c.new_pool.server_options}}},
      {"provider", {{"type", to_string(c.provider.type)}, {"servers", servers_json(c.provider.servers)}}},
      {"health",
       {{"scheme", c.health.tls.https ? "https" : "http"},
        {"ca_file", c.health.tls.ca_file},
        {"tls_verify", c.health.tls.verify},
        {"path", c.health.path},
        {"expect_status", c.health.expect_status},
        {"expect_body", c.health.expect_body},
        {"database_path", c.health.database_path},
        {"timeout", format_duration(c.health.timeout)},
        {"interval", format_duration(c.health.interval)},
        {"rise", c.health.rise},
        {"deadline", format_duration(c.health.deadline)}}},
      {"drain",
       {{"method", to_string(c.drain.method)},
        {"poll", format_duration(c.drain.poll)},
        {"timeout", format_duration(c.drain.timeout)},
        {"on_timeout", to_string(c.drain.on_timeout)}}},
      {"terminate", {{"delay", format_duration(c.terminate_delay)}}},
      {"min_healthy", c.min_healthy},
      {"promotion",
       {{"mode", to_string(c.promotion.mode)},
        {"auto_promote_after", format_duration(c.promotion.auto_promote_after)},
        {"auto_abort_after", format_duration(c.promotion.auto_abort_after)},
        {"undo_window", format_duration(c.promotion.undo_window)}}},
      {"mode", to_string(c.mode)},
  };
  if (c.migrations) {
    snapshot["migrations"] = {{"database_url", k_redacted},
                              {"dir", c.migrations->dir.string()},
                              {"lock_timeout", format_duration(c.migrations->lock_timeout)},
                              {"backup", c.migrations->backup.has_value()}};
  }
  if (!c.stages.empty()) {
    auto stages = nlohmann::json::array();
    for (const auto& s : c.stages) {
      nlohmann::json stage = {{"weight_percent", s.weight_percent}, {"hold", format_duration(s.hold)}};
      if (s.max_5xx_ratio) stage["max_5xx_ratio"] = *s.max_5xx_ratio;
      stages.push_back(stage);
    }
    snapshot["stages"] = stages;
  }
  if (c.analysis) {
    auto metrics = nlohmann::json::array();
    for (const auto& m : c.analysis->metrics) metrics.push_back(m.name());  // no URLs: they may carry credentials
    snapshot["analysis"] = {{"interval", format_duration(c.analysis->interval)},
                            {"failure_limit", c.analysis->failure_limit},
                            {"min_requests", c.analysis->min_requests},
                            {"metrics", metrics}};
  }
  if (!c.notifications.webhooks.empty()) {
    snapshot["notifications"] = {{"webhooks", c.notifications.webhooks.size()}};
  }
  if (c.maintenance) snapshot["maintenance"] = {{"map", c.maintenance->map}};
  return snapshot;
}

}  // namespace lbctl
