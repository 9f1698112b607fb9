// load_balancers, old_pool, new_pool and provider: every error names FILE:LINE:COLUMN and the key.

#include "tests/support/catch.hpp"

#include "tests/unit/lbctl/config/config_test_support.hpp"

using namespace lbctl::test;

namespace {

// The load balancers given start on line 6.
std::string with_pool_lbs(const std::string& lbs) { return k_config_head + k_static_provider + lbs; }

// The provider given starts on line 5.
std::string with_provider(const std::string& provider) { return k_config_head + k_one_lb + provider; }

const std::string k_local_keys = R"(  command: ["python3", "-m", "http.server", "{port}"]
  ports: "18300-18399"
  base_dir: servers
)";

}  // namespace

TEST_CASE("an empty load_balancers list is refused", "[config]") {
  CHECK(config_error(with_pool_lbs("load_balancers: []\n")) ==
        "shop.yaml:6:17: load_balancers: no load balancers; expected at least one {name, runtime_api, backend}");
}

TEST_CASE("load_balancers given as a map is a type error", "[config]") {
  CHECK(config_error(with_pool_lbs("load_balancers:\n  lb1: {backend: app}\n")) ==
        "shop.yaml:7:3: load_balancers: expected a list, got a map");
}

TEST_CASE("a load balancer name outside [A-Za-z0-9._-] is refused", "[config]") {
  CHECK(config_error(with_pool_lbs("load_balancers:\n  - {name: \"lb 1\", runtime_api: \"unix:/s\", backend: app}\n")) ==
        "shop.yaml:7:12: load_balancers[0].name: \"lb 1\" is not a valid name; expected 1-64 characters from "
        "[A-Za-z0-9._-]");
}

TEST_CASE("a backend name that would smuggle a second runtime API command is refused", "[config]") {
  CHECK(config_error(with_pool_lbs("load_balancers:\n  - name: lb1\n    runtime_api: unix:/s\n    backend: \"app;shutdown "
                              "sessions server app/x\"\n")) ==
        "shop.yaml:9:14: load_balancers[0].backend: \"app;shutdown sessions server app/x\" is not a valid name; "
        "expected 1-64 characters from [A-Za-z0-9._-]");
}

TEST_CASE("a name that starts with a dash is refused, as it would read as an option in argv", "[config][security]") {
  CHECK(config_error(with_pool_lbs("load_balancers:\n  - {name: \"-oProxyCommand\", runtime_api: \"unix:/s\", backend: app}\n")) ==
        "shop.yaml:7:12: load_balancers[0].name: \"-oProxyCommand\" is not a valid name; expected 1-64 characters from "
        "[A-Za-z0-9._-], the first not '-'");
}

TEST_CASE("a name longer than 64 characters is refused", "[config]") {
  const std::string long_name(65, 'b');
  CHECK(config_error(with_pool_lbs("load_balancers:\n  - {name: lb1, runtime_api: \"unix:/s\", backend: " + long_name +
                              "}\n")) ==
        "shop.yaml:7:50: load_balancers[0].backend: \"" + long_name.substr(0, 60) +
            "...\" is not a valid name; expected 1-64 characters from [A-Za-z0-9._-]");
}

TEST_CASE("a runtime_api of no known kind is refused", "[config]") {
  CHECK(config_error(with_pool_lbs("load_balancers:\n  - {name: lb1, runtime_api: \"http://lb1:9999\", backend: app}\n")) ==
        "shop.yaml:7:30: load_balancers[0].runtime_api: \"http://lb1:9999\" is none of unix:PATH, tcp:HOST:PORT, ssh://[USER@]HOST[:PORT]/PATH or tls://HOST:PORT");
}

TEST_CASE("a tcp runtime_api with a port above 65535 is refused", "[config]") {
  CHECK(config_error(with_pool_lbs("load_balancers:\n  - {name: lb1, runtime_api: \"tcp:127.0.0.1:65536\", backend: app}\n")) ==
        "shop.yaml:7:30: load_balancers[0].runtime_api: \"tcp:127.0.0.1:65536\" is not tcp:HOST:PORT (the address "
        "has a bad port; expected HOST:PORT with a port 1-65535)");
}

TEST_CASE("a tcp runtime_api without a port is refused", "[config]") {
  CHECK(config_error(with_pool_lbs("load_balancers:\n  - {name: lb1, runtime_api: \"tcp:127.0.0.1\", backend: app}\n")) ==
        "shop.yaml:7:30: load_balancers[0].runtime_api: \"tcp:127.0.0.1\" is not tcp:HOST:PORT (the address has no "
        "port; expected HOST:PORT)");
}

TEST_CASE("a unix runtime_api without a path is refused", "[config]") {
  CHECK(config_error(with_pool_lbs("load_balancers:\n  - {name: lb1, runtime_api: \"unix:\", backend: app}\n")) ==
        "shop.yaml:7:30: load_balancers[0].runtime_api: \"unix:\" has no usable socket path; expected unix:PATH");
}

TEST_CASE("a unix socket path longer than a unix socket allows is refused", "[config]") {
  const std::string path = "/run/" + std::string(110, 's') + ".sock";
  const std::string message =
      config_error(with_pool_lbs("load_balancers:\n  - {name: lb1, runtime_api: \"unix:" + path + "\", backend: app}\n"));
  CHECK(message.starts_with("shop.yaml:7:30: load_balancers[0].runtime_api: the socket path is 120 bytes once "
                            "resolved ("));
  CHECK(message.ends_with("), more than the 107 a unix socket allows"));
}

TEST_CASE("two load balancers with the same name are refused", "[config]") {
  CHECK(config_error(with_pool_lbs("load_balancers:\n  - {name: lb1, runtime_api: \"tcp:127.0.0.1:9001\", backend: app}\n"
                              "  - {name: lb1, runtime_api: \"tcp:127.0.0.1:9002\", backend: app}\n")) ==
        "shop.yaml:8:12: load_balancers[1].name: \"lb1\" is already the name of load_balancers[0]; every load "
        "balancer needs its own name");
}

TEST_CASE("two entries for the same socket and backend are refused", "[config]") {
  CHECK(config_error(with_pool_lbs("load_balancers:\n  - {name: lb1, runtime_api: \"tcp:127.0.0.1:9001\", backend: app}\n"
                              "  - {name: lb2, runtime_api: \"tcp:127.0.0.1:9001\", backend: app}\n")) ==
        "shop.yaml:8:30: load_balancers[1].runtime_api: load_balancers[0] has the same runtime_api and backend; each "
        "entry must be a different load balancer");
}

TEST_CASE("an unknown key in a load balancer is named with its index", "[config]") {
  CHECK(config_error(with_pool_lbs("load_balancers:\n  - name: lb1\n    runtime-api: unix:/s\n    backend: app\n")) ==
        "shop.yaml:8:5: load_balancers[0].runtime-api: unknown key; did you mean runtime_api? (expected one of: "
        "name, runtime_api, master_api, backend, timeout, unreachable_timeout, persist, ssh, tls, insecure_tcp)");
}

TEST_CASE("a load balancer without a backend is reported at its entry", "[config]") {
  CHECK(config_error(with_pool_lbs("load_balancers:\n  - name: lb1\n    runtime_api: unix:/s\n")) ==
        "shop.yaml:7:5: load_balancers[0].backend: missing; expected the HAProxy backend that holds the servers");
}

TEST_CASE("old_pool with discover true and a servers list is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "old_pool:\n  discover: true\n  servers: [{name: a1, address: \"127.0.0.1:80\"}]\n") ==
        "shop.yaml:10:12: old_pool.servers: cannot be given with discover: true; expected either discover: true or a "
        "servers list");
}

TEST_CASE("old_pool with discover false and no servers is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "old_pool:\n  discover: false\n") ==
        "shop.yaml:9:3: old_pool.servers: missing; expected a list of {name, address} when discover is false");
}

TEST_CASE("old_pool discover that is not true or false is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "old_pool: {discover: maybe}\n") ==
        "shop.yaml:8:22: old_pool.discover: expected true or false, got \"maybe\"");
}

TEST_CASE("an empty old_pool.servers list is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "old_pool: {servers: []}\n") ==
        "shop.yaml:8:21: old_pool.servers: no servers; expected at least one {name, address}");
}

TEST_CASE("a server address without a port is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "old_pool:\n  servers:\n    - {name: a1, address: \"127.0.0.1\"}\n") ==
        "shop.yaml:10:27: old_pool.servers[0].address: \"127.0.0.1\" has no port; expected HOST:PORT");
}

TEST_CASE("a server address with a host outside the allowed characters is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "old_pool:\n  servers:\n    - {name: a1, address: \"127.0.0.1;x:80\"}\n") ==
        "shop.yaml:10:27: old_pool.servers[0].address: \"127.0.0.1;x:80\" has a bad host; expected HOST:PORT with a "
        "host name, an IPv4 address or a bracketed IPv6 one");
}

TEST_CASE("an unbracketed IPv6 server address is refused with the bracketed form", "[config]") {
  CHECK(config_error(k_minimal_config + "old_pool:\n  servers:\n    - {name: a1, address: \"::1:8080\"}\n") ==
        "shop.yaml:10:27: old_pool.servers[0].address: \"::1:8080\" an IPv6 address needs brackets; expected "
        "HOST:PORT, like [::1]:8080");
}

TEST_CASE("a server name outside [A-Za-z0-9._-] is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "old_pool:\n  servers:\n    - {name: \"a/1\", address: \"127.0.0.1:80\"}\n") ==
        "shop.yaml:10:14: old_pool.servers[0].name: \"a/1\" is not a valid name; expected 1-64 characters from "
        "[A-Za-z0-9._-]");
}

TEST_CASE("two old servers with the same name are refused", "[config]") {
  CHECK(config_error(k_minimal_config + "old_pool:\n  servers:\n    - {name: a1, address: \"127.0.0.1:80\"}\n"
                                        "    - {name: a1, address: \"127.0.0.2:80\"}\n") ==
        "shop.yaml:11:14: old_pool.servers[1].name: \"a1\" is already the name of old_pool.servers[0]; server names "
        "must be unique");
}

TEST_CASE("a min_healthy above the listed old pool is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "old_pool: {servers: [{name: a1, address: \"127.0.0.1:80\"}]}\nmin_healthy: 2\n") ==
        "shop.yaml:9:14: min_healthy: is 2 but old_pool.servers lists only 1; expected at most that many");
}

TEST_CASE("a new pool count of zero is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "new_pool: {count: 0}\n") ==
        "shop.yaml:8:19: new_pool.count: expected match_old or a positive integer (at most 10000), got \"0\"");
}

TEST_CASE("a new pool count that is not an integer is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "new_pool: {count: 2.5}\n") ==
        "shop.yaml:8:19: new_pool.count: expected match_old or a positive integer (at most 10000), got \"2.5\"");
}

TEST_CASE("a new pool count given as a list is a type error", "[config]") {
  CHECK(config_error(k_minimal_config + "new_pool: {count: [2]}\n") ==
        "shop.yaml:8:19: new_pool.count: expected match_old or a positive integer (at most 10000), got a list");
}

TEST_CASE("a name prefix outside [A-Za-z0-9._-] is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "new_pool: {name_prefix: \"v2 \"}\n") ==
        "shop.yaml:8:25: new_pool.name_prefix: \"v2 \" is not a valid name prefix; expected characters from "
        "[A-Za-z0-9._-], and {release} where the release goes");
}

TEST_CASE("a name prefix that leaves no room for the largest index is refused", "[config]") {
  const std::string prefix(62, 'p');
  CHECK(config_error(k_minimal_config + "new_pool:\n  count: 100\n  name_prefix: " + prefix + "\n") ==
        "shop.yaml:10:16: new_pool.name_prefix: is too long: the new server \"" + prefix.substr(0, 60) +
            "...\" would have 65 characters; expected a prefix that leaves room for the index within 64 characters");
}

TEST_CASE("server_options outside the allow-list report the allow-list's problem", "[config]") {
  const std::string message = config_error(k_minimal_config + "new_pool: {server_options: \"check enabled\"}\n");
  CHECK(message.starts_with("shop.yaml:8:28: new_pool.server_options: 'enabled' is not an allowed server option"));
}

TEST_CASE("new_pool.cookie is a rule holding {name}, in the cookie alphabet, short enough for every new server",
          "[config][cookie]") {
  CHECK(config_error(k_minimal_config + "new_pool: {cookie: app}\n") ==
        "shop.yaml:8:20: new_pool.cookie: \"app\" is not a cookie rule; expected {name} (each new server's name) with "
        "characters from [A-Za-z0-9._-] around it, e.g. \"{name}\"");
  CHECK_THAT(config_error(k_minimal_config + "new_pool: {cookie: \"{name};x\"}\n"),
             Catch::Contains("new_pool.cookie: \"{name};x\" is not a cookie rule"));
  CHECK_THAT(config_error(k_minimal_config + "new_pool: {cookie: \"{name}-{release}\"}\n"),
             Catch::Contains("is not a cookie rule"));
  CHECK_THAT(config_error(k_minimal_config + "new_pool: {cookie: \"{name} x\"}\n"), Catch::Contains("is not a cookie rule"));
  CHECK_THAT(config_error(k_minimal_config + "new_pool: {count: 10, name_prefix: v2-, cookie: \"" + std::string(60, 'c') +
                          "{name}\"}\n"),
             Catch::Contains("new_pool.cookie: makes cookies too long: the new server \"v2-10\" would get"));
}

TEST_CASE("server_options without check are refused", "[config]") {
  const std::string message = config_error(k_minimal_config + "new_pool: {server_options: \"inter 1s\"}\n");
  CHECK(message.starts_with("shop.yaml:8:28: new_pool.server_options: 'check' is required"));
}

TEST_CASE("a provider without a type is refused", "[config]") {
  CHECK(config_error(with_provider("provider:\n  servers: []\n")) ==
        "shop.yaml:6:3: provider.type: missing; expected local, exec or static");
}

TEST_CASE("an unknown provider type is refused", "[config]") {
  CHECK(config_error(with_provider("provider: {type: cloud}\n")) ==
        "shop.yaml:5:18: provider.type: \"cloud\" is not a provider type; expected local, exec or static");
}

TEST_CASE("a local provider without command is refused", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: local\n  ports: \"1-2\"\n  base_dir: d\n")) ==
        "shop.yaml:6:3: provider.command: missing; expected the server's argv, with {port}, {dir}, {name}");
}

TEST_CASE("a local provider without ports is refused", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: local\n  command: [app]\n  base_dir: d\n")) ==
        "shop.yaml:6:3: provider.ports: missing; expected a port range \"A-B\" for new servers");
}

TEST_CASE("a local provider without base_dir is refused", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: local\n  command: [app]\n  ports: \"1-2\"\n")) ==
        "shop.yaml:6:3: provider.base_dir: missing; expected the servers' folder");
}

TEST_CASE("a port range that starts above its end is refused", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: local\n  command: [app]\n  ports: \"18399-18300\"\n  base_dir: d\n")) ==
        "shop.yaml:8:10: provider.ports: \"18399-18300\" starts above where it ends; expected \"A-B\" with A <= B");
}

TEST_CASE("a port range with a port outside 1-65535 is refused", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: local\n  command: [app]\n  ports: \"0-100\"\n  base_dir: d\n")) ==
        "shop.yaml:8:10: provider.ports: \"0-100\" is not a port range; expected \"A-B\" with ports 1-65535");
}

TEST_CASE("a health file with a folder in it is refused", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: local\n" + k_local_keys + "  health_file: ../x.html\n")) ==
        "shop.yaml:10:16: provider.health_file: \"../x.html\" is not a plain file name; expected 1-64 characters "
        "from [A-Za-z0-9._-], no folder");
}

TEST_CASE("an empty command list is refused", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: local\n  command: []\n  ports: \"1-2\"\n  base_dir: d\n")) ==
        "shop.yaml:7:12: provider.command: must not be empty; expected a list of text: a program and its arguments, "
        "like [\"prog\", \"--flag\"]");
}

TEST_CASE("a command given as one string is a type error", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: local\n  command: \"app --port {port}\"\n  ports: \"1-2\"\n"
                                   "  base_dir: d\n")) ==
        "shop.yaml:7:12: provider.command: expected a list of text: a program and its arguments, like [\"prog\", "
        "\"--flag\"], got text");
}

TEST_CASE("a command item that is not text is a type error", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: local\n  command: [app, {port: 1}]\n  ports: \"1-2\"\n"
                                   "  base_dir: d\n")) ==
        "shop.yaml:7:18: provider.command[1]: expected text, got a map");
}

TEST_CASE("a placeholder typo in the local command is refused at its item", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: local\n  command: [app, \"--port={prot}\"]\n"
                                   "  ports: \"1-2\"\n  base_dir: d\n")) ==
        "shop.yaml:7:18: provider.command[1]: unknown placeholder {prot}; expected one of {port} {dir} {name} {host} {release} {old_release}");
}

TEST_CASE("each exec provider command is checked against its own placeholders", "[config]") {
  const std::string head = "provider:\n  type: exec\n";
  // {address} is given to terminate, not to clone.
  CHECK(config_error(with_provider(head + "  clone: [make, \"{address}\"]\n  terminate: [rm]\n") +
                     "drain: {method: haproxy}\n") ==
        "shop.yaml:7:17: provider.clone[1]: unknown placeholder {address}; expected one of {service} {template} "
        "{template_address} {name} {count} {names} {release} {old_release}");
  CHECK(config_error(with_provider(head + "  clone: [make]\n  terminate: [rm, \"{names}\"]\n") +
                     "drain: {method: haproxy}\n") ==
        "shop.yaml:8:19: provider.terminate[1]: unknown placeholder {names}; expected one of {service} {name} "
        "{address} {host} {port} {release} {old_release}");
  CHECK(config_error(with_provider(head + "  clone: [make]\n  terminate: [rm]\n  freeze_scaling: [asg, \"{name}\"]\n") +
                     "drain: {method: haproxy}\n") ==
        "shop.yaml:9:25: provider.freeze_scaling[1]: unknown placeholder {name}; expected one of {service} {release} {old_release}");
  CHECK(config_error(with_provider(head + "  clone: [make, \"{template_address}\", \"{count}\"]\n"
                                          "  terminate: [rm, \"{host}:{port}\"]\n"
                                          "  remove_health_file: [ssh, \"{host}\", rm, f]\n"
                                          "  restore_health_file: [ssh, \"{hots}\", touch, f]\n")) ==
        "shop.yaml:10:30: provider.restore_health_file[1]: unknown placeholder {hots}; expected one of {service} "
        "{name} {address} {host} {port} {release} {old_release}");
}

TEST_CASE("a key of another provider type is refused", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: local\n" + k_local_keys + "  clone: [make-server]\n")) ==
        "shop.yaml:10:3: provider.clone: not a key of a local provider (expected one of: type, command, host, ports, "
        "base_dir, health_file, start_timeout, stop_grace)");
}

TEST_CASE("an exec provider without clone is refused", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: exec\n  terminate: [rm-server, \"{name}\"]\n")) ==
        "shop.yaml:6:3: provider.clone: missing; expected the argv that creates new servers");
}

TEST_CASE("an exec provider without terminate is refused", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: exec\n  clone: [make-server]\n")) ==
        "shop.yaml:6:3: provider.terminate: missing; expected the argv that terminates a server");
}

TEST_CASE("an exec provider draining by health file needs remove_health_file", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: exec\n  clone: [make-server]\n  terminate: [rm-server]\n")) ==
        "shop.yaml:6:3: provider.remove_health_file: missing; expected an argv list: an exec provider needs it when "
        "drain.method is health_file (the default)");
}

TEST_CASE("an exec provider draining by health file needs restore_health_file", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: exec\n  clone: [make-server]\n  terminate: [rm-server]\n"
                                   "  remove_health_file: [rm-file]\n")) ==
        "shop.yaml:6:3: provider.restore_health_file: missing; expected an argv list: an exec provider needs it when "
        "drain.method is health_file (the default)");
}

TEST_CASE("an exec provider timeout of zero is refused", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: exec\n  clone: [a]\n  terminate: [b]\n  timeout: 0ms\n") +
                     "drain: {method: haproxy}\n") ==
        "shop.yaml:9:12: provider.timeout: must be more than 0; expected a duration like 100ms, 2s, 5m or 1h");
}

TEST_CASE("a static provider without servers is refused", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: static\n  terminate: [b]\n")) ==
        "shop.yaml:6:3: provider.servers: missing; expected the new servers, a list of {name, address}");
}

TEST_CASE("a static provider with fewer servers than the count is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "new_pool: {count: 2}\n") ==
        "shop.yaml:8:19: new_pool.count: 2 new servers are needed but provider.servers lists 1; expected at least as "
        "many static servers");
}

TEST_CASE("a static provider with fewer servers than a listed old pool is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "old_pool:\n  servers:\n    - {name: a1, address: \"127.0.0.1:80\"}\n"
                                        "    - {name: a2, address: \"127.0.0.2:80\"}\n") ==
        "shop.yaml:7:12: provider.servers: 2 new servers are needed but provider.servers lists 1; expected at least "
        "as many static servers");
}

TEST_CASE("a static new server named like an old server is refused", "[config]") {
  CHECK(config_error(k_minimal_config + "old_pool: {servers: [{name: v2-1, address: \"127.0.0.1:80\"}]}\n") ==
        "shop.yaml:7:20: provider.servers[0].name: \"v2-1\" is also old_pool.servers[0]; old and new servers share "
        "the backend, so their names must differ");
}

TEST_CASE("an old server named like a server the new pool will create is refused", "[config]") {
  CHECK(config_error(with_provider("provider:\n  type: local\n" + k_local_keys) +
                     "old_pool: {servers: [{name: v2-1, address: \"127.0.0.1:80\"}]}\nnew_pool: {name_prefix: v2-}\n") ==
        "shop.yaml:10:29: old_pool.servers[0].name: \"v2-1\" is a name the new pool will use (name_prefix \"v2-\"); "
        "expected a name_prefix that no old server starts with");
}

TEST_CASE("name_prefix may hold {release}, a misspelt placeholder or other characters are refused", "[config][release]") {
  CHECK(lbctl::parse_config(k_minimal_config + "new_pool: {name_prefix: \"shop-{release}-\"}\n", "shop.yaml").new_pool.name_prefix == "shop-{release}-");
  CHECK(config_error(k_minimal_config + "new_pool: {name_prefix: \"{relase}-\"}\n") ==
        "shop.yaml:8:25: new_pool.name_prefix: \"{relase}-\" is not a valid name prefix; expected characters from "
        "[A-Za-z0-9._-], and {release} where the release goes");
}

TEST_CASE("release: is a name of 1-64 characters from [A-Za-z0-9._-]", "[config][release]") {
  CHECK(lbctl::parse_config(k_minimal_config + "release: \"2026.11.25-rc_1\"\n", "shop.yaml").release == "2026.11.25-rc_1");
  CHECK(config_error(k_minimal_config + "release: \"v 2\"\n") ==
        "shop.yaml:8:10: release: \"v 2\" is not a valid name; expected 1-64 characters from [A-Za-z0-9._-]");
  CHECK(config_error(k_minimal_config + "release: " + std::string(65, 'a') + "\n").find("release: ") !=
        std::string::npos);
}
