// health, drain, migrations, stages, hooks, notifications, maintenance: every
// error names FILE:LINE:COLUMN and the key. Text appended to the minimal config
// starts on line 8.

#include "tests/support/catch.hpp"

#include "tests/unit/lbctl/config/config_test_support.hpp"

using namespace lbctl::test;

TEST_CASE("a health path that does not start with a slash is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "health: {path: health-check.html}\n") ==
        "shop.yaml:8:16: health.path: \"health-check.html\" is not an HTTP path; expected one starting with / and "
        "without spaces");
}

TEST_CASE("a health database_path with a space is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "health: {database_path: \"/health/db x\"}\n") ==
        "shop.yaml:8:25: health.database_path: \"/health/db x\" is not an HTTP path; expected one starting with / "
        "and without spaces");
}

TEST_CASE("an expect_status below 100 is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "health: {expect_status: 99}\n") ==
        "shop.yaml:8:25: health.expect_status: 99 is out of range; expected an integer 100-599");
}

TEST_CASE("an expect_status above 599 is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "health: {expect_status: 600}\n") ==
        "shop.yaml:8:25: health.expect_status: 600 is out of range; expected an integer 100-599");
}

TEST_CASE("a rise of zero is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "health:\n  rise: 0\n") ==
        "shop.yaml:9:9: health.rise: 0 is out of range; expected an integer 1-1000");
}

TEST_CASE("a rise that is not an integer is a type error", "[config]") {
  CHECK(config_error(k_minimal_config + "health:\n  rise: two\n") ==
        "shop.yaml:9:9: health.rise: expected an integer 1-1000, got \"two\"");
}

TEST_CASE("an unknown drain method is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "drain: {method: drain_file}\n") ==
        "shop.yaml:8:17: drain.method: \"drain_file\" is not a drain method; expected health_file or haproxy");
}

TEST_CASE("an unknown on_timeout is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "drain: {on_timeout: kill}\n") ==
        "shop.yaml:8:21: drain.on_timeout: \"kill\" is not an on_timeout action; expected abort or force");
}

TEST_CASE("a drain poll of zero is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "drain: {poll: 0s}\n") ==
        "shop.yaml:8:15: drain.poll: must be more than 0; expected a duration like 100ms, 2s, 5m or 1h");
}

TEST_CASE("migrations without database_url are refused when no override is set", "[config]") {
  NoUrlOverrides no_overrides;
  CHECK(config_error(k_minimal_config + "migrations:\n  dir: db/migrations\n") ==
        "shop.yaml:9:3: migrations.database_url: missing; expected the application database's connection string (or "
        "set LBCTL_MIGRATIONS_DATABASE_URL)");
}

TEST_CASE("migrations without dir are refused", "[config]") {
  CHECK(config_error(k_minimal_config + "migrations:\n  database_url: \"postgres://app:SECRET@db/app\"\n") ==
        "shop.yaml:9:3: migrations.dir: missing; expected the folder holding pre/ and post/");
}

TEST_CASE("a migrations lock_timeout of zero is refused, since Postgres reads it as no limit", "[config]") {
  CHECK(config_error(k_minimal_config + "migrations: {database_url: x, dir: m, lock_timeout: 0s}\n") ==
        "shop.yaml:8:53: migrations.lock_timeout: must be more than 0; expected a duration like 100ms, 2s, 5m or 1h");
}

TEST_CASE("a negative max_retries is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "migrations: {database_url: x, dir: m, max_retries: -1}\n") ==
        "shop.yaml:8:52: migrations.max_retries: -1 is out of range; expected an integer 0-100");
}

TEST_CASE("a backup without command is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "migrations:\n  database_url: x\n  dir: m\n  backup: {dir: /var/backups}\n") ==
        "shop.yaml:11:11: migrations.backup.command: missing; expected the backup's argv, like [\"pg_dump\", ...]");
}

TEST_CASE("a placeholder typo in the backup command is refused at its item", "[config]") {
  CHECK(config_error(k_minimal_config + "migrations:\n  database_url: x\n  dir: m\n"
                                        "  backup: {dir: b, command: [pg_dump, \"{database}\"]}\n") ==
        "shop.yaml:11:39: migrations.backup.command[1]: unknown placeholder {database}; expected one of {backup_dir} "
        "{service} {cutover_id} {database_url} {timestamp} {release}");
}

TEST_CASE("a backup without dir is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "migrations:\n  database_url: x\n  dir: m\n  backup: {command: [pg_dump]}\n") ==
        "shop.yaml:11:11: migrations.backup.dir: missing; expected the folder for backup files");
}

TEST_CASE("a stage weight of zero is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "stages:\n  - {weight_percent: 0}\n") ==
        "shop.yaml:9:22: stages[0].weight_percent: 0 is out of range; expected an integer 1-100");
}

TEST_CASE("a stage weight above 100 is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "stages:\n  - {weight_percent: 101}\n") ==
        "shop.yaml:9:22: stages[0].weight_percent: 101 is out of range; expected an integer 1-100");
}

TEST_CASE("a stage without weight_percent is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "stages:\n  - {hold: 1m}\n") ==
        "shop.yaml:9:5: stages[0].weight_percent: missing; expected the new pool's share, 1-100");
}

TEST_CASE("a stage hold that is not a duration is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "stages:\n  - {weight_percent: 10, hold: soon}\n") ==
        "shop.yaml:9:32: stages[0].hold: expected a duration like 100ms, 2s, 5m or 1h, got \"soon\"");
}

TEST_CASE("a max_5xx_ratio above 1 is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "stages:\n  - {weight_percent: 10, max_5xx_ratio: 1.5}\n") ==
        "shop.yaml:9:41: stages[0].max_5xx_ratio: 1.5 is out of range; expected a number from 0 to 1");
}

TEST_CASE("a max_5xx_ratio that is not a number is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "stages:\n  - {weight_percent: 10, max_5xx_ratio: 1%}\n") ==
        "shop.yaml:9:41: stages[0].max_5xx_ratio: expected a number from 0 to 1, got \"1%\"");
}

TEST_CASE("stages given as a map is a type error", "[config]") {
  CHECK(config_error(k_minimal_config + "stages: {weight_percent: 10}\n") ==
        "shop.yaml:8:9: stages: expected a list, got a map");
}

TEST_CASE("an unknown hook is refused with the closest known one", "[config]") {
  CHECK(config_error(k_minimal_config + "hooks:\n  before_detach: [x]\n") ==
        "shop.yaml:9:3: hooks.before_detach: unknown key; did you mean before_attach? (expected one of: before_attach, "
        "after_attach, before_drain, after_detach, after_post_migrate, after_cutover, on_rollback)");
}

TEST_CASE("an empty hook argv is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "hooks:\n  on_rollback: []\n") ==
        "shop.yaml:9:16: hooks.on_rollback: must not be empty; expected a list of text: a program and its arguments, "
        "like [\"prog\", \"--flag\"]");
}

TEST_CASE("a hook given as one string is a type error", "[config]") {
  CHECK(config_error(k_minimal_config + "hooks:\n  on_rollback: \"page-oncall --now\"\n") ==
        "shop.yaml:9:16: hooks.on_rollback: expected an argv list, or a map {command, timeout}, got text");
}

TEST_CASE("a hook map without command is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "hooks:\n  on_rollback: {timeout: 30s}\n") ==
        "shop.yaml:9:16: hooks.on_rollback.command: missing; expected the hook's argv, a list of text");
}

TEST_CASE("a hook map with an unknown key is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "hooks:\n  on_rollback: {command: [x], env: {A: b}}\n") ==
        "shop.yaml:9:31: hooks.on_rollback.env: unknown key (expected one of: command, timeout)");
}

TEST_CASE("a webhook URL that is not http or https is refused without being shown", "[config]") {
  const std::string message =
      config_error(k_minimal_config + "notifications:\n  webhooks:\n    - url: \"ftp://hooks.example.com/SECRET\"\n");
  CHECK(message == "shop.yaml:10:12: notifications.webhooks[0].url: is not an http:// or https:// URL without spaces "
                   "(its value is not shown: it is a secret)");
  CHECK(message.find("SECRET") == std::string::npos);
}

TEST_CASE("a webhook without url is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "notifications:\n  webhooks:\n    - events: [failed]\n") ==
        "shop.yaml:10:7: notifications.webhooks[0].url: missing; expected the receiver's http:// or https:// URL");
}

TEST_CASE("an unknown webhook event is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "notifications:\n  webhooks:\n    - url: https://h.example/x\n"
                                        "      events: [started, finished]\n") ==
        "shop.yaml:11:25: notifications.webhooks[0].events[1]: \"finished\" is not an event; expected some of started, "
        "step, promotion, failed, rolled_back, completed");
  // timeout is the webhook's own key, not an event.
  CHECK(config_error(k_minimal_config + "notifications:\n  webhooks:\n    - url: https://h.example/x\n"
                                        "      events: [timeout]\n")
            .find("\"timeout\" is not an event") != std::string::npos);
}

TEST_CASE("an empty webhook event list is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "notifications:\n  webhooks:\n    - url: https://h.example/x\n"
                                        "      events: []\n") ==
        "shop.yaml:11:15: notifications.webhooks[0].events: is empty, so nothing would be sent; leave events out to "
        "send every event");
}

TEST_CASE("a maintenance section without map is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "maintenance:\n  message: back soon\n") ==
        "shop.yaml:9:3: maintenance.map: missing; expected the path of the HAProxy map the frontend consults");
}

TEST_CASE("a maintenance map path that could break a runtime API command is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "maintenance: {map: \"/etc/haproxy/m.map;clear map\"}\n") ==
        "shop.yaml:8:20: maintenance.map: \"/etc/haproxy/m.map;clear map\" is not a usable map path; expected "
        "characters from [A-Za-z0-9._/-], like /etc/haproxy/maintenance.map");
}

TEST_CASE("a maintenance message on two lines is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "maintenance: {map: /m.map, message: \"back\\nsoon\"}\n") ==
        "shop.yaml:8:37: maintenance.message: expected one line of printable text, at most 500 bytes");
}

TEST_CASE("a maintenance duration that is not a duration is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "maintenance: {map: /m.map, duration: half an hour}\n") ==
        "shop.yaml:8:38: maintenance.duration: expected a duration like 100ms, 2s, 5m or 1h, got \"half an hour\"");
}

TEST_CASE("drain.idle: a duration in whole seconds, shorter than drain.timeout, and 0 or absent is off", "[config][sticky]") {
  CHECK(lbctl::parse_config(k_minimal_config + "drain: {idle: 30s}\n", "shop.yaml").drain.idle == std::chrono::seconds(30));
  CHECK(lbctl::parse_config(k_minimal_config, "shop.yaml").drain.idle.count() == 0);
  CHECK(lbctl::parse_config(k_minimal_config + "drain: {idle: 0s}\n", "shop.yaml").drain.idle.count() == 0);
  CHECK(config_error(k_minimal_config + "drain: {idle: 10m, timeout: 10m}\n") ==
        "shop.yaml:8:15: drain.idle: 10m is not shorter than drain.timeout (10m): no old server with a sticky user "
        "could ever count as drained");
  CHECK(config_error(k_minimal_config + "drain: {idle: 1500ms}\n") ==
        "shop.yaml:8:15: drain.idle: 1500ms: HAProxy counts the time since a server's last session in whole "
        "seconds; give whole seconds");
}
