#include "tests/support/catch.hpp"

#include <future>

#include "tests/support/app_server_fixture.hpp"
#include "tests/support/haproxy_fixture.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

HaproxyOptions one_server(const AppServerFixture& app) {
  HaproxyOptions options;
  options.servers = {{app.name(), app.address(), ""}};
  return options;
}

}  // namespace

TEST_CASE("a real HAProxy sees the app server UP, NOLB without its health file, and UP again once restored",
          "[integration][demo_app][haproxy]") {
  AppServerFixture app({.name = "old-1"});
  HaproxyFixture haproxy(one_server(app));
  REQUIRE(eventually([&] { return haproxy.status("old-1") == "UP"; }));
  const auto reply = http_get(haproxy.frontend_port(), "/orders");
  CHECK(reply.status == 200);
  CHECK(reply.body == "old-1 v1");

  app.remove_health_file();
  CHECK(eventually([&] { return haproxy.status("old-1") == "NOLB"; }));

  app.restore_health_file();
  CHECK(eventually([&] { return haproxy.status("old-1") == "UP"; }));
}

TEST_CASE("a request held open through HAProxy counts as a session on the app server", "[integration][demo_app][haproxy]") {
  AppServerFixture app({.name = "old-1"});
  HaproxyFixture haproxy(one_server(app));
  REQUIRE(eventually([&] { return haproxy.status("old-1") == "UP"; }));
  auto slow = std::async(std::launch::async, [&] { return http_get(haproxy.frontend_port(), "/slow?ms=1000"); });
  CHECK(eventually([&] { return haproxy.stat_field("old-1", "scur") == "1"; }, 900ms));
  CHECK(slow.get().status == 200);
  CHECK(eventually([&] { return haproxy.stat_field("old-1", "scur") == "0"; }, 2s));
}
