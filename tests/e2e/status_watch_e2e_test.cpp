// `lbctl status --watch` started before a cutover: it waits for it, follows
// it, and ends when it does.

#include <catch2/catch.hpp>

#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tests/e2e/stack.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

TEST_CASE("status --watch waits for the next cutover, follows it, ends with it", "[e2e][status]") {
  Stack stack;
  auto text = read_file(stack.config_file());
  const auto at = text.find("name_prefix: v2-");
  REQUIRE(at != std::string::npos);
  text.replace(at, 16, "name_prefix: \"{release}-\"");
  std::ofstream(stack.config_file()) << text;
  REQUIRE(stack.lbctl({"cutover", "--yes", "--release", "r8"}).exit_code == 0);  // an earlier one, already ended
  TempDir logs;
  auto watch = stack.start_lbctl({"status", "--watch", "--json"}, logs / "watch.txt");
  std::this_thread::sleep_for(2500ms);
  REQUIRE(watch->running());  // waiting, not ended after the old cutover's status
  // A session that lasts 4 s holds the drain, so the cutover runs long enough to be seen.
  auto held = std::async(std::launch::async, [&] { return http_get(stack.lb(0).frontend_port(), "/slow?ms=4000", 30s); });
  const auto run = stack.lbctl({"cutover", "--yes", "--release", "r9"});
  REQUIRE(run.exit_code == 0);
  held.get();
  CHECK(watch->wait(30s) == 0);  // ended by itself with the cutover
  std::istringstream lines(read_file(logs / "watch.txt"));
  std::set<std::string> steps;
  std::string last_status;
  std::int64_t last_id = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j["cutover"].is_object()) continue;
    if (j["cutover"]["id"] == 2 && j["cutover"]["status"] == "running") steps.insert(j["cutover"]["step"]);
    last_status = j["cutover"]["status"];
    last_id = j["cutover"]["id"];
  }
  INFO(read_file(logs / "watch.txt"));
  CHECK(steps.contains("watch"));  // it followed the cutover while it ran
  CHECK(last_id == 2);
  CHECK(last_status == "completed");
}
