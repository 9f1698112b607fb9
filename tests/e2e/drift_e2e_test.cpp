// Drift, with real HAProxy and Postgres: an LB reloaded behind lbctl's back
// (no persist) loses what the cutover left there; `lbctl servers` and
// `lbctl status` say so, and `lbctl reconcile --yes` puts it back.

#include "tests/support/catch.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/e2e/stack.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {


// "SERVER KIND" for each drift item of one LB in `servers --json`.
Strings drift_of(const nlohmann::json& servers, const std::string& lb) {
  Strings out;
  for (const auto& entry : servers["load_balancers"]) {
    if (entry["name"] != lb) continue;
    for (const auto& d : entry["drift"]) out.push_back(d["server"].get<std::string>() + " " + d["kind"].get<std::string>());
  }
  return out;
}

}  // namespace

TEST_CASE("an LB reloaded behind lbctl's back shows drift, and reconcile --yes repairs it", "[e2e][drift][both-haproxy]") {
  StackOptions options;
  options.master_worker = true;
  options.migrations = false;
  Stack stack(options);
  const auto cutover = stack.lbctl({"cutover", "--yes"});
  INFO(cutover.out);
  REQUIRE(cutover.exit_code == 0);
  REQUIRE(stack.fleet_view() == k_done_view);

  // A colleague reloads lb1: it comes back from its haproxy.cfg, with the
  // old servers lbctl terminated and without the new ones.
  stack.lb(0).reload();
  REQUIRE(eventually([&] { return stack.lb(0).status("old-1").starts_with("DOWN"); }, 10s));
  CHECK(stack.lb(0).status("v2-1").empty());

  const auto servers = stack.lbctl({"servers", "--json"});
  INFO(servers.out);
  REQUIRE(servers.exit_code == 0);
  const auto json = nlohmann::json::parse(servers.out);
  CHECK(drift_of(json, "lb1") == Strings{"v2-1 missing", "v2-2 missing", "old-1 extra", "old-2 extra"});
  CHECK(drift_of(json, "lb2").empty());
  const auto table = stack.lbctl({"servers"});
  CHECK(table.out.find("drift: lb1: v2-1 is missing") != std::string::npos);

  const auto status = stack.lbctl({"status", "--json"});
  REQUIRE(status.exit_code == 0);
  const auto status_json = nlohmann::json::parse(status.out);
  REQUIRE(status_json["drift"].size() == 4);
  CHECK(status_json["drift"][0]["lb"] == "lb1");
  CHECK(stack.lbctl({"status"}).out.find("drift: lb1: v2-2 is missing") != std::string::npos);

  // Without --yes (and no terminal to ask on), nothing changes.
  const auto refused = stack.lbctl({"reconcile"});
  CHECK(refused.exit_code == 1);
  CHECK(stack.lb(0).status("v2-1").empty());

  const auto repaired = stack.lbctl({"reconcile", "--yes"});
  INFO(repaired.out);
  CHECK(repaired.exit_code == 0);
  CHECK(repaired.out.find("reconcile would:") != std::string::npos);
  CHECK(stack.fleet_view() == k_done_view);
  CHECK(http_get(stack.lb(0).frontend_port(), "/").status == 200);
  const auto after = nlohmann::json::parse(stack.lbctl({"servers", "--json"}).out);
  CHECK(drift_of(after, "lb1").empty());
  // A second reconcile has nothing to do.
  const auto again = stack.lbctl({"reconcile", "--yes"});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("nothing to do") != std::string::npos);
}

TEST_CASE("a persisted file put back by hand is drift, reconcile rewrites it from what lbctl recorded", "[e2e][drift][both-haproxy]") {
  StackOptions options;
  options.persist = true;
  options.migrations = false;
  Stack stack(options);
  const std::string original = read_file(stack.lb(1).config_file());
  REQUIRE(stack.lbctl({"cutover", "--yes"}).exit_code == 0);
  const std::string written = read_file(stack.lb(1).config_file());
  REQUIRE(written != original);
  CHECK(nlohmann::json::parse(stack.lbctl({"servers", "--json"}).out)["load_balancers"][1]["drift"].empty());

  // Config management puts the old file back (HAProxy has not reloaded).
  std::ofstream(stack.lb(1).config_file(), std::ios::binary | std::ios::trunc) << original;
  const auto json = nlohmann::json::parse(stack.lbctl({"servers", "--json"}).out);
  CHECK(drift_of(json, "lb2") == Strings{"old-1 file", "old-2 file", "v2-1 file", "v2-2 file"});
  const auto repaired = stack.lbctl({"reconcile", "--yes"});
  INFO(repaired.out);
  CHECK(repaired.exit_code == 0);
  CHECK(read_file(stack.lb(1).config_file()) == written);
  CHECK(stack.fleet_view() == k_done_view);
}
