// The sections about checks and the cutover's shape: health, drain,
// migrations, stages, hooks, notifications, maintenance.

#include <filesystem>
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "core/duration.hpp"
#include "lbctl/config/config_sections.hpp"
#include "lbctl/config/config_values.hpp"

namespace lbctl::config_detail {

namespace {

std::string http_path(Reader& reader, const Value& value) {
  const std::string path = text(reader, value);
  if (!is_http_path(path)) {
    reader.fail(value, fmt::format("{} is not an HTTP path; expected one starting with / and without spaces",
                                   show_value(path)));
  }
  return path;
}

HookCommand read_hook(Reader& reader, const Value& value) {
  HookCommand hook;
  if (value.node.IsSequence()) {
    hook.argv = argv(reader, value);
    return hook;
  }
  if (!value.node.IsMap()) {
    reader.fail(value, fmt::format("expected an argv list, or a map {{command, timeout}}, got {}", describe(value.node)));
  }
  const Section section(reader, value);
  section.allow({"command", "timeout"});
  hook.argv = argv(reader, section.require("command", "the hook's argv, a list of text"));
  if (auto timeout = section.get("timeout")) hook.timeout = duration(reader, *timeout, false);
  return hook;
}

}  // namespace

HealthConfig read_health(Reader& reader, const Value& value) {
  const Section section(reader, value);
  section.allow({"scheme", "ca_file", "tls_verify", "path", "expect_status", "expect_body", "database_path", "timeout",
                 "interval", "rise", "deadline"});
  HealthConfig health;
  if (auto v = section.get("scheme")) {
    const std::string scheme = text(reader, *v);
    if (scheme != "http" && scheme != "https") {
      reader.fail(*v, fmt::format("expected http or https, got {}", show_value(scheme)));
    }
    health.tls.https = scheme == "https";
  }
  if (auto v = section.get("ca_file")) {
    if (!health.tls.https) reader.fail(*v, "only with scheme: https");
    health.tls.ca_file = nonempty_text(reader, *v);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(health.tls.ca_file, ec)) {
      reader.fail(*v, fmt::format("{} is not a file (expected a PEM bundle of the CAs that signed the new servers' "
                                  "certificates)",
                                  show_value(health.tls.ca_file)));
    }
  }
  if (auto v = section.get("tls_verify")) {
    if (!health.tls.https) reader.fail(*v, "only with scheme: https");
    health.tls.verify = boolean(reader, *v);
  }
  if (auto v = section.get("path")) health.path = http_path(reader, *v);
  if (auto v = section.get("expect_status")) health.expect_status = static_cast<int>(integer(reader, *v, 100, 599));
  if (auto v = section.get("expect_body")) health.expect_body = text(reader, *v);
  if (auto v = section.get("database_path")) {
    health.database_path = text(reader, *v);
    if (!health.database_path.empty()) health.database_path = http_path(reader, *v);
  }
  if (auto v = section.get("timeout")) health.timeout = duration(reader, *v, false);
  if (auto v = section.get("interval")) health.interval = duration(reader, *v, false);
  if (auto v = section.get("rise")) health.rise = static_cast<int>(integer(reader, *v, 1, 1000));
  if (auto v = section.get("deadline")) health.deadline = duration(reader, *v, false);
  return health;
}

DrainConfig read_drain(Reader& reader, const Value& value) {
  const Section section(reader, value);
  section.allow({"method", "poll", "timeout", "on_timeout", "idle"});
  DrainConfig drain;
  if (auto v = section.get("method")) {
    const std::string method = text(reader, *v);
    const auto parsed = parse_drain_method(method);
    if (!parsed) reader.fail(*v, fmt::format("{} is not a drain method; expected health_file or haproxy", show_value(method)));
    drain.method = *parsed;
  }
  if (auto v = section.get("poll")) drain.poll = duration(reader, *v, false);
  if (auto v = section.get("timeout")) drain.timeout = duration(reader, *v, true);
  if (auto v = section.get("on_timeout")) {
    const std::string action = text(reader, *v);
    const auto parsed = parse_on_timeout(action);
    if (!parsed) reader.fail(*v, fmt::format("{} is not an on_timeout action; expected abort or force", show_value(action)));
    drain.on_timeout = *parsed;
  }
  if (auto v = section.get("idle")) {
    drain.idle = duration(reader, *v, true);
    if (drain.idle >= drain.timeout) {
      reader.fail(*v, fmt::format("{} is not shorter than drain.timeout ({}): no old server with a sticky user "
                                  "could ever count as drained",
                                  format_duration(drain.idle), format_duration(drain.timeout)));
    }
    if (drain.idle.count() % 1000 != 0) {
      reader.fail(*v, fmt::format("{}: HAProxy counts the time since a server's last session in whole seconds; "
                                  "give whole seconds",
                                  format_duration(drain.idle)));
    }
  }
  return drain;
}

MigrationsConfig read_migrations(Reader& reader, const Value& value, const std::filesystem::path& folder,
                                 bool url_from_env) {
  const Section section(reader, value);
  section.allow({"database_url", "dir", "lock_timeout", "lock_wait", "max_retries", "backup"});
  MigrationsConfig migrations;
  if (auto v = section.get("database_url")) {
    migrations.database_url = secret_text(reader, *v);
  } else if (!url_from_env) {
    section.missing("database_url", "the application database's connection string (or set LBCTL_MIGRATIONS_DATABASE_URL)");
  }
  migrations.dir = resolve(folder, nonempty_text(reader, section.require("dir", "the folder holding pre/ and post/")));
  if (auto v = section.get("lock_timeout")) migrations.lock_timeout = duration(reader, *v, false);
  if (auto v = section.get("lock_wait")) migrations.lock_wait = duration(reader, *v, true);
  if (auto v = section.get("max_retries")) migrations.max_retries = static_cast<int>(integer(reader, *v, 0, 100));
  if (auto v = section.get("backup")) {
    const Section backup_section(reader, *v);
    backup_section.allow({"command", "dir"});
    BackupConfig backup;
    backup.command = argv(reader, backup_section.require("command", "the backup's argv, like [\"pg_dump\", ...]"),
                          {"backup_dir", "service", "cutover_id", "database_url", "timestamp", "release"});
    backup.dir = resolve(folder, nonempty_text(reader, backup_section.require("dir", "the folder for backup files")));
    migrations.backup = std::move(backup);
  }
  return migrations;
}

std::vector<StageConfig> read_stages(Reader& reader, const Value& value) {
  std::vector<StageConfig> stages;
  for (const Value& item : list(reader, value)) {
    const Section section(reader, item);
    section.allow({"weight_percent", "hold", "max_5xx_ratio"});
    StageConfig stage;
    stage.weight_percent =
        static_cast<int>(integer(reader, section.require("weight_percent", "the new pool's share, 1-100"), 1, 100));
    if (auto v = section.get("hold")) stage.hold = duration(reader, *v, true);
    if (auto v = section.get("max_5xx_ratio")) stage.max_5xx_ratio = number(reader, *v, 0, 1);
    stages.push_back(stage);
  }
  return stages;
}

PromotionConfig read_promotion(Reader& reader, const Value& value) {
  const Section section(reader, value);
  section.allow({"mode", "auto_promote_after", "auto_abort_after", "undo_window"});
  PromotionConfig promotion;
  if (auto v = section.get("mode")) {
    const std::string mode = text(reader, *v);
    const auto parsed = parse_promotion_mode(mode);
    if (!parsed) reader.fail(*v, fmt::format("{} is not a promotion mode; expected auto or manual", show_value(mode)));
    promotion.mode = *parsed;
  }
  for (auto [key, slot] : {std::pair{"auto_promote_after", &promotion.auto_promote_after},
                           std::pair{"auto_abort_after", &promotion.auto_abort_after}}) {
    const auto v = section.get(key);
    if (!v) continue;
    *slot = duration(reader, *v, true);
    if (slot->count() > 0 && !promotion.manual()) {
      reader.fail(*v, "a timer of the promotion pause, which only mode: manual has; expected mode: manual, or 0s");
    }
  }
  if (promotion.auto_promote_after.count() > 0 && promotion.auto_promote_after == promotion.auto_abort_after) {
    reader.fail(*section.get("auto_abort_after"),
                "equal to auto_promote_after, so which one acts is a coin toss; expected two different durations "
                "(the first to run out acts)");
  }
  if (auto v = section.get("undo_window")) promotion.undo_window = duration(reader, *v, true);
  return promotion;
}

HooksConfig read_hooks(Reader& reader, const Value& value) {
  const Section section(reader, value);
  section.allow({"before_attach", "after_attach", "before_drain", "after_detach", "after_post_migrate", "after_cutover",
                 "on_rollback"});
  HooksConfig hooks;
  const std::array<std::pair<std::string_view, std::optional<HookCommand>*>, 7> slots{{
      {"before_attach", &hooks.before_attach},
      {"after_attach", &hooks.after_attach},
      {"before_drain", &hooks.before_drain},
      {"after_detach", &hooks.after_detach},
      {"after_post_migrate", &hooks.after_post_migrate},
      {"after_cutover", &hooks.after_cutover},
      {"on_rollback", &hooks.on_rollback},
  }};
  for (const auto& [key, slot] : slots) {
    if (auto v = section.get(key)) *slot = read_hook(reader, *v);
  }
  return hooks;
}

NotificationsConfig read_notifications(Reader& reader, const Value& value) {
  static constexpr std::array<std::string_view, 6> k_events = {"started",     "step",      "promotion",
                                                               "failed",      "rolled_back", "completed"};
  const Section section(reader, value);
  section.allow({"webhooks"});
  NotificationsConfig notifications;
  const auto webhooks = section.get("webhooks");
  if (!webhooks) return notifications;
  for (const Value& item : list(reader, *webhooks)) {
    const Section hook(reader, item);
    hook.allow({"url", "events", "timeout"});
    WebhookConfig webhook;
    const Value url = hook.require("url", "the receiver's http:// or https:// URL");
    if (!url.node.IsScalar()) reader.fail(url, fmt::format("expected an http:// or https:// URL, got {}", describe(url.node)));
    webhook.url = url.node.Scalar();
    if (!is_http_url(webhook.url)) {
      reader.fail(url, "is not an http:// or https:// URL without spaces (its value is not shown: it is a secret)");
    }
    if (auto events = hook.get("events")) {
      for (const Value& event : list(reader, *events)) {
        const std::string event_name = text(reader, event);
        if (std::find(k_events.begin(), k_events.end(), event_name) == k_events.end()) {
          reader.fail(event, fmt::format("{} is not an event; expected some of started, step, promotion, failed, "
                                         "rolled_back, completed",
                                         show_value(event_name)));
        }
        webhook.events.push_back(event_name);
      }
      if (webhook.events.empty()) {
        reader.fail(*events, "is empty, so nothing would be sent; leave events out to send every event");
      }
    }
    if (auto v = hook.get("timeout")) webhook.timeout = duration(reader, *v, false);
    notifications.webhooks.push_back(std::move(webhook));
  }
  return notifications;
}

MaintenanceConfig read_maintenance(Reader& reader, const Value& value) {
  const Section section(reader, value);
  section.allow({"map", "message", "duration"});
  MaintenanceConfig maintenance;
  const Value map = section.require("map", "the path of the HAProxy map the frontend consults");
  maintenance.map = text(reader, map);
  if (!is_haproxy_path(maintenance.map)) {
    reader.fail(map, fmt::format("{} is not a usable map path; expected characters from [A-Za-z0-9._/-], like "
                                 "/etc/haproxy/maintenance.map",
                                 show_value(maintenance.map)));
  }
  if (auto v = section.get("message")) {
    maintenance.message = nonempty_text(reader, *v);
    if (!is_one_line(maintenance.message) || maintenance.message.size() > 500) {
      reader.fail(*v, "expected one line of printable text, at most 500 bytes");
    }
  }
  if (auto v = section.get("duration")) maintenance.duration = duration(reader, *v, false);
  return maintenance;
}

}  // namespace lbctl::config_detail
