// Releases: the same config deploys release after release, the new servers
// named after each one; the release reaches hooks and events.

#include "tests/support/catch.hpp"

#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

TEST_CASE("the same config deploys release after release: names from {release}, r<id> without one",
          "[lbctl][cutover][release]") {
  CutoverRig rig;
  rig.config.new_pool.name_prefix = "{release}-";
  rig.release = "2026.11.25";
  const auto first = rig.cutover();
  INFO(first.message);
  REQUIRE(first.outcome == Outcome::done);
  CHECK(rig.provider.running_servers() == Strings{"2026.11.25-1", "2026.11.25-2"});
  rig.release = "";
  const auto second = rig.cutover();
  INFO(second.message);
  REQUIRE(second.outcome == Outcome::done);
  const std::string named = "r" + std::to_string(second.cutover_id);
  CHECK(rig.provider.running_servers() == Strings{named + "-1", named + "-2"});
  CHECK(rig.fleet_view() == Strings{"lb1 " + named + "-1 UP", "lb1 " + named + "-2 UP", "lb2 " + named + "-1 UP",
                                    "lb2 " + named + "-2 UP"});
  const auto& rows = rig.journal.rows();
  CHECK(rows.at(first.cutover_id).release == "2026.11.25");
  CHECK(rows.at(first.cutover_id).old_release.empty());
  CHECK(rows.at(second.cutover_id).release == named);
  CHECK(rows.at(second.cutover_id).old_release == "2026.11.25");
}

TEST_CASE("a release deployed again collides with its own servers: refused before any change, naming --release",
          "[lbctl][cutover][release]") {
  CutoverRig rig;
  rig.config.new_pool.name_prefix = "{release}-";
  rig.release = "v7";
  REQUIRE(rig.cutover().outcome == Outcome::done);
  for (auto& h : rig.haproxies) h->clear_log();
  rig.provider.clear_calls();
  const auto again = rig.cutover();
  CHECK(again.outcome == Outcome::usage);
  CHECK_THAT(again.message, Catch::Contains("new server v7-1 has the name of an old server"));
  CHECK_THAT(again.message, Catch::Contains("--release"));
  CHECK(rig.haproxies[0]->mutations().empty());
  CHECK(rig.provider.calls().empty());
}

TEST_CASE("hooks get LBCTL_RELEASE and LBCTL_OLD_RELEASE, events carry the release", "[lbctl][cutover][release]") {
  CutoverRig rig;
  rig.config.new_pool.name_prefix = "{release}-";
  rig.release = "a1";
  REQUIRE(rig.cutover().outcome == Outcome::done);
  rig.config.hooks.before_attach = HookCommand{{"announce"}, 5s};
  rig.release = "b2";
  REQUIRE(rig.cutover().outcome == Outcome::done);
  REQUIRE(rig.processes.programs() == Strings{"announce"});
  CHECK(rig.processes.env(0, "LBCTL_RELEASE") == "b2");
  CHECK(rig.processes.env(0, "LBCTL_OLD_RELEASE") == "a1");
  const auto* started = rig.recorder.last("preflight", "started");
  REQUIRE(started);
  CHECK(started->release == "b2");
  CHECK_THAT(started->text, Catch::Contains("release b2 replacing a1"));
}
