// Releases: the same config, run by automation release after release with
// only --release changing (or none at all), under load.

#include "tests/support/catch.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/e2e/stack.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

TEST_CASE("one config, --release r1, r2, r3 then twice none: five completed cutovers, history names each release",
          "[e2e][release]") {
  Stack stack;
  auto text = read_file(stack.config_file());
  const auto at = text.find("name_prefix: v2-");
  REQUIRE(at != std::string::npos);
  text.replace(at, 16, "name_prefix: \"{release}-\"");
  std::ofstream(stack.config_file()) << text;
  TempDir logs;
  Load load1(stack.lb(0).frontend_port(), logs / "wrk1.txt");
  Load load2(stack.lb(1).frontend_port(), logs / "wrk2.txt");
  UpSampler sampler(stack);
  const std::vector<Strings> runs{{"--release", "r1"}, {"--release", "r2"}, {"--release", "r3"}, {}, {}};
  for (const auto& extra : runs) {
    Strings args{"cutover", "--yes"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto run = stack.lbctl(args);
    INFO(run.out);
    REQUIRE(run.exit_code == 0);
  }
  CHECK(sampler.stop() >= 2);
  const auto r1 = load1.stop();
  const auto r2 = load2.stop();
  CHECK(r1.requests > 100);
  CHECK(r1.non_2xx + r1.socket_errors + r2.non_2xx + r2.socket_errors == 0);
  // Without --release, cutovers 4 and 5 are r4 and r5.
  CHECK(stack.fleet_view() == Strings{"lb1 r5-1 UP", "lb1 r5-2 UP", "lb2 r5-1 UP", "lb2 r5-2 UP"});
  const auto history = stack.lbctl({"history", "--json"});
  REQUIRE(history.exit_code == 0);
  std::istringstream lines(history.out);
  Strings releases;
  Strings old_releases;
  for (std::string line; std::getline(lines, line);) {
    const auto row = nlohmann::json::parse(line, nullptr, false);
    if (!row.is_object() || !row.contains("release")) continue;
    CHECK(row["status"] == "completed");
    // Each step's duration, in order.
    Strings steps;
    long total_ms = 0;
    for (const auto& step : row["steps"]) {
      steps.push_back(step["step"]);
      total_ms += step["duration_ms"].get<long>();
    }
    CHECK(steps.front() == "preflight");
    CHECK(steps.back() == "terminate");
    CHECK(std::find(steps.begin(), steps.end(), "watch") != steps.end());
    CHECK(total_ms <= row["duration_ms"].get<long>() + 50);
    releases.push_back(row["release"]);
    old_releases.push_back(row["old_release"]);
  }
  CHECK(releases == Strings{"r5", "r4", "r3", "r2", "r1"});
  CHECK(old_releases == Strings{"r4", "r3", "r2", "r1", ""});
  const auto status = nlohmann::json::parse(stack.lbctl({"status", "--json"}).out);
  CHECK(status["cutover"]["release"] == "r5");
  CHECK(status["cutover"]["old_release"] == "r4");
  // A bad --release changes nothing: exit 2.
  const auto bad = stack.lbctl({"cutover", "--yes", "--release", "no spaces"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.find("--release") != std::string::npos);
  CHECK(stack.fleet_view() == Strings{"lb1 r5-1 UP", "lb1 r5-2 UP", "lb2 r5-1 UP", "lb2 r5-2 UP"});
  // plan shows the release it would deploy.
  const auto plan = stack.lbctl({"plan", "--release", "r9"});
  CHECK(plan.out.find("release: r9") != std::string::npos);
  CHECK(plan.out.find("r9-1") != std::string::npos);
}
