// `lbctl check` run as a program against real sockets: each reason a server
// fails for, exit 1 when any fails and 0 when all pass, --json, and where the
// servers come from (flags, the config, or the first load balancer).

#include "tests/support/catch.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/integration/health/stub_http_server.hpp"
#include "tests/support/app_server_fixture.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/haproxy_fixture.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// A config whose health section checks fast; `old_pool` and
// `load_balancer` are YAML text put in place.
std::string config_text(const std::string& old_pool, const std::string& runtime_api = "unix:/nonexistent/lbctl.sock",
                        const std::string& expect_body = "") {
  return fmt::format(R"(service: shop
state: {{database_url: "postgres://lbctl:SECRET@db/lbctl"}}
load_balancers:
  - {{name: lb1, runtime_api: "{}", backend: app, timeout: 2s}}
old_pool: {}
new_pool: {{count: 1}}
provider:
  type: static
  servers: [{{name: v2-1, address: "127.0.0.1:8201"}}]
health:
  expect_body: "{}"
  timeout: 300ms
  interval: 50ms
  rise: 2
  deadline: 1s
)",
                     runtime_api, old_pool, expect_body);
}

// Runs the real lbctl, keeping stdout and stderr apart.
Run run_lbctl(const TempDir& dir, const Strings& args) {
  const std::string err_file = (dir / "lbctl.stderr").string();
  Strings argv = {"sh", "-c", "exec \"$@\" 2>\"$0\"", err_file, LBCTL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandOutput result = run_command(argv, 60s);
  return {result.exit_code, result.out, read_file(err_file)};
}

Run check_servers(const Strings& servers, const std::string& expect_body = "", const Strings& extra = {}) {
  TempDir dir;
  const auto file = dir.write("lbctl.yaml", config_text("{discover: true}", "unix:/nonexistent/lbctl.sock", expect_body));
  Strings args = {"check", "-c", file.string()};
  for (const auto& server : servers) {
    args.push_back("--server");
    args.push_back(server);
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return run_lbctl(dir, args);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("lbctl check exits 0 when every server passes rise times in a row", "[integration][health][check]") {
  AppServerFixture app1({.name = "app1"});
  AppServerFixture app2({.name = "app2"});
  const Run run = check_servers({"web-1=" + app1.address(), "web-2=" + app2.address()});
  CHECK(run.exit_code == 0);
  CHECK(contains(run.out, "web-1 " + app1.address() + ": healthy (2/2 passes"));
  CHECK(contains(run.out, "web-2 " + app2.address() + ": healthy (2/2 passes"));
  CHECK(contains(run.out, "2 of 2 servers healthy"));
}

TEST_CASE("lbctl check exits 1 and says connection refused for a closed port", "[integration][health][check]") {
  const std::string address = "127.0.0.1:" + std::to_string(free_port());
  const Run run = check_servers({"web-1=" + address});
  CHECK(run.exit_code == 1);
  CHECK(contains(run.out, "web-1 " + address + ": unhealthy (0/2 passes"));
  CHECK(contains(run.out, "): connection refused\n"));
}

TEST_CASE("lbctl check exits 1 and names the status for a 404", "[integration][health][check]") {
  AppServerFixture app({.create_health_file = false});
  const Run run = check_servers({"web-1=" + app.address()});
  CHECK(run.exit_code == 1);
  CHECK(contains(run.out, "): status 404, expected 200\n"));
}

TEST_CASE("lbctl check exits 1 and quotes the expected text for a wrong body", "[integration][health][check]") {
  StubHttpServer server;
  server.respond("/health-check.html", 200, "maintenance");
  const Run run = check_servers({"web-1=" + server.address()}, "ok");
  CHECK(run.exit_code == 1);
  CHECK(contains(run.out, "): body does not contain 'ok'\n"));
}

TEST_CASE("lbctl check exits 1 and says timeout for a server that never answers", "[integration][health][check]") {
  StubHttpServer server;
  server.hang("/health-check.html");
  const auto start = std::chrono::steady_clock::now();
  const Run run = check_servers({"web-1=" + server.address()});
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  CHECK(run.exit_code == 1);
  CHECK(contains(run.out, "): timeout: no answer within 300ms\n"));
}

TEST_CASE("lbctl check --json prints one JSON object with every server's verdict", "[integration][health][check]") {
  StubHttpServer healthy;
  healthy.respond("/health-check.html", 200, "ok");
  const std::string closed = "127.0.0.1:" + std::to_string(free_port());
  const Run run = check_servers({"web-1=" + healthy.address(), "web-2=" + closed}, "", {"--json"});
  CHECK(run.exit_code == 1);
  REQUIRE(std::count(run.out.begin(), run.out.end(), '\n') == 1);
  const auto document = nlohmann::json::parse(run.out);
  CHECK(document["healthy"] == false);
  REQUIRE(document["servers"].size() == 2);
  const auto& first = document["servers"][0];
  CHECK(first["name"] == "web-1");
  CHECK(first["address"] == healthy.address());
  CHECK(first["healthy"] == true);
  CHECK(first["passes"] == 2);
  CHECK(first["reason"] == "healthy");
  CHECK(first["elapsed_ms"].get<int>() >= 50);
  const auto& second = document["servers"][1];
  CHECK(second["healthy"] == false);
  CHECK(second["passes"] == 0);
  CHECK(second["reason"] == "connection refused");
  CHECK(run.err.empty());
}

TEST_CASE("lbctl check refuses a bad --server value, naming it, with exit 2", "[integration][health][check]") {
  for (const std::string bad : {"web-1", "web;1=127.0.0.1:80", "web-1=127.0.0.1", "web-1=127.0.0.1:80;x"}) {
    INFO(bad);
    const Run run = check_servers({bad});
    CHECK(run.exit_code == 2);
    CHECK(contains(run.err, "'" + bad + "'"));
    CHECK(run.out.empty());
  }
}

TEST_CASE("lbctl check checks the old pool listed in the config when no server is given", "[integration][health][check]") {
  StubHttpServer healthy;
  healthy.respond("/health-check.html", 200, "ok");
  TempDir dir;
  const auto file = dir.write(
      "lbctl.yaml", config_text(fmt::format("{{discover: false, servers: [{{name: old-1, address: \"{}\"}}]}}",
                                            healthy.address())));
  const Run run = run_lbctl(dir, {"check", "-c", file.string()});
  CHECK(run.exit_code == 0);
  CHECK(contains(run.out, "old-1 " + healthy.address() + ": healthy"));
}

TEST_CASE("lbctl check discovers the old pool from the first load balancer", "[integration][health][check]") {
  StubHttpServer one;
  one.respond("/health-check.html", 200, "ok");
  StubHttpServer two;
  HaproxyOptions options;
  options.servers = {{"old-1", one.address(), ""}, {"old-2", two.address(), ""}};
  HaproxyFixture haproxy(options);
  TempDir dir;
  const auto file = dir.write("lbctl.yaml", config_text("{discover: true}", haproxy.runtime_api_unix()));
  const Run run = run_lbctl(dir, {"check", "-c", file.string()});
  CHECK(run.exit_code == 1);
  CHECK(contains(run.out, "old-1 " + one.address() + ": healthy"));
  CHECK(contains(run.out, "old-2 " + two.address() + ": unhealthy"));
  CHECK(contains(run.out, "status 404, expected 200"));
}

TEST_CASE("lbctl check exits 5 naming the load balancer it cannot reach to discover the old pool",
          "[integration][health][check]") {
  TempDir dir;
  const auto file = dir.write("lbctl.yaml", config_text("{discover: true}", "unix:" + (dir / "gone.sock").string()));
  const Run run = run_lbctl(dir, {"check", "-c", file.string()});
  CHECK(run.exit_code == 5);
  CHECK(contains(run.err, "lb1"));
  CHECK(run.out.empty());
}
