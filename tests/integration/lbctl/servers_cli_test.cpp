// `lbctl servers` against two running HAProxy instances.

#include "tests/support/catch.hpp"

#include <nlohmann/json.hpp>

#include "tests/support/app_server_fixture.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/haproxy_fixture.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

struct TwoLbs {
  TempDir dir;
  AppServerFixture app1{{.name = "old-1"}};
  AppServerFixture app2{{.name = "old-2"}};
  std::unique_ptr<HaproxyFixture> lb1, lb2;
  std::filesystem::path config;

  TwoLbs() {
    HaproxyOptions options;
    options.servers.push_back({"old-1", app1.address(), ""});
    options.servers.push_back({"old-2", app2.address(), ""});
    lb1 = std::make_unique<HaproxyFixture>(options);
    lb2 = std::make_unique<HaproxyFixture>(options);
    for (auto* lb : {lb1.get(), lb2.get()}) eventually([&] { return lb->status("old-2") == "UP"; }, 5s);
    config = dir.write("lbctl.yaml", "service: shop\nstate:\n  database_url: \"dbname=unused\"\nload_balancers:\n"
                                     "  - {name: lb1, runtime_api: \"" + lb1->runtime_api_unix() + "\", backend: app}\n"
                                     "  - {name: lb2, runtime_api: \"" + lb2->runtime_api_tcp() + "\", backend: app}\n"
                                     "provider:\n  type: static\n  servers: [{name: v2-1, address: \"127.0.0.1:9\"}]\n"
                                     "drain: {method: haproxy}\n");
  }

  CommandOutput servers(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{LBCTL_BINARY, "servers", "-c", config.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_command(argv);
  }
};

}  // namespace

TEST_CASE("lbctl servers lists every LB's servers with status, weight, sessions and check", "[integration][cli]") {
  TwoLbs fleet;
  fleet.lb2->command("set server app/old-2 state drain");
  const auto out = fleet.servers();
  INFO(out.out);
  REQUIRE(out.exit_code == 0);
  CHECK(out.out.find("lb1 (backend app, unix:") != std::string::npos);
  CHECK(out.out.find("lb2 (backend app, tcp:127.0.0.1:") != std::string::npos);
  CHECK(out.out.find("SERVER") != std::string::npos);
  CHECK(out.out.find("DRAIN") != std::string::npos);
  CHECK(out.out.find(fleet.app1.address()) != std::string::npos);
}

TEST_CASE("lbctl servers --json is one valid JSON document", "[integration][cli]") {
  TwoLbs fleet;
  const auto out = fleet.servers({"--json"});
  REQUIRE(out.exit_code == 0);
  const auto json = nlohmann::json::parse(out.out);
  REQUIRE(json["load_balancers"].size() == 2);
  CHECK(json["load_balancers"][1]["name"] == "lb2");
  const auto& servers = json["load_balancers"][0]["servers"];
  REQUIRE(servers.size() == 2);
  CHECK(servers[0]["name"] == "old-1");
  CHECK(servers[0]["status"] == "UP");
  CHECK(servers[0]["check_status"] == "L7OK");
  CHECK(servers[0]["sessions"] == 0);
  CHECK(servers[0]["weight"] == 1);
}

TEST_CASE("lbctl servers names the LB that does not answer and exits 5", "[integration][cli]") {
  TwoLbs fleet;
  fleet.lb2->stop();
  const auto out = fleet.servers();
  CHECK(out.exit_code == 5);
  CHECK(out.out.find("lb2: ") != std::string::npos);
  CHECK(out.out.find("old-1") != std::string::npos);  // lb1 still listed
}
