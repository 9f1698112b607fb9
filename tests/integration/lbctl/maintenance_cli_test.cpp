// `lbctl maintenance on|off` against two real HAProxy instances.

#include "tests/support/catch.hpp"

#include <nlohmann/json.hpp>

#include "tests/support/app_server_fixture.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/haproxy_fixture.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

struct MaintenanceStack {
  TempDir dir;
  AppServerFixture app;
  std::unique_ptr<HaproxyFixture> lb1, lb2;
  std::string map = (dir.path() / "maintenance.map").string();
  std::filesystem::path config;

  explicit MaintenanceStack(bool lb2_knows_map = true) {
    dir.write("maintenance.map", "");
    lb1 = std::make_unique<HaproxyFixture>(options(true));
    lb2 = std::make_unique<HaproxyFixture>(options(lb2_knows_map));
    config = dir.write("lbctl.yaml",
                       "service: shop\nstate:\n  database_url: \"host=/nonexistent dbname=x\"\nload_balancers:\n"
                       "  - {name: lb1, runtime_api: \"" + lb1->runtime_api_unix() + "\", backend: app}\n"
                       "  - {name: lb2, runtime_api: \"" + lb2->runtime_api_tcp() + "\", backend: app}\n"
                       "provider:\n  type: static\n  servers: [{name: v2-1, address: \"127.0.0.1:9\"}]\n"
                       "drain: {method: haproxy}\n"
                       "maintenance:\n  map: " + map + "\n");
  }

  HaproxyOptions options(bool with_map) {
    HaproxyOptions o;
    o.servers.push_back({"old-1", app.address(), ""});
    if (with_map) {
      o.extra_frontend.push_back("http-request return status 503 content-type \"text/plain\" lf-string "
                                 "\"%[str(maintenance),map(" + map + ")]\" if { str(maintenance),map(" + map +
                                 ") -m found }");
    }
    return o;
  }

  CommandOutput lbctl(std::vector<std::string> args) {
    std::vector<std::string> argv{LBCTL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("-c");
    argv.push_back(config.string());
    return run_command(argv);
  }
};

}  // namespace

TEST_CASE("maintenance on gives 503 with the message through every LB and off gives 200 again", "[integration][maintenance]") {
  MaintenanceStack stack;
  REQUIRE(http_get(stack.lb1->frontend_port(), "/").status == 200);
  const auto on = stack.lbctl({"maintenance", "on", "--message", "Upgrading the database; back soon", "--duration", "30m"});
  INFO(on.out);
  REQUIRE(on.exit_code == 0);
  for (auto* lb : {stack.lb1.get(), stack.lb2.get()}) {
    const auto reply = http_get(lb->frontend_port(), "/anything");
    CHECK(reply.status == 503);
    CHECK(reply.body.find("Upgrading the database; back soon (expected back by ") != std::string::npos);
    CHECK(reply.body.find(" UTC)") != std::string::npos);
  }
  // On again with another message replaces it.
  REQUIRE(stack.lbctl({"maintenance", "on", "--message", "Still upgrading"}).exit_code == 0);
  CHECK(http_get(stack.lb2->frontend_port(), "/").body == "Still upgrading");
  const auto off = stack.lbctl({"maintenance", "off", "--json"});
  REQUIRE(off.exit_code == 0);
  CHECK(nlohmann::json::parse(off.out)["maintenance"] == "off");
  CHECK(http_get(stack.lb1->frontend_port(), "/").status == 200);
  CHECK(http_get(stack.lb2->frontend_port(), "/").status == 200);
  // Off twice is a no-op.
  CHECK(stack.lbctl({"maintenance", "off"}).exit_code == 0);
}

TEST_CASE("an LB that does not know the map is named, and no LB is switched", "[integration][maintenance]") {
  MaintenanceStack stack(false);
  const auto on = stack.lbctl({"maintenance", "on", "--message", "Down"});
  CHECK(on.exit_code == 2);
  CHECK(on.out.find("lb2 did not load the map " + stack.map) != std::string::npos);
  CHECK(on.out.find("http-request return status 503") != std::string::npos);
  CHECK(http_get(stack.lb1->frontend_port(), "/").status == 200);
}

TEST_CASE("a message with a newline is refused before anything is sent", "[integration][maintenance]") {
  MaintenanceStack stack;
  const auto on = stack.lbctl({"maintenance", "on", "--message", "Down\nshow info"});
  CHECK(on.exit_code == 2);
  CHECK(http_get(stack.lb1->frontend_port(), "/").status == 200);
  CHECK(stack.lb1->command("show map " + stack.map).find("maintenance") == std::string::npos);
}
