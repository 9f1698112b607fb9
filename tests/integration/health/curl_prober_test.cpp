#include <algorithm>
#include "tests/support/catch.hpp"
#include <chrono>
#include <cstdlib>

#include "core/async.hpp"
#include "health/curl_prober.hpp"
#include "health/verify.hpp"
#include "tests/integration/health/stub_http_server.hpp"
#include "tests/support/app_server_fixture.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/run_async.hpp"

using namespace lbctl;
using namespace lbctl::health;
using namespace std::chrono_literals;
using test::StubHttpServer;

namespace {

struct Rig {
  boost::asio::io_context io;
  CurlProber prober{io};

  ProbeOutcome get(std::uint16_t port, const std::string& path, std::chrono::milliseconds timeout = 2s) {
    return test::run_async(io, prober.get("127.0.0.1", port, path, timeout));
  }
};

// Sets an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : m_name(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(m_name); }

 private:
  const char* m_name;
};

}  // namespace

TEST_CASE("a GET returns the status and body the server sent", "[integration][health][curl]") {
  StubHttpServer server;
  server.respond("/health-check.html", 200, "all ok");
  Rig rig;
  const auto outcome = rig.get(server.port(), "/health-check.html");
  REQUIRE(outcome.has_value());
  CHECK(outcome->status == 200);
  CHECK(outcome->body == "all ok");
  CHECK_FALSE(outcome->truncated);
  CHECK(outcome->latency < 2s);
}

TEST_CASE("a 404 is a response with its status, not a failure", "[integration][health][curl]") {
  StubHttpServer server;
  Rig rig;
  const auto outcome = rig.get(server.port(), "/missing");
  REQUIRE(outcome.has_value());
  CHECK(outcome->status == 404);
}

TEST_CASE("a closed port fails as connection refused", "[integration][health][curl]") {
  Rig rig;
  const auto outcome = rig.get(test::free_port(), "/health-check.html");
  REQUIRE_FALSE(outcome.has_value());
  CHECK(outcome.error().kind == ProbeError::connection_refused);
}

TEST_CASE("a server that accepts and never answers times out after about the timeout", "[integration][health][curl]") {
  StubHttpServer server;
  server.hang("/health-check.html");
  Rig rig;
  const auto start = std::chrono::steady_clock::now();
  const auto outcome = rig.get(server.port(), "/health-check.html", 300ms);
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(outcome.has_value());
  CHECK(outcome.error().kind == ProbeError::timeout);
  CHECK(took >= 290ms);
  CHECK(took < 1500ms);
}

TEST_CASE("a body over 64 KiB is cut at 64 KiB and the response still counts", "[integration][health][curl]") {
  StubHttpServer server;
  server.respond("/big", 200, std::string(200 * 1024, 'x') + "ok");
  Rig rig;
  const auto outcome = rig.get(server.port(), "/big");
  REQUIRE(outcome.has_value());
  CHECK(outcome->status == 200);
  CHECK(outcome->truncated);
  CHECK(outcome->body.size() == k_max_body_bytes);
}

TEST_CASE("each check opens a connection of its own, as HAProxy's checks do", "[integration][health][curl]") {
  StubHttpServer server;  // keeps connections alive: a client that kept them would reuse one
  server.respond("/health-check.html", 200, "ok");
  Rig rig;
  for (int i = 0; i < 5; ++i) REQUIRE(rig.get(server.port(), "/health-check.html").has_value());
  CHECK(server.requests() == 5);
  CHECK(server.connections() == 5);
}

TEST_CASE("many GETs run at once on one thread and all complete", "[integration][health][curl]") {
  StubHttpServer server;
  server.respond("/health-check.html", 200, "ok");
  Rig rig;
  std::vector<boost::asio::awaitable<ProbeOutcome>> probes;
  for (int i = 0; i < 200; ++i) probes.push_back(rig.prober.get("127.0.0.1", server.port(), "/health-check.html", 5s));
  const auto outcomes = test::run_async(rig.io, when_all(std::move(probes)));
  REQUIRE(outcomes.size() == 200);
  for (const auto& outcome : outcomes) {
    REQUIRE(outcome.has_value());
    CHECK(outcome->status == 200);
  }
  CHECK(server.connections() == 200);  // truly concurrent: one connection each
  CHECK(rig.prober.in_flight() == 0);
}

TEST_CASE("a proxy in the environment does not capture checks", "[integration][health][curl]") {
  StubHttpServer server;
  server.respond("/health-check.html", 200, "ok");
  const std::uint16_t dead_proxy = test::free_port();
  const std::string proxy = "http://127.0.0.1:" + std::to_string(dead_proxy);
  ScopedEnv http_proxy("http_proxy", proxy.c_str());
  ScopedEnv all_proxy("ALL_PROXY", proxy.c_str());
  Rig rig;
  const auto outcome = rig.get(server.port(), "/health-check.html");
  REQUIRE(outcome.has_value());
  CHECK(outcome->status == 200);
}

TEST_CASE("destroying the prober ends its transfers in flight", "[integration][health][curl]") {
  StubHttpServer server;
  server.hang("/health-check.html");
  boost::asio::io_context io;
  std::optional<ProbeOutcome> outcome;
  auto prober = std::make_unique<CurlProber>(io);
  boost::asio::co_spawn(io, prober->get("127.0.0.1", server.port(), "/health-check.html", 30s),
                        [&](std::exception_ptr, ProbeOutcome o) { outcome = std::move(o); });
  test::eventually([&] {
    io.poll();
    return server.requests() == 1;
  });
  prober.reset();
  io.run_for(2s);
  REQUIRE(outcome.has_value());
  REQUIRE_FALSE(outcome->has_value());
  CHECK(outcome->error().kind == ProbeError::other);
}

TEST_CASE("checks over the prober's limit wait their turn, first come first served", "[integration][health][curl]") {
  StubHttpServer server;
  server.hang("/health-check.html");
  boost::asio::io_context io;
  CurlProber prober(io, {}, 4);
  std::vector<std::optional<ProbeOutcome>> outcomes(10);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    boost::asio::co_spawn(io, prober.get("127.0.0.1", server.port(), "/health-check.html", 300ms),
                          [&outcomes, i](std::exception_ptr, ProbeOutcome o) { outcomes[i] = std::move(o); });
  }
  std::size_t most_at_once = 0;
  while (std::any_of(outcomes.begin(), outcomes.end(), [](const auto& o) { return !o.has_value(); })) {
    io.run_for(10ms);
    most_at_once = std::max(most_at_once, prober.in_flight());
    REQUIRE(std::chrono::steady_clock::now() - start < 10s);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(most_at_once == 4);
  CHECK(server.connections() == 10);
  // Three turns of at most four, each held to its 300 ms timeout.
  CHECK(elapsed >= 900ms);
  for (const auto& outcome : outcomes) {
    REQUIRE_FALSE(outcome->has_value());
    CHECK(outcome->error().kind == ProbeError::timeout);
  }
}

TEST_CASE("destroying the prober ends the checks still waiting their turn", "[integration][health][curl]") {
  StubHttpServer server;
  server.hang("/health-check.html");
  boost::asio::io_context io;
  auto prober = std::make_unique<CurlProber>(io, ProbeTls{}, 1);
  std::vector<std::optional<ProbeOutcome>> outcomes(3);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    boost::asio::co_spawn(io, prober->get("127.0.0.1", server.port(), "/health-check.html", 30s),
                          [&outcomes, i](std::exception_ptr, ProbeOutcome o) { outcomes[i] = std::move(o); });
  }
  test::eventually([&] {
    io.poll();
    return server.requests() == 1;
  });
  CHECK(prober->in_flight() == 1);
  prober.reset();
  io.run_for(2s);
  for (const auto& outcome : outcomes) {
    REQUIRE(outcome.has_value());
    REQUIRE_FALSE(outcome->has_value());
    CHECK(outcome->error().kind == ProbeError::other);
  }
}

TEST_CASE("verify over real sockets tells a healthy server from a failing one", "[integration][health][curl]") {
  StubHttpServer healthy;
  healthy.respond("/health-check.html", 200, "ok");
  StubHttpServer missing;
  Rig rig;
  SteadyClock clock;
  CheckPolicy policy;
  policy.interval = 50ms;
  policy.deadline = 2s;
  policy.timeout = 500ms;
  std::vector<Target> targets{{"web-1", healthy.address()}, {"web-2", missing.address()}};
  const auto start = std::chrono::steady_clock::now();
  const auto verdicts = test::run_async(rig.io, verify(std::move(targets), policy, rig.prober, clock));
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(verdicts.size() == 2);
  CHECK(verdicts[0].healthy);
  CHECK(verdicts[0].elapsed < 500ms);
  CHECK_FALSE(verdicts[1].healthy);
  CHECK(verdicts[1].reason == "status 404, expected 200");
  CHECK(took < 2500ms);
}

TEST_CASE("a live lbctl-app passes while its health file exists and fails with 404 once it is removed",
          "[integration][health][curl]") {
  test::AppServerFixture app;
  Rig rig;
  const auto present = rig.get(app.port(), "/health-check.html");
  REQUIRE(present.has_value());
  CHECK(present->status == 200);
  app.remove_health_file();
  const auto removed = rig.get(app.port(), "/health-check.html");
  REQUIRE(removed.has_value());
  CHECK(removed->status == 404);
}
