// What a valid config loads into: values, defaults, resolved paths, the
// environment overrides, and the one-line summary.

#include "tests/support/catch.hpp"

#include "tests/support/temp_dir.hpp"
#include "tests/unit/lbctl/config/config_test_support.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

const std::filesystem::path k_example = std::filesystem::path(LBCTL_SOURCE_DIR) / "configs" / "example.yaml";

Config load_minimal_with(const std::string& extra) { return parse_config(k_minimal_config + extra, "/etc/lbctl/shop.yaml"); }

}  // namespace

TEST_CASE("the reference example loads with the values it documents", "[config]") {
  NoUrlOverrides no_overrides;
  const Config config = load_config(k_example);
  CHECK(config.service == "shop");
  CHECK(config.state_database_url == "host=/var/run/postgresql dbname=lbctl user=lbctl");
  CHECK(config.mode == CutoverMode::blue_green);
  REQUIRE(config.load_balancers.size() == 4);
  CHECK(config.load_balancers[0].runtime_api.to_string() == "unix:/run/haproxy/admin.sock");
  CHECK(config.load_balancers[0].timeout == 5s);
  CHECK(config.load_balancers[1].runtime_api.kind == RuntimeApiAddress::Kind::tcp);
  CHECK(config.load_balancers[1].runtime_api.host == "127.0.0.1");
  CHECK(config.load_balancers[1].runtime_api.port == 9999);
  CHECK(config.load_balancers[1].backend == "app");
  REQUIRE(config.load_balancers[0].master_api.has_value());
  CHECK(config.load_balancers[0].master_api->to_string() == "unix:/run/haproxy-master.sock");
  CHECK(config.load_balancers[0].unreachable_timeout == 30s);
  REQUIRE(config.load_balancers[0].persist.has_value());
  CHECK(config.load_balancers[0].persist->file == "/etc/haproxy/haproxy.cfg");
  CHECK(config.load_balancers[0].persist->check == std::vector<std::string>{"haproxy", "-c", "-f", "{file}"});
  REQUIRE(config.load_balancers[1].persist.has_value());
  CHECK(config.load_balancers[1].persist->remote());
  CHECK(config.load_balancers[1].persist->carries_any_file());
  CHECK_FALSE(config.load_balancers[1].insecure_tcp);

  const auto& lb3 = config.load_balancers[2];
  CHECK(lb3.name == "lb3");
  CHECK(lb3.runtime_api.kind == RuntimeApiAddress::Kind::ssh);
  CHECK(lb3.runtime_api.user == "lbctl");
  CHECK(lb3.runtime_api.host == "lb3.internal");
  CHECK(lb3.runtime_api.port == 0);
  CHECK(lb3.runtime_api.path == "/run/haproxy/admin.sock");
  CHECK(lb3.runtime_api.ssh.known_hosts == "/etc/lbctl/known_hosts");
  CHECK(lb3.runtime_api.ssh.identity_file == "/etc/lbctl/id_ed25519");
  CHECK(lb3.runtime_api.ssh.command == std::vector<std::string>{"socat", "STDIO", "UNIX-CONNECT:{socket}"});
  CHECK(lb3.runtime_api.ssh.program == "ssh");
  REQUIRE(lb3.master_api.has_value());
  CHECK(lb3.master_api->to_string() == "ssh://lbctl@lb3.internal/run/haproxy-master.sock");
  CHECK(lb3.master_api->ssh.known_hosts == "/etc/lbctl/known_hosts");
  REQUIRE(lb3.persist.has_value());
  CHECK(lb3.persist->remote());
  CHECK(lb3.persist->carries_any_file());
  CHECK(lb3.persist->file == "/etc/haproxy/haproxy.cfg");
  CHECK(lb3.persist->read.back() == "{file}");
  CHECK(std::vector<std::string>(lb3.persist->write.end() - 3, lb3.persist->write.end()) ==
        std::vector<std::string>{"sudo", "/usr/local/sbin/lbctl-install-file", "{file}"});

  const auto& lb4 = config.load_balancers[3];
  CHECK(lb4.name == "lb4");
  CHECK(lb4.runtime_api.kind == RuntimeApiAddress::Kind::tls);
  CHECK(lb4.runtime_api.host == "lb4.internal");
  CHECK(lb4.runtime_api.port == 9443);
  CHECK(lb4.runtime_api.tls.ca_file == "/etc/lbctl/tls/lb-ca.crt");
  CHECK(lb4.runtime_api.tls.cert_file == "/etc/lbctl/tls/lbctl.crt");
  CHECK(lb4.runtime_api.tls.key_file == "/etc/lbctl/tls/lbctl.key");
  CHECK(lb4.runtime_api.tls.server_name == "lb4.internal");
  REQUIRE(lb4.master_api.has_value());
  CHECK(lb4.master_api->to_string() == "tls://lb4.internal:9444");
  CHECK(lb4.master_api->tls.ca_file == "/etc/lbctl/tls/lb-ca.crt");
  REQUIRE(lb4.persist.has_value());
  CHECK(lb4.persist->remote());
  CHECK(lb4.persist->carries_any_file());
  // Every LB persisted and seen through its master CLI: validate has nothing to warn about.
  CHECK(config_warnings(config).empty());
  CHECK(config.old_pool.discover);
  CHECK_FALSE(config.new_pool.count.has_value());
  CHECK(config.new_pool.name_prefix == "{release}-");
  CHECK(config.new_pool.server_options == "check inter 1s fall 2 rise 2");
  CHECK(config.provider.type == ProviderConfig::Type::local);
  CHECK(config.provider.host == "127.0.0.1");
  CHECK(config.provider.command.at(5) == "{host}");
  CHECK(config.provider.port_min == 18300);
  CHECK(config.provider.port_max == 18399);
  CHECK(config.provider.base_dir == "/var/lib/lbctl/servers");
  CHECK(config.health.database_path == "/health/db");
  CHECK(config.health.interval == 500ms);
  CHECK(config.health.deadline == 5min);
  CHECK(config.drain.timeout == 30min);
  REQUIRE(config.migrations.has_value());
  CHECK(config.migrations->dir == k_example.parent_path() / "db" / "migrations");
  CHECK(config.migrations->lock_wait == 1min);
  REQUIRE(config.migrations->backup.has_value());
  CHECK(config.migrations->backup->dir == "/var/backups/lbctl");
  CHECK(config.terminate_delay == 0ms);
  CHECK(config.min_healthy == 1);
  CHECK(config.stages.empty());
  CHECK_FALSE(config.maintenance.has_value());
}

TEST_CASE("every commented-out section of the example is valid once uncommented", "[config]") {
  const Config config = parse_config(uncomment_optional_sections(read_file(k_example)), k_example);
  REQUIRE(config.stages.size() == 2);
  CHECK(config.stages[0].weight_percent == 10);
  CHECK(config.stages[0].hold == 2min);
  CHECK(config.stages[0].max_5xx_ratio == 0.01);
  CHECK_FALSE(config.stages[1].max_5xx_ratio.has_value());
  CHECK(config.hooks.before_attach.has_value());
  CHECK(config.hooks.after_attach.has_value());
  CHECK(config.hooks.before_drain.has_value());
  CHECK(config.hooks.after_detach.has_value());
  CHECK(config.hooks.after_post_migrate.has_value());
  CHECK(config.hooks.after_cutover.has_value());
  CHECK(config.hooks.on_rollback.has_value());
  REQUIRE(config.notifications.webhooks.size() == 1);
  CHECK(config.notifications.webhooks[0].events == std::vector<std::string>{"started", "failed", "rolled_back", "completed"});
  REQUIRE(config.maintenance.has_value());
  CHECK(config.maintenance->map == "/etc/haproxy/maintenance.map");
  CHECK(config.maintenance->duration == 30min);
}

TEST_CASE("keys left out take the documented defaults", "[config]") {
  const Config config = load_minimal_with("");
  CHECK(config.load_balancers[0].timeout == 5s);
  CHECK(config.old_pool.discover);
  CHECK_FALSE(config.new_pool.count.has_value());
  CHECK(config.new_pool.name_prefix == "{release}-");
  CHECK(config.new_pool.server_options == "check inter 1s fall 2 rise 2");
  CHECK(config.health.path == "/health-check.html");
  CHECK(config.health.expect_status == 200);
  CHECK(config.health.rise == 2);
  CHECK(config.drain.method == DrainConfig::Method::health_file);
  CHECK(config.drain.on_timeout == DrainConfig::OnTimeout::abort);
  CHECK(config.drain.poll == 1s);
  CHECK_FALSE(config.migrations.has_value());
  CHECK(config.min_healthy == 1);
  CHECK(config.mode == CutoverMode::blue_green);
  CHECK(config.notifications.webhooks.empty());
}

TEST_CASE("a key written without a value takes its default", "[config]") {
  const Config config = load_minimal_with("health:\n  rise:\n  expect_status: ~\nstages:\n");
  CHECK(config.health.rise == 2);
  CHECK(config.health.expect_status == 200);
  CHECK(config.stages.empty());
}

TEST_CASE("relative paths are resolved against the config file's folder", "[config]") {
  const Config config = parse_config(R"(service: shop
state: {database_url: x}
load_balancers:
  - {name: lb1, runtime_api: "unix:run/admin.sock", backend: app}
  - {name: lb2, runtime_api: "unix:/run/haproxy/admin.sock", backend: app}
provider: {type: local, command: [app], ports: "1000-1010", base_dir: servers}
migrations:
  database_url: x
  dir: ../db/migrations
  backup: {command: [pg_dump], dir: ./backups}
)",
                                     "/etc/lbctl/shop.yaml");
  CHECK(config.load_balancers[0].runtime_api.path == "/etc/lbctl/run/admin.sock");
  CHECK(config.load_balancers[1].runtime_api.path == "/run/haproxy/admin.sock");
  CHECK(config.provider.base_dir == "/etc/lbctl/servers");
  CHECK(config.migrations->dir == "/etc/db/migrations");
  CHECK(config.migrations->backup->dir == "/etc/lbctl/backups");
}

TEST_CASE("LBCTL_STATE_DATABASE_URL overrides state.database_url", "[config]") {
  ScopedEnv env("LBCTL_STATE_DATABASE_URL", "postgres://lbctl:FROM_ENV@db/lbctl");
  CHECK(load_minimal_with("").state_database_url == "postgres://lbctl:FROM_ENV@db/lbctl");
}

TEST_CASE("LBCTL_STATE_DATABASE_URL lets the file leave state out", "[config]") {
  ScopedEnv env("LBCTL_STATE_DATABASE_URL", "dbname=from_env");
  const std::string without_state = "service: shop\n" + k_minimal_config.substr(k_minimal_config.find("load_balancers"));
  CHECK(parse_config(without_state, "shop.yaml").state_database_url == "dbname=from_env");
}

TEST_CASE("LBCTL_MIGRATIONS_DATABASE_URL overrides migrations.database_url", "[config]") {
  ScopedEnv env("LBCTL_MIGRATIONS_DATABASE_URL", "postgres://app:FROM_ENV@db/app");
  const Config config = load_minimal_with("migrations: {database_url: \"dbname=file\", dir: m}\n");
  CHECK(config.migrations->database_url == "postgres://app:FROM_ENV@db/app");
}

TEST_CASE("LBCTL_MIGRATIONS_DATABASE_URL lets migrations leave database_url out", "[config]") {
  ScopedEnv env("LBCTL_MIGRATIONS_DATABASE_URL", "dbname=from_env");
  CHECK(load_minimal_with("migrations: {dir: m}\n").migrations->database_url == "dbname=from_env");
}

TEST_CASE("LBCTL_MIGRATIONS_DATABASE_URL alone does not turn migrations on", "[config]") {
  ScopedEnv env("LBCTL_MIGRATIONS_DATABASE_URL", "dbname=from_env");
  CHECK_FALSE(load_minimal_with("").migrations.has_value());
}

TEST_CASE("placeholders in argv lists are kept verbatim", "[config]") {
  const Config config = parse_config(k_config_head + k_one_lb + R"(provider:
  type: exec
  clone: ["clone", "--from", "{template}", "--name", "{name}", "{service}"]
  terminate: ["terminate", "{name}", "{address}"]
  remove_health_file: ["ssh", "{host}", "rm", "/srv/{port}/health"]
  restore_health_file: ["ssh", "{host}", "touch", "/srv/{port}/health"]
migrations:
  database_url: x
  dir: m
  backup: {command: [pg_dump, "{database_url}", "{backup_dir}/{service}-{cutover_id}-{timestamp}.dump"], dir: b}
)",
                                     "shop.yaml");
  CHECK(config.provider.clone == std::vector<std::string>{"clone", "--from", "{template}", "--name", "{name}", "{service}"});
  CHECK(config.provider.terminate == std::vector<std::string>{"terminate", "{name}", "{address}"});
  CHECK(config.provider.remove_health_file[1] == "{host}");
  CHECK(config.migrations->backup->command ==
        std::vector<std::string>{"pg_dump", "{database_url}", "{backup_dir}/{service}-{cutover_id}-{timestamp}.dump"});
}

TEST_CASE("an exec provider draining through haproxy needs no health file commands", "[config]") {
  const Config config = parse_config(k_config_head + k_one_lb +
                                         "provider: {type: exec, clone: [a], terminate: [b], timeout: 2m}\n"
                                         "drain: {method: haproxy}\n",
                                     "shop.yaml");
  CHECK(config.provider.type == ProviderConfig::Type::exec);
  CHECK(config.provider.timeout == 2min);
  CHECK(config.provider.remove_health_file.empty());
}

TEST_CASE("a hook may be an argv list or a map with its own timeout", "[config]") {
  const Config config = load_minimal_with("hooks:\n  before_drain: [systemctl, stop, workers]\n"
                                          "  after_cutover: {command: [systemctl, start, workers], timeout: 2m}\n");
  REQUIRE(config.hooks.before_drain.has_value());
  CHECK(config.hooks.before_drain->argv == std::vector<std::string>{"systemctl", "stop", "workers"});
  CHECK(config.hooks.before_drain->timeout == 60s);
  REQUIRE(config.hooks.after_cutover.has_value());
  CHECK(config.hooks.after_cutover->timeout == 2min);
  CHECK_FALSE(config.hooks.on_rollback.has_value());
}

TEST_CASE("an old pool given as servers turns discovery off", "[config]") {
  const Config config = parse_config(k_config_head + k_one_lb +
                                         "provider: {type: static, servers: [{name: v2-1, address: \"[::1]:8201\"}]}\n"
                                         "old_pool:\n  servers:\n    - {name: app-1, address: \"app1.internal:8080\"}\n",
                                     "shop.yaml");
  CHECK_FALSE(config.old_pool.discover);
  REQUIRE(config.old_pool.servers.size() == 1);
  CHECK(config.old_pool.servers[0].address == "app1.internal:8080");
  CHECK(config.provider.servers[0].address == "[::1]:8201");
}

TEST_CASE("zero durations are accepted where they mean at once", "[config]") {
  const Config config = parse_config(k_config_head + k_one_lb +
                                         "provider: {type: local, command: [a], ports: \"2000\", base_dir: d, "
                                         "stop_grace: 0s}\n"
                                         "drain: {timeout: 0s, on_timeout: force}\nterminate: {delay: 0s}\n"
                                         "stages: [{weight_percent: 100, hold: 0s}]\n"
                                         "migrations: {database_url: x, dir: m, lock_wait: 0s, max_retries: 0}\n",
                                     "shop.yaml");
  CHECK(config.provider.stop_grace == 0ms);
  CHECK(config.provider.port_min == 2000);
  CHECK(config.provider.port_max == 2000);
  CHECK(config.drain.timeout == 0ms);
  CHECK(config.drain.on_timeout == DrainConfig::OnTimeout::force);
  CHECK(config.stages[0].hold == 0ms);
  CHECK(config.migrations->lock_wait == 0ms);
}

TEST_CASE("new_pool.cookie is kept as a rule and gives each new server its own cookie", "[config][cookie]") {
  const auto config = load_minimal_with("new_pool: {name_prefix: \"{release}-\", cookie: \"s.{name}\"}\n");
  CHECK(config.new_pool.cookie == "s.{name}");
  CHECK(cookie_of(config.new_pool.cookie, "2026.12.06-3") == "s.2026.12.06-3");
  CHECK(load_minimal_with("new_pool: {count: 1}\n").new_pool.cookie.empty());
  CHECK(cookie_of("", "v2-1").empty());
}

TEST_CASE("a count given as an integer is kept", "[config]") {
  CHECK(load_minimal_with("new_pool: {count: 1, name_prefix: green-}\n").new_pool.count == 1);
}

TEST_CASE("the summary names the service, load balancers, pools, provider, drain and migrations", "[config]") {
  NoUrlOverrides no_overrides;
  CHECK(summarize(load_config(k_example)) ==
        "shop: 4 load balancers (lb1 app, lb2 app, lb3 app, lb4 app), old pool discovered, new pool match_old x "
        "{release}-, provider local, drain health_file, migrations on");
}

TEST_CASE("the summary counts stages, hooks, webhooks and the maintenance map", "[config]") {
  const Config config = parse_config(uncomment_optional_sections(read_file(k_example)), k_example);
  CHECK(summarize(config) ==
        "shop: 4 load balancers (lb1 app, lb2 app, lb3 app, lb4 app), old pool discovered, new pool match_old x "
        "{release}-, provider local, drain health_file, migrations on, 2 stages, manual promotion, 7 hooks, 1 webhook, "
        "maintenance map set");
}

TEST_CASE("the summary of a static pool says how many servers it lists", "[config]") {
  CHECK(summarize(load_minimal_with("old_pool: {servers: [{name: a1, address: \"127.0.0.1:80\"}]}\nmode: maintenance\n"
                                    "maintenance: {map: /m.map}\n")) ==
        "shop: 1 load balancer (lb1 app), old pool 1 server, new pool match_old of 1 static, provider static, drain "
        "health_file, migrations off, mode maintenance, maintenance map set");
}

TEST_CASE("the summary never shows a database or webhook URL", "[config]") {
  const std::string summary = summarize(load_minimal_with(
      "migrations: {database_url: \"postgres://app:SECRET@db/app\", dir: m}\n"
      "notifications: {webhooks: [{url: \"https://hooks.example.com/SECRET\"}]}\n"));
  CHECK(summary.find("SECRET") == std::string::npos);
  CHECK(summary.find("postgres") == std::string::npos);
  CHECK(summary.find("hooks.example.com") == std::string::npos);
}

TEST_CASE("load_config reads a file and names it as given in errors", "[config]") {
  TempDir dir;
  const auto good = dir.write("good.yaml", k_minimal_config);
  CHECK(load_config(good).service == "shop");
  CHECK(load_config(good).file == good);
  const auto bad = dir.write("bad.yaml", k_minimal_config + "mode: canary\n");
  CHECK_THROWS_WITH(load_config(bad), bad.string() + ":8:7: mode: \"canary\" is not a mode; expected blue_green or maintenance");
}

TEST_CASE("load_config of a missing file says it cannot be read", "[config]") {
  CHECK_THROWS_WITH(load_config("/no/such/lbctl.yaml"),
                    "/no/such/lbctl.yaml: cannot read the config file: No such file or directory");
}

TEST_CASE("load_config of a folder says it is a folder", "[config]") {
  TempDir dir;
  CHECK_THROWS_WITH(load_config(dir.path()), dir.path().string() + ": is a folder; expected a config file (YAML)");
}
