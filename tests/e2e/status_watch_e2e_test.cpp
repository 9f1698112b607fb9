// `lbctl status --watch` started before a cutover: it waits for it (through
// a restart of the state database), follows it, and ends when it does.

#include "tests/support/catch.hpp"

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
  // A 3 s restart of the state database: the watch rides it out and connects again.
  stack.postgres().stop();
  std::this_thread::sleep_for(3s);
  stack.postgres().start();
  std::this_thread::sleep_for(1500ms);
  REQUIRE(watch->running());
  // A session that lasts 4 s holds the drain, so the cutover runs long enough to be seen.
  auto held = std::async(std::launch::async, [&] { return http_get(stack.lb(0).frontend_port(), "/slow?ms=4000", 30s); });
  const auto run = stack.lbctl({"cutover", "--yes", "--release", "r9"});
  REQUIRE(run.exit_code == 0);
  held.get();
  CHECK(watch->wait(30s) == 0);  // ended by itself with the cutover
  std::istringstream lines(read_file(logs / "watch.txt"));
  std::set<std::string> steps;
  std::string last_status;
  std::string last_release;
  bool saw_outage = false;
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("error") && j["load_balancers"].size() == 2) saw_outage = true;  // LBs shown meanwhile
    if (!j.is_object() || !j["cutover"].is_object()) continue;
    // Ids are not contiguous after a Postgres restart (sequences are logged ahead): the release says which.
    if (j["cutover"]["release"] == "r9" && j["cutover"]["status"] == "running") steps.insert(j["cutover"]["step"]);
    last_status = j["cutover"]["status"];
    last_release = j["cutover"]["release"];
  }
  INFO(read_file(logs / "watch.txt"));
  CHECK(steps.contains("watch"));  // it followed the cutover while it ran
  CHECK(saw_outage);
  CHECK(last_release == "r9");
  CHECK(last_status == "completed");
}
