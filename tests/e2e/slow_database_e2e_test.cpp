// libpq never blocks the event loop: a migration that takes seconds runs on
// its own thread while the loop goes on, and with it the lock's heartbeat.

#include "tests/support/catch.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/e2e/stack.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

TEST_CASE("a post-migration that runs 8 s does not stop the heartbeat: status sees it fresh throughout",
          "[e2e][offload]") {
  Stack stack;
  TempDir logs;
  std::ofstream(stack.config_file().parent_path() / "migrations/post/20261121_03_slow.sql")
      << "SELECT pg_sleep(8);\n";
  auto lbctl = stack.start_lbctl({"cutover", "--yes"}, logs / "cutover.txt");
  REQUIRE(eventually([&] { return read_file(logs / "cutover.txt").find("post_migrate: post_migrate started") != std::string::npos; }, 60s));
  std::this_thread::sleep_for(1500ms);  // well into the pg_sleep
  int seen = 0;
  long stalest = 0;
  for (int i = 0; i < 4; ++i) {
    const auto status = nlohmann::json::parse(stack.lbctl({"status", "--json"}).out, nullptr, false);
    REQUIRE(status.is_object());
    if (status["cutover"]["step"] == "post_migrate") {
      ++seen;
      stalest = std::max(stalest, status["cutover"]["heartbeat_seconds_ago"].get<long>());
    }
    std::this_thread::sleep_for(400ms);
  }
  const int code = lbctl->wait(60s);
  INFO(read_file(logs / "cutover.txt"));
  CHECK(code == 0);
  REQUIRE(seen >= 2);
  // Blocked, the heartbeat would be as old as the migration has run (2-8 s).
  CHECK(stalest <= 1);
}
