// load_config: the whole file, then the checks that span sections.
// Section readers live in config_pools.cpp and config_sections.cpp.

#include "lbctl/config/config.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/duration.hpp"
#include "lbctl/config/config_document.hpp"
#include "lbctl/config/config_reader.hpp"
#include "lbctl/config/config_sections.hpp"
#include "pools/placeholders.hpp"

namespace lbctl {

namespace {

using namespace config_detail;

std::optional<std::string> env_value(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

void read_state(Reader& reader, const Section& root, Config& config) {
  const auto from_env = env_value("LBCTL_STATE_DATABASE_URL");
  constexpr std::string_view expected = "the state database's connection string (or set LBCTL_STATE_DATABASE_URL)";
  if (auto state = root.get("state")) {
    const Section section(reader, *state);
    section.allow({"database_url", "reconnect_timeout", "partition_timeout", "lease"});
    if (auto url = section.get("database_url")) config.state_database_url = secret_text(reader, *url);
    else if (!from_env) section.missing("database_url", expected);
    if (auto timeout = section.get("reconnect_timeout")) config.state_reconnect_timeout = duration(reader, *timeout, false);
    if (auto timeout = section.get("partition_timeout")) {
      config.state_partition_timeout = duration(reader, *timeout, false);
      if (config.state_partition_timeout < Duration(1000)) reader.fail(*timeout, "must be at least 1s");
    }
    const auto lease = section.get("lease");
    if (lease) config.state_lease = duration(reader, *lease, false);
    if (config.state_lease <= config.state_partition_timeout) {
      const auto where = lease ? *lease : *section.get("partition_timeout");
      reader.fail(where, fmt::format("state.lease ({}) must be longer than state.partition_timeout ({}): a runner cut "
                                     "off from the state database must see it before its lease runs out",
                                     format_duration(config.state_lease),
                                     format_duration(config.state_partition_timeout)));
    }
  } else if (!from_env) {
    root.missing("state.database_url", expected);
  }
  if (from_env) config.state_database_url = *from_env;
}

// True when `name` is one lbctl will give a new server: PREFIX then 1..largest.
bool is_new_server_name(const std::string& name, const std::string& prefix, long long largest) {
  if (!name.starts_with(prefix) || name.size() == prefix.size() || name.size() - prefix.size() > 6) return false;
  const std::string index = name.substr(prefix.size());
  if (index.find_first_not_of("0123456789") != std::string::npos || index.front() == '0') return false;
  return std::stoll(index) <= largest;
}

void check_across_sections(const Reader& reader, const Config& config) {
  if (config.mode == CutoverMode::maintenance && !config.maintenance) {
    reader.fail_at("mode", "maintenance needs the maintenance section with its map; expected maintenance.map");
  }
  if (config.mode == CutoverMode::maintenance && config.promotion.manual()) {
    reader.fail_at("promotion.mode",
                   "manual pauses with both pools serving, which mode: maintenance never has (the page is up); "
                   "expected auto, or mode: blue_green");
  }
  if (config.mode == CutoverMode::maintenance && config.promotion.undo_window.count() > 0) {
    reader.fail_at("promotion.undo_window",
                   "mode: maintenance commits the migrations before the new servers start, so the old ones cannot "
                   "come back; expected 0s, or mode: blue_green");
  }
  const ProviderConfig& provider = config.provider;
  if (provider.type == ProviderConfig::Type::exec && config.drain.method == DrainConfig::Method::health_file) {
    for (auto [key, argv] : {std::pair{"remove_health_file", &provider.remove_health_file},
                             std::pair{"restore_health_file", &provider.restore_health_file}}) {
      if (argv->empty()) {
        reader.fail(reader.where("provider"), fmt::format("provider.{}", key),
                    "missing; expected an argv list: an exec provider needs it when drain.method is health_file "
                    "(the default)");
      }
    }
  }
  const auto& old_servers = config.old_pool.servers;
  for (std::size_t i = 0; i < provider.servers.size(); ++i) {
    for (std::size_t j = 0; j < old_servers.size(); ++j) {
      if (provider.servers[i].name == old_servers[j].name) {
        reader.fail_at(fmt::format("provider.servers[{}].name", i),
                       fmt::format("\"{}\" is also old_pool.servers[{}]; old and new servers share the backend, so "
                                   "their names must differ",
                                   old_servers[j].name, j));
      }
    }
  }
  const bool per_release = config.new_pool.name_prefix.find(k_release_placeholder) != std::string::npos;
  if (provider.type != ProviderConfig::Type::static_ && !config.old_pool.discover && !per_release) {
    const long long largest = config.new_pool.count.value_or(static_cast<int>(old_servers.size()));
    for (std::size_t j = 0; j < old_servers.size(); ++j) {
      if (is_new_server_name(old_servers[j].name, config.new_pool.name_prefix, largest)) {
        reader.fail_at(fmt::format("old_pool.servers[{}].name", j),
                       fmt::format("\"{}\" is a name the new pool will use (name_prefix \"{}\"); expected a "
                                   "name_prefix that no old server starts with",
                                   old_servers[j].name, config.new_pool.name_prefix));
      }
    }
  }
  if (provider.type == ProviderConfig::Type::static_) {
    const std::size_t wanted = config.new_pool.count ? static_cast<std::size_t>(*config.new_pool.count)
                               : config.old_pool.discover ? 0
                                                          : old_servers.size();
    if (wanted > provider.servers.size()) {
      reader.fail_at(config.new_pool.count ? "new_pool.count" : "provider.servers",
                     fmt::format("{} new servers are needed but provider.servers lists {}; expected at least as "
                                 "many static servers",
                                 wanted, provider.servers.size()));
    }
  }
  if (!config.old_pool.discover && static_cast<std::size_t>(config.min_healthy) > old_servers.size()) {
    reader.fail_at("min_healthy", fmt::format("is {} but old_pool.servers lists only {}; expected at most that many",
                                              config.min_healthy, old_servers.size()));
  }
}

}  // namespace

std::string expand_release(std::string_view text, std::string_view release) {
  std::string out;
  std::size_t from = 0;
  for (auto at = text.find(k_release_placeholder); at != std::string_view::npos;
       at = text.find(k_release_placeholder, from)) {
    out.append(text.substr(from, at - from)).append(release);
    from = at + k_release_placeholder.size();
  }
  return out.append(text.substr(from));
}

std::string cookie_of(std::string_view rule, std::string_view server_name) {
  if (rule.empty()) return {};
  return pools::expand_placeholders(rule, {{"name", std::string(server_name)}});
}

Config parse_config(const std::string& yaml_text, const std::filesystem::path& file) {
  Reader reader(file.string());
  const YAML::Node document = load_document(reader, yaml_text);
  reader.remember("", document.Mark());
  std::error_code ec;
  const std::filesystem::path folder = std::filesystem::absolute(file, ec).parent_path();

  const Section root(reader, Value{document, document.Mark(), ""});
  root.allow({"service", "release", "state", "mode", "load_balancers", "old_pool", "new_pool", "provider", "health", "drain",
              "migrations", "terminate", "min_healthy", "stages", "promotion", "analysis", "hooks", "notifications", "maintenance"});
  Config config;
  config.file = file;
  config.service = name(reader, root.require("service", "the service's name, which names its lock and history"));
  if (auto v = root.get("release")) config.release = name(reader, *v);
  read_state(reader, root, config);
  if (auto v = root.get("mode")) {
    const std::string mode = text(reader, *v);
    const auto parsed = parse_mode(mode);
    if (!parsed) reader.fail(*v, fmt::format("{} is not a mode; expected blue_green or maintenance", show_value(mode)));
    config.mode = *parsed;
  }
  config.load_balancers =
      read_load_balancers(reader, root.require("load_balancers", "a list of {name, runtime_api, backend}"), folder);
  if (auto v = root.get("old_pool")) config.old_pool = read_old_pool(reader, *v);
  if (auto v = root.get("new_pool")) config.new_pool = read_new_pool(reader, *v);
  config.provider = read_provider(reader, root.require("provider", "a map with type: local, exec or static"), folder);
  if (auto v = root.get("health")) config.health = read_health(reader, *v);
  if (auto v = root.get("drain")) config.drain = read_drain(reader, *v);
  if (auto v = root.get("migrations")) {
    config.migrations = read_migrations(reader, *v, folder, env_value("LBCTL_MIGRATIONS_DATABASE_URL").has_value());
    if (auto url = env_value("LBCTL_MIGRATIONS_DATABASE_URL")) config.migrations->database_url = *url;
  }
  if (auto v = root.get("terminate")) {
    const Section terminate(reader, *v);
    terminate.allow({"delay"});
    if (auto delay = terminate.get("delay")) config.terminate_delay = duration(reader, *delay, true);
  }
  if (auto v = root.get("min_healthy")) {
    config.min_healthy = static_cast<int>(integer(reader, *v, 0, std::numeric_limits<int>::max()));
  }
  if (auto v = root.get("stages")) config.stages = read_stages(reader, *v);
  if (auto v = root.get("promotion")) config.promotion = read_promotion(reader, *v);
  if (auto v = root.get("analysis")) config.analysis = read_analysis(reader, *v);
  if (auto v = root.get("hooks")) config.hooks = read_hooks(reader, *v);
  if (auto v = root.get("notifications")) config.notifications = read_notifications(reader, *v);
  if (auto v = root.get("maintenance")) config.maintenance = read_maintenance(reader, *v);
  check_across_sections(reader, config);
  return config;
}

Config load_config(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    throw ConfigError(fmt::format("{}: is a folder; expected a config file (YAML)", file.string()));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw ConfigError(fmt::format("{}: cannot read the config file: {}", file.string(), std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(fmt::format("{}: cannot read the config file: {}", file.string(), std::strerror(errno)));
  return parse_config(text.str(), file);
}

std::string summarize(const Config& config) {
  std::string lbs;
  for (const auto& lb : config.load_balancers) {
    if (!lbs.empty()) lbs += ", ";
    lbs += lb.name + " " + lb.backend;
  }
  const std::size_t lb_count = config.load_balancers.size();
  std::string line = fmt::format("{}: {} load balancer{} ({})", config.service, lb_count, lb_count == 1 ? "" : "s", lbs);
  if (config.old_pool.discover) line += ", old pool discovered";
  else line += fmt::format(", old pool {} server{}", config.old_pool.servers.size(), config.old_pool.servers.size() == 1 ? "" : "s");
  const std::string count = config.new_pool.count ? std::to_string(*config.new_pool.count) : "match_old";
  if (config.provider.type == ProviderConfig::Type::static_) {
    line += fmt::format(", new pool {} of {} static", count, config.provider.servers.size());
  } else {
    line += fmt::format(", new pool {} x {}", count, config.new_pool.name_prefix);
  }
  line += fmt::format(", provider {}, drain {}, migrations {}", to_string(config.provider.type),
                      to_string(config.drain.method), config.migrations ? "on" : "off");
  if (config.mode == CutoverMode::maintenance) line += ", mode maintenance";
  if (!config.stages.empty()) line += fmt::format(", {} stage{}", config.stages.size(), config.stages.size() == 1 ? "" : "s");
  if (config.promotion.manual()) line += ", manual promotion";
  if (config.promotion.undo_window.count() > 0) line += ", undo window " + format_duration(config.promotion.undo_window);
  const HooksConfig& h = config.hooks;
  const int hooks = h.before_attach.has_value() + h.after_attach.has_value() + h.before_drain.has_value() +
                    h.after_detach.has_value() + h.after_post_migrate.has_value() + h.after_cutover.has_value() +
                    h.on_rollback.has_value();
  if (hooks > 0) line += fmt::format(", {} hook{}", hooks, hooks == 1 ? "" : "s");
  const std::size_t webhooks = config.notifications.webhooks.size();
  if (webhooks > 0) line += fmt::format(", {} webhook{}", webhooks, webhooks == 1 ? "" : "s");
  if (config.maintenance) line += ", maintenance map set";
  return line;
}

}  // namespace lbctl
