#include "tests/support/catch.hpp"

#include <csignal>
#include <future>
#include <memory>
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

TEST_CASE("SIGTERM lets a request in flight finish, refuses new connections, then exits 0", "[integration][demo_app]") {
  AppServerFixture app;
  const auto started = std::chrono::steady_clock::now();
  auto slow = std::async(std::launch::async, [&] {
    auto reply = http_get(app.port(), "/slow?ms=1000");
    return std::pair{reply, elapsed_since(started)};
  });
  std::this_thread::sleep_for(200ms);
  app.signal(SIGTERM);
  std::this_thread::sleep_for(100ms);

  CHECK(http_get(app.port(), "/version", 1s).status == 0);  // no longer accepting
  CHECK(app.running());                                     // but still answering the slow one
  const auto [reply, took] = slow.get();
  CHECK(reply.status == 200);
  CHECK(took >= 1000ms);
  CHECK(app.wait(5s) == 0);
  CHECK(app.log().find("stopping: 1 requests in flight") != std::string::npos);
}

TEST_CASE("SIGTERM closes idle keep-alive connections at once", "[integration][demo_app]") {
  AppServerFixture app;
  HttpConnection idle(app.port());
  idle.send_get("/version");
  REQUIRE(idle.read_reply().status == 200);

  const auto started = std::chrono::steady_clock::now();
  app.signal(SIGTERM);
  CHECK(idle.closed_by_server(2s));
  CHECK(app.wait(2s) == 0);
  CHECK(elapsed_since(started) < 1s);
}

TEST_CASE("a busy keep-alive connection gets its answer with Connection: close during shutdown", "[integration][demo_app]") {
  AppServerFixture app;
  HttpConnection busy(app.port());
  busy.send_get("/version");
  REQUIRE(busy.read_reply().status == 200);
  busy.send_get("/slow?ms=500");
  std::this_thread::sleep_for(100ms);
  app.signal(SIGTERM);
  CHECK(busy.read_reply().status == 200);
  CHECK(busy.closed_by_server(2s));
  CHECK(app.wait(2s) == 0);
}

TEST_CASE("one connection carries many requests (keep-alive)", "[integration][demo_app]") {
  AppServerFixture app;
  HttpConnection connection(app.port());
  for (int i = 0; i < 20; ++i) {
    connection.send_get(i % 2 == 0 ? "/health-check.html" : "/version");
    REQUIRE(connection.read_reply().status == 200);
  }
  // Pipelined: both requests sent before either answer is read.
  connection.send_get("/slow?ms=50");
  connection.send_get("/version");
  CHECK(connection.read_reply().body == "held 50 ms");
  CHECK(connection.read_reply().status == 200);
}

TEST_CASE("a thousand concurrent connections are all answered", "[integration][demo_app]") {
  AppServerFixture app;
  std::vector<std::unique_ptr<HttpConnection>> connections;
  for (int i = 0; i < 1000; ++i) connections.push_back(std::make_unique<HttpConnection>(app.port()));
  for (auto& connection : connections) connection->send_get("/health-check.html");
  int answered = 0;
  for (auto& connection : connections) answered += connection->read_reply(10s).status == 200 ? 1 : 0;
  CHECK(answered == 1000);
}

TEST_CASE("the app server starts from the local provider's command template with defaults for the rest",
          "[integration][demo_app]") {
  TempDir dir;
  dir.write("health-check.html", "OK\n");
  const auto port = free_port();
  // ["lbctl-app", "--port", "{port}", "--dir", "{dir}", "--name", "{name}"]
  ChildProcess app({LBCTL_APP_BINARY, "--port", std::to_string(port), "--dir", dir.path().string(), "--name", "old-1"});
  REQUIRE(wait_for_port(port, 10s));
  CHECK(http_get(port, "/version").body == R"({"name": "old-1", "version": "v1"})");
  CHECK(http_get(port, "/health-check.html").status == 200);
  CHECK(http_get(port, "/").status == 200);
  CHECK(app.stop() == 0);
  // It wrote nothing into its directory.
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("bad arguments are refused with exit 2 and a message naming the problem", "[integration][demo_app]") {
  TempDir dir;
  const std::string d = dir.path().string();
  const std::string app = LBCTL_APP_BINARY;
  struct Case {
    std::vector<std::string> argv;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{app}, "--port is required"},
      {{app, "--port", "8080"}, "--dir is required"},
      {{app, "--port", "0", "--dir", d}, "--port"},
      {{app, "--port", "80x", "--dir", d}, "--port"},
      {{app, "--port", "70000", "--dir", d}, "--port"},
      {{app, "--port", "8080", "--dir", d + "/missing"}, "is not a directory"},
      {{app, "--port", "8080", "--dir", d, "--bogus", "1"}, "unknown argument '--bogus'"},
      {{app, "--port", "8080", "--dir", d, "--name"}, "--name needs a value"},
      {{app, "--port", "8080", "--dir", d, "--status", "99"}, "--status"},
      {{app, "--port", "8080", "--dir", d, "--status", "abc"}, "--status"},
      {{app, "--port", "8080", "--dir", d, "--health-file", "../etc/passwd"}, "--health-file"},
      {{app, "--port", "8080", "--dir", d, "--bind", "not-an-ip"}, "--bind"},
      {{app, "--port", "8080", "--port", "8081", "--dir", d}, "--port is given twice"},
      {{app, "--port", "8080", "--dir", d, "--error-percent", "101"}, "--error-percent must be a percentage from 0 to 100"},
      {{app, "--port", "8080", "--dir", d, "--error-percent", "x"}, "--error-percent must be a percentage from 0 to 100"},
      {{app, "--port", "8080", "--dir", d, "--error-percent", "-5"}, "--error-percent"},
      {{app, "--port", "8080", "--dir", d, "--error-percent", "2.5.1"}, "--error-percent"},
      {{app, "--port", "8080", "--dir", d, "--error-percent"}, "--error-percent needs a value"},
      {{app, "--port", "8080", "--dir", d, "--delay-ms", "-1"}, "--delay-ms must be a number of milliseconds from 0 to 60000"},
      {{app, "--port", "8080", "--dir", d, "--delay-ms", "60001"}, "--delay-ms"},
      {{app, "--port", "8080", "--dir", d, "--delay-ms", "1.5"}, "--delay-ms"},
  };
  for (const auto& c : cases) {
    INFO("expecting: " << c.message);
    const auto result = run_command(c.argv, 10s);
    CHECK(result.exit_code == 2);
    CHECK(result.out.find(c.message) != std::string::npos);
    CHECK(result.out.find("usage: lbctl-app") != std::string::npos);
  }
}

TEST_CASE("a malformed database conninfo is refused with exit 2 without showing it", "[integration][demo_app]") {
  TempDir dir;
  const std::string secret = "hunter2-secret";
  const auto from_argv = run_command({LBCTL_APP_BINARY, "--port", "8080", "--dir", dir.path().string(), "--db",
                                      "host=x password=" + secret + " nonsense_key=1"},
                                     10s);
  CHECK(from_argv.exit_code == 2);
  CHECK(from_argv.out.find("--db") != std::string::npos);
  CHECK(from_argv.out.find(secret) == std::string::npos);

  const auto from_env = run_command({LBCTL_APP_BINARY, "--port", "8080", "--dir", dir.path().string()}, 10s,
                                    {{"LBCTL_APP_DATABASE_URL", "postgresql://app:" + secret + "@host/db?bogus=1"}});
  CHECK(from_env.exit_code == 2);
  CHECK(from_env.out.find("LBCTL_APP_DATABASE_URL") != std::string::npos);
  CHECK(from_env.out.find(secret) == std::string::npos);
}

TEST_CASE("a port already taken makes the app server exit 1 with a message", "[integration][demo_app]") {
  AppServerFixture first;
  TempDir dir;
  const auto result = run_command({LBCTL_APP_BINARY, "--port", std::to_string(first.port()), "--dir", dir.path().string()}, 10s);
  CHECK(result.exit_code == 1);
  CHECK(result.out.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())) != std::string::npos);
}
