// The whole document and its top-level keys: every error names FILE:LINE:COLUMN and the key.

#include "tests/support/catch.hpp"

#include "tests/unit/lbctl/config/config_test_support.hpp"

using lbctl::test::config_error;
using lbctl::test::k_minimal_config;

namespace {

// k_minimal_config without its line `number` (1-based).
std::string minimal_without_line(int number) {
  std::string out;
  std::size_t start = 0;
  for (int line = 1; start < k_minimal_config.size(); ++line) {
    const std::size_t end = k_minimal_config.find('\n', start) + 1;
    if (line != number) out += k_minimal_config.substr(start, end - start);
    start = end;
  }
  return out;
}

}  // namespace

TEST_CASE("the minimal config used by these tests loads", "[config]") {
  CHECK(config_error(k_minimal_config) == "(loaded)");
}

TEST_CASE("malformed YAML is reported at the position yaml-cpp gives", "[config]") {
  CHECK(config_error(k_minimal_config + "health: rise: 2\n") == "shop.yaml:8:13: malformed YAML: illegal map value");
}

TEST_CASE("a file without settings is an error at its start", "[config]") {
  CHECK(config_error("# nothing but a comment\n") ==
        "shop.yaml:1:1: the file holds no settings; expected a map with service, state, load_balancers and provider");
}

TEST_CASE("a second YAML document in the file is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "---\nservice: other\n") ==
        "shop.yaml:9:1: a second YAML document (after ---); expected the config as one document");
}

TEST_CASE("a document that is a list instead of a map is refused", "[config]") {
  CHECK(config_error("- service\n- shop\n") == "shop.yaml:1:1: expected a map of keys, got a list");
}

TEST_CASE("an unknown top-level key is named, with the closest known key", "[config]") {
  CHECK(config_error(k_minimal_config + "helth:\n  rise: 2\n") ==
        "shop.yaml:8:1: helth: unknown key; did you mean health? (expected one of: service, release, state, mode, "
        "load_balancers, old_pool, new_pool, provider, health, drain, migrations, terminate, min_healthy, stages, "
        "promotion, analysis, hooks, notifications, maintenance)");
}

TEST_CASE("an unknown key inside a section is named with its section", "[config]") {
  CHECK(config_error(k_minimal_config + "drain:\n  method: haproxy\n  pol: 1s\n") ==
        "shop.yaml:10:3: drain.pol: unknown key; did you mean poll? (expected one of: method, poll, timeout, "
        "on_timeout, idle)");
}

TEST_CASE("an unknown key inside a list item is named with the item's index", "[config]") {
  CHECK(config_error(k_minimal_config + "stages:\n  - {weight_percent: 10, hold: 1m}\n  - {weight_percent: 100, "
                                        "max_5xx: 0.1}\n") ==
        "shop.yaml:10:27: stages[1].max_5xx: unknown key (expected one of: weight_percent, hold, max_5xx_ratio)");
}

TEST_CASE("an unknown key that looks nothing like a known one gets no suggestion", "[config]") {
  CHECK(config_error(k_minimal_config + "terminate: {wait_for: 1m}\n") ==
        "shop.yaml:8:13: terminate.wait_for: unknown key (expected one of: delay)");
}

TEST_CASE("a key given twice is refused and the first one's line named", "[config]") {
  CHECK(config_error(k_minimal_config + "min_healthy: 1\nmin_healthy: 2\n") ==
        "shop.yaml:9:1: min_healthy: given twice (first on line 8)");
}

TEST_CASE("a map where text is expected is a type error", "[config]") {
  CHECK(config_error(k_minimal_config + "health:\n  path: {a: 1}\n") ==
        "shop.yaml:9:9: health.path: expected text, got a map");
}

TEST_CASE("a list where a map is expected is a type error", "[config]") {
  CHECK(config_error(k_minimal_config + "drain: [health_file]\n") ==
        "shop.yaml:8:8: drain: expected a map of keys, got a list");
}

TEST_CASE("a bad duration names the key and the forms accepted", "[config]") {
  CHECK(config_error(k_minimal_config + "drain:\n  poll: 1 second\n") ==
        "shop.yaml:9:9: drain.poll: expected a duration like 100ms, 2s, 5m or 1h, got \"1 second\"");
}

TEST_CASE("a duration without a unit says that a unit is needed", "[config]") {
  CHECK(config_error(k_minimal_config + "terminate: {delay: 30}\n") ==
        "shop.yaml:8:20: terminate.delay: expected a duration like 100ms, 2s, 5m or 1h, got \"30\" (a number needs "
        "a unit: ms, s, m or h)");
}

TEST_CASE("a fractional duration is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "drain: {timeout: 1.5h}\n") ==
        "shop.yaml:8:18: drain.timeout: expected a duration like 100ms, 2s, 5m or 1h, got \"1.5h\"");
}

TEST_CASE("a zero timeout is refused where zero would mean never waiting", "[config]") {
  CHECK(config_error(k_minimal_config + "health: {timeout: 0s}\n") ==
        "shop.yaml:8:19: health.timeout: must be more than 0; expected a duration like 100ms, 2s, 5m or 1h");
}

TEST_CASE("a service name outside [A-Za-z0-9._-] is refused", "[config]") {
  const std::string text = "service: shop;rm\n" + minimal_without_line(1);
  CHECK(config_error(text) ==
        "shop.yaml:1:10: service: \"shop;rm\" is not a valid name; expected 1-64 characters from [A-Za-z0-9._-]");
}

TEST_CASE("a missing service is reported at the top of the document", "[config]") {
  CHECK(config_error(minimal_without_line(1)) ==
        "shop.yaml:1:1: service: missing; expected the service's name, which names its lock and history");
}

TEST_CASE("a state section without database_url is refused when no override is set", "[config]") {
  lbctl::test::NoUrlOverrides no_overrides;
  const std::string text = "service: shop\nstate: {}\n" + minimal_without_line(1).substr(minimal_without_line(1).find("load_balancers"));
  CHECK(config_error(text) == "shop.yaml:2:8: state.database_url: missing; expected the state database's connection "
                              "string (or set LBCTL_STATE_DATABASE_URL)");
}

TEST_CASE("a config without state is refused when no override is set", "[config]") {
  lbctl::test::NoUrlOverrides no_overrides;
  CHECK(config_error(minimal_without_line(2)) == "shop.yaml:1:1: state.database_url: missing; expected the state "
                                                 "database's connection string (or set LBCTL_STATE_DATABASE_URL)");
}

TEST_CASE("a database URL of the wrong type is refused without being shown", "[config]") {
  const std::string text = "service: shop\nstate: {database_url: {password: SECRET}}\n" +
                           minimal_without_line(1).substr(minimal_without_line(1).find("load_balancers"));
  const std::string message = config_error(text);
  CHECK(message == "shop.yaml:2:23: state.database_url: expected a connection string, got a map");
  CHECK(message.find("SECRET") == std::string::npos);
}

TEST_CASE("a missing load_balancers is reported at the top of the document", "[config]") {
  const std::string text = k_minimal_config.substr(0, k_minimal_config.find("load_balancers")) +
                           k_minimal_config.substr(k_minimal_config.find("provider"));
  CHECK(config_error(text) == "shop.yaml:1:1: load_balancers: missing; expected a list of {name, runtime_api, backend}");
}

TEST_CASE("a missing provider is reported at the top of the document", "[config]") {
  const std::string text = k_minimal_config.substr(0, k_minimal_config.find("provider"));
  CHECK(config_error(text) == "shop.yaml:1:1: provider: missing; expected a map with type: local, exec or static");
}

TEST_CASE("an unknown mode is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "mode: canary\n") ==
        "shop.yaml:8:7: mode: \"canary\" is not a mode; expected blue_green or maintenance");
}

TEST_CASE("maintenance mode without a maintenance map is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "mode: maintenance\n") ==
        "shop.yaml:8:7: mode: maintenance needs the maintenance section with its map; expected maintenance.map");
}

TEST_CASE("a negative min_healthy is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "min_healthy: -1\n") ==
        "shop.yaml:8:14: min_healthy: -1 is out of range; expected an integer >= 0");
}

TEST_CASE("a min_healthy that is not an integer is a type error", "[config]") {
  CHECK(config_error(k_minimal_config + "min_healthy: one\n") ==
        "shop.yaml:8:14: min_healthy: expected an integer >= 0, got \"one\"");
}

TEST_CASE("an unprintable value is escaped in the message", "[config]") {
  CHECK(config_error(k_minimal_config + "mode: \"blue\\ngreen\"\n") ==
        "shop.yaml:8:7: mode: \"blue\\x0agreen\" is not a mode; expected blue_green or maintenance");
}

TEST_CASE("the file name in messages is the one given", "[config]") {
  try {
    lbctl::parse_config(k_minimal_config + "mode: canary\n", "../etc/lbctl/prod.yaml");
    FAIL("expected a ConfigError");
  } catch (const lbctl::ConfigError& e) {
    CHECK(std::string(e.what()).starts_with("../etc/lbctl/prod.yaml:8:7: mode: "));
  }
}

TEST_CASE("a required key written without a value says it got nothing", "[config]") {
  CHECK(config_error(k_minimal_config + "old_pool:\n  servers:\n    - name:\n      address: \"127.0.0.1:80\"\n") ==
        "shop.yaml:10:7: old_pool.servers[0].name: expected a name of 1-64 characters from [A-Za-z0-9._-], got "
        "nothing");
}

TEST_CASE("load_balancers written without a value is a type error", "[config]") {
  const std::string text = k_minimal_config.substr(0, k_minimal_config.find("  - {name: lb1")) +
                           k_minimal_config.substr(k_minimal_config.find("provider"));
  CHECK(config_error(text) == "shop.yaml:3:1: load_balancers: expected a list, got nothing");
}

TEST_CASE("an empty key is shown quoted", "[config]") {
  CHECK(config_error(k_minimal_config + "drain: {\"\": 1}\n") ==
        "shop.yaml:8:9: drain.\"\": unknown key (expected one of: method, poll, timeout, on_timeout, idle)");
}

TEST_CASE("a NUL byte is refused at its place, not taken as the end of the file", "[config]") {
  // yaml-cpp reads "shop" and stops at the NUL, dropping what follows.
  CHECK(config_error(k_minimal_config + std::string("min_healthy: 1\0\nstages: nonsense\n", 33)) ==
        "shop.yaml:8:15: a NUL byte: a config file is text");
}

TEST_CASE("a stray comma line is an error, not an endless run of empty documents", "[config]") {
  // yaml-cpp 0.7's LoadAll never returns on these (found by the config fuzz target).
  CHECK(config_error("\n,\n    ") ==
        "shop.yaml:2:1: a second YAML document (after ---); expected the config as one document");
  CHECK(config_error(k_minimal_config + ",\n") == "shop.yaml:8:1: malformed YAML: end of map not found");
}

TEST_CASE("old_pool.exclude takes names and globs, only with discovery", "[config]") {
  CHECK(config_error(k_minimal_config + "old_pool:\n  exclude: [sorry, \"canary;rm\"]\n") ==
        "shop.yaml:9:20: old_pool.exclude[1]: expected a server name or a glob of one (letters, digits, '.', '_', '-', "
        "'*', '?'; at most 64 characters), got \"canary;rm\"");
  CHECK(config_error(k_minimal_config +
                     "old_pool:\n  servers: [{name: a, address: \"127.0.0.1:80\"}]\n  exclude: [a]\n") ==
        "shop.yaml:10:12: old_pool.exclude: only with discover: true (a servers list already names the old pool)");
}

TEST_CASE("state.reconnect_timeout is a positive duration", "[config]") {
  CHECK(config_error(R"(service: shop
state: {database_url: "postgres://x@db/lbctl", reconnect_timeout: 0s}
load_balancers:
  - {name: lb1, runtime_api: "unix:/run/haproxy/admin.sock", backend: app}
provider:
  type: static
  servers: [{name: v2-1, address: "127.0.0.1:8201"}]
)") == "shop.yaml:2:67: state.reconnect_timeout: must be more than 0; expected a duration like 100ms, 2s, 5m or 1h");
}

TEST_CASE("state.reconnect_timeout is 60s when not given, and read when given", "[config]") {
  CHECK(lbctl::parse_config(k_minimal_config, "shop.yaml").state_reconnect_timeout == std::chrono::seconds(60));
  auto text = k_minimal_config;
  text.replace(text.find("}\n"), 2, ", reconnect_timeout: 90s}\n");
  CHECK(lbctl::parse_config(text, "shop.yaml").state_reconnect_timeout == std::chrono::seconds(90));
}

TEST_CASE("health.scheme is http or https, ca_file and tls_verify only with https, ca_file an existing file",
          "[config]") {
  CHECK(config_error(k_minimal_config + "health:\n  scheme: ftp\n") ==
        "shop.yaml:9:11: health.scheme: expected http or https, got \"ftp\"");
  CHECK(config_error(k_minimal_config + "health:\n  tls_verify: false\n") ==
        "shop.yaml:9:15: health.tls_verify: only with scheme: https");
  CHECK(config_error(k_minimal_config + "health:\n  scheme: https\n  ca_file: /no/such/ca.pem\n") ==
        "shop.yaml:10:12: health.ca_file: \"/no/such/ca.pem\" is not a file (expected a PEM bundle of the CAs that "
        "signed the new servers' certificates)");
  const auto config = lbctl::parse_config(k_minimal_config + "health:\n  scheme: https\n  tls_verify: false\n", "shop.yaml");
  CHECK(config.health.tls.https);
  CHECK_FALSE(config.health.tls.verify);
}
