#include "tests/support/catch.hpp"

#include <arpa/inet.h>
#include <cstdlib>
#include <future>
#include <optional>
#include <thread>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/app_server_fixture.hpp"
#include "tests/support/postgres_fixture.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

std::chrono::milliseconds elapsed_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

// A port that completes the TCP handshake and then never says a word: a database that hangs.
class SilentListener {
 public:
  SilentListener() : m_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(m_fd, 16) == 0);
    socklen_t length = sizeof addr;
    ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &length);
    m_port = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(m_fd); }
  std::uint16_t port() const { return m_port; }

 private:
  int m_fd;
  std::uint16_t m_port = 0;
};

}  // namespace

TEST_CASE("the app server serves its health file while it exists and answers 404 once it is removed",
          "[integration][demo_app]") {
  AppServerFixture app({.health_content = "healthy\n"});
  CHECK(std::filesystem::exists(app.health_file()));
  auto reply = http_get(app.port(), "/health-check.html");
  CHECK(reply.status == 200);
  CHECK(reply.body == "healthy\n");

  app.remove_health_file();
  CHECK(http_get(app.port(), "/health-check.html").status == 404);

  app.restore_health_file();
  reply = http_get(app.port(), "/health-check.html");
  CHECK(reply.status == 200);
  CHECK(reply.body == "healthy\n");
}

TEST_CASE("the app server serves a health file of another name when told to", "[integration][demo_app]") {
  AppServerFixture app({.health_file = "alive.txt"});
  CHECK(http_get(app.port(), "/alive.txt").status == 200);
  CHECK(http_get(app.port(), "/health-check.html").status == 200);  // just another path: --status
  app.remove_health_file();
  CHECK(http_get(app.port(), "/alive.txt").status == 404);
}

TEST_CASE("GET /version names the server and its version", "[integration][demo_app]") {
  AppServerFixture app({.name = "v2-1", .version = "v2.7"});
  const auto reply = http_get(app.port(), "/version");
  CHECK(reply.status == 200);
  CHECK(reply.body == R"({"name": "v2-1", "version": "v2.7"})");
  CHECK(app.address() == "127.0.0.1:" + std::to_string(app.port()));
}

TEST_CASE("GET /health/db answers 200 ok when the database answers", "[integration][demo_app][postgres]") {
  PostgresFixture pg;
  AppServerFixture app({.database_url = pg.url()});
  const auto reply = http_get(app.port(), "/health/db");
  CHECK(reply.status == 200);
  CHECK(reply.body == "ok");
}

TEST_CASE("the database conninfo can come from LBCTL_APP_DATABASE_URL instead of argv", "[integration][demo_app][postgres]") {
  PostgresFixture pg;
  // The child inherits the environment; this test process has one thread.
  ::setenv("LBCTL_APP_DATABASE_URL", pg.url().c_str(), 1);
  std::optional<AppServerFixture> app;
  try {
    app.emplace();
  } catch (...) {
    ::unsetenv("LBCTL_APP_DATABASE_URL");
    throw;
  }
  ::unsetenv("LBCTL_APP_DATABASE_URL");
  const auto reply = http_get(app->port(), "/health/db");
  CHECK(reply.status == 200);
  CHECK(reply.body == "ok");
}

TEST_CASE("GET /health/db answers 503 at once when the database refuses, and never shows the password",
          "[integration][demo_app]") {
  const std::string password = "s3cret-Pa55";
  AppServerFixture app({.database_url = "host=127.0.0.1 port=" + std::to_string(free_port()) + " user=app password=" + password});
  const auto started = std::chrono::steady_clock::now();
  const auto reply = http_get(app.port(), "/health/db");
  CHECK(elapsed_since(started) < 1500ms);
  CHECK(reply.status == 503);
  CHECK(reply.body.find("refused") != std::string::npos);
  CHECK(reply.body.find(password) == std::string::npos);
  app.stop();
  CHECK(app.log().find(password) == std::string::npos);
}

TEST_CASE("GET /health/db answers 503 without a database configured", "[integration][demo_app]") {
  AppServerFixture app;
  const auto reply = http_get(app.port(), "/health/db");
  CHECK(reply.status == 503);
  CHECK(reply.body == "no database configured");
}

TEST_CASE("a database that hangs does not hold up other requests, and its check times out with 503",
          "[integration][demo_app]") {
  SilentListener database;
  AppServerFixture app({.database_url = "host=127.0.0.1 port=" + std::to_string(database.port()) + " user=app"});
  const auto started = std::chrono::steady_clock::now();
  auto check = std::async(std::launch::async, [&] { return http_get(app.port(), "/health/db", 10s); });
  std::this_thread::sleep_for(200ms);  // let the check reach the silent database

  const auto other_started = std::chrono::steady_clock::now();
  CHECK(http_get(app.port(), "/version").status == 200);
  CHECK(http_get(app.port(), "/health-check.html").status == 200);
  CHECK(elapsed_since(other_started) < 500ms);
  CHECK(check.wait_for(0s) == std::future_status::timeout);  // still waiting on the database

  const auto reply = check.get();
  CHECK(reply.status == 503);
  CHECK(reply.body.find("timeout") != std::string::npos);
  // libpq's connect_timeout (2 s, counted in whole seconds, so 1 to 2 s), not an early give-up.
  CHECK(elapsed_since(started) >= 900ms);
  CHECK(elapsed_since(started) < 5s);
}

TEST_CASE("GET /slow holds the request about N ms while other requests are served", "[integration][demo_app]") {
  AppServerFixture app;
  const auto started = std::chrono::steady_clock::now();
  auto slow = std::async(std::launch::async, [&] {
    auto reply = http_get(app.port(), "/slow?ms=800");
    return std::pair{reply, elapsed_since(started)};
  });
  std::this_thread::sleep_for(100ms);
  const auto other_started = std::chrono::steady_clock::now();
  CHECK(http_get(app.port(), "/version").status == 200);
  CHECK(elapsed_since(other_started) < 300ms);
  CHECK(slow.wait_for(0s) == std::future_status::timeout);

  const auto [reply, took] = slow.get();
  CHECK(reply.status == 200);
  CHECK(took >= 800ms);
  CHECK(took < 1800ms);
}

TEST_CASE("GET /slow without a valid ms is a bad request", "[integration][demo_app]") {
  AppServerFixture app;
  CHECK(http_get(app.port(), "/slow").status == 400);
  CHECK(http_get(app.port(), "/slow?ms=abc").status == 400);
  CHECK(http_get(app.port(), "/slow?ms=-5").status == 400);
  CHECK(http_get(app.port(), "/slow?ms=0").status == 200);
}

TEST_CASE("with --status 500 every other path fails while the health file still passes", "[integration][demo_app]") {
  AppServerFixture app({.name = "bad-1", .version = "v2", .status = 500});
  const auto reply = http_get(app.port(), "/orders");
  CHECK(reply.status == 500);
  CHECK(reply.body == "bad-1 v2");
  CHECK(http_get(app.port(), "/").status == 500);
  CHECK(http_get(app.port(), "/health-check.html").status == 200);
  CHECK(http_get(app.port(), "/version").status == 200);
}

TEST_CASE("every other path answers 200 with the server's name and version by default", "[integration][demo_app]") {
  AppServerFixture app({.name = "old-3"});
  const auto reply = http_get(app.port(), "/anything?x=1");
  CHECK(reply.status == 200);
  CHECK(reply.body == "old-3 v1");
}
