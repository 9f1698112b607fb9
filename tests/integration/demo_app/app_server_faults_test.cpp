// --error-percent and --delay-ms: faults on the ordinary paths that never reach
// the health check, so HAProxy keeps the server in while its traffic suffers.

#include "tests/support/catch.hpp"

#include <future>
#include <thread>
#include <vector>

#include "tests/integration/demo_app/raw_http.hpp"
#include "tests/support/app_server_fixture.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

std::chrono::milliseconds elapsed_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

}  // namespace

TEST_CASE("error-percent 10 fails exactly 20 of 200 requests and no health check", "[integration][demo_app]") {
  AppServerFixture app({.name = "flaky-1", .extra_args = {"--error-percent", "10"}});
  HttpConnection connection(app.port());
  std::vector<int> failed;  // 1-based positions of the 500s
  int health_ok = 0;
  for (int i = 1; i <= 200; ++i) {
    connection.send_get("/orders?i=" + std::to_string(i));
    const auto reply = connection.read_reply();
    REQUIRE((reply.status == 200 || reply.status == 500));
    if (reply.status == 500) {
      failed.push_back(i);
      CHECK(reply.body == "flaky-1 v1: injected error (--error-percent)");
    } else {
      CHECK(reply.body == "flaky-1 v1");
    }
    // HAProxy's check between the requests: it must never see a 500.
    connection.send_get("/health-check.html");
    health_ok += connection.read_reply().status == 200 ? 1 : 0;
  }
  CHECK(failed.size() == 20);
  CHECK(health_ok == 200);
  // Deterministic and evenly spread: the 10th, the 20th, ... the 200th.
  std::vector<int> expected;
  for (int i = 10; i <= 200; i += 10) expected.push_back(i);
  CHECK(failed == expected);
  // The other endpoints are not counted and never fail.
  for (int i = 0; i < 20; ++i) CHECK(http_get(app.port(), "/version").status == 200);
  CHECK(http_get(app.port(), "/slow?ms=0").status == 200);
}

TEST_CASE("error-percent takes a fractional share, 0 and 100 included", "[integration][demo_app]") {
  {
    AppServerFixture app({.extra_args = {"--error-percent", "2.5"}});
    std::vector<int> failed;
    HttpConnection connection(app.port());
    for (int i = 1; i <= 120; ++i) {
      connection.send_get("/");
      if (connection.read_reply().status == 500) failed.push_back(i);
    }
    CHECK(failed == std::vector<int>{40, 80, 120});
  }
  {
    AppServerFixture app({.extra_args = {"--error-percent", "100"}});
    for (int i = 0; i < 10; ++i) CHECK(http_get(app.port(), "/x").status == 500);
    CHECK(http_get(app.port(), "/health-check.html").status == 200);
  }
  {
    AppServerFixture app({.extra_args = {"--error-percent", "0"}});
    for (int i = 0; i < 10; ++i) CHECK(http_get(app.port(), "/x").status == 200);
  }
}

TEST_CASE("delay-ms 150 holds other paths, not the health file or /version", "[integration][demo_app]") {
  AppServerFixture app({.extra_args = {"--delay-ms", "150"}});
  for (int i = 0; i < 3; ++i) {
    auto started = std::chrono::steady_clock::now();
    CHECK(http_get(app.port(), "/orders").status == 200);
    CHECK(elapsed_since(started) >= 150ms);

    started = std::chrono::steady_clock::now();
    CHECK(http_get(app.port(), "/health-check.html").status == 200);
    CHECK(elapsed_since(started) < 100ms);

    started = std::chrono::steady_clock::now();
    CHECK(http_get(app.port(), "/version").status == 200);
    CHECK(elapsed_since(started) < 100ms);
  }
}

TEST_CASE("a request held by delay-ms does not hold up other connections", "[integration][demo_app]") {
  AppServerFixture app({.extra_args = {"--delay-ms", "1000"}});
  const auto started = std::chrono::steady_clock::now();
  auto held = std::async(std::launch::async, [&] {
    auto reply = http_get(app.port(), "/orders");
    return std::pair{reply, elapsed_since(started)};
  });
  std::this_thread::sleep_for(100ms);
  const auto health_started = std::chrono::steady_clock::now();
  CHECK(http_get(app.port(), "/health-check.html").status == 200);
  CHECK(elapsed_since(health_started) < 100ms);
  CHECK(held.wait_for(0s) == std::future_status::timeout);
  const auto [reply, took] = held.get();
  CHECK(reply.status == 200);
  CHECK(took >= 1000ms);
  CHECK(took < 2000ms);
}

TEST_CASE("delay-ms with error-percent holds the injected 500s too", "[integration][demo_app]") {
  AppServerFixture app({.extra_args = {"--error-percent", "50", "--delay-ms", "150"}});
  for (const int expected : {200, 500, 200, 500}) {
    const auto started = std::chrono::steady_clock::now();
    CHECK(http_get(app.port(), "/orders").status == expected);
    CHECK(elapsed_since(started) >= 150ms);
  }
}
