// Persistence cookies on real HAProxy (the suite runs against 2.6 and 3.0):
// a backend that keeps users on their server with `cookie SRV insert`, and
// new_pool.cookie. On 3.0 each new server gets its own cookie and a new user
// stays on one new server through both LBs; 2.6 refuses `cookie` on `add
// server`, so preflight refuses the config before any change.

#include "tests/support/catch.hpp"

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "tests/e2e/cookies.hpp"
#include "tests/e2e/stack.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {


// Each LB's backend inserts a cookie SRV naming the server; old-N has the
// cookie old-N, as a hand-kept haproxy.cfg would.
std::string with_cookies(const std::string& generated) {
  std::string text = std::regex_replace(generated, std::regex("\nbackend app\n"),
                                        "\nbackend app\n  cookie SRV insert indirect nocache\n");
  return std::regex_replace(text, std::regex(R"((\n  server (old-[0-9]+) [^\n]*))"), "$1 cookie $2");
}

StackOptions sticky_stack() {
  StackOptions options;
  options.migrations = false;
  options.persist = true;
  options.new_pool_cookie = "{name}";
  options.edit_lb_config = [](std::size_t, const std::string& generated) { return with_cookies(generated); };
  return options;
}


}  // namespace

TEST_CASE("new_pool.cookie: on HAProxy 3.0 a new user sticks to one new server through both LBs, and an older "
          "HAProxy refuses it before any change",
          "[e2e][cookie][both-haproxy]") {
  Stack stack(sticky_stack());
  // The stack works as configured before lbctl does anything: old-1's cookie keeps a user on old-1.
  const auto first = http_get(stack.lb(0).frontend_port(), "/who");
  REQUIRE(first.status == 200);
  REQUIRE_FALSE(set_cookie(first).empty());

  if (!stack.lb(0).at_least(3, 0)) {
    const auto run = stack.lbctl({"cutover", "--yes"});
    INFO(run.out);
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.out, Catch::Contains("new_pool.cookie: lb1 runs HAProxy " + stack.lb(0).version() +
                                        ", which refuses `cookie` on a server added at runtime"));
    CHECK(stack.fleet_view() == k_original_view);
    CHECK_FALSE(stack.server_running("v2-1"));
    return;
  }

  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  REQUIRE(run.exit_code == 0);
  CHECK(stack.fleet_view() == Strings{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"});
  for (std::size_t lb = 0; lb < stack.lb_count(); ++lb) {
    for (const std::string name : {"v2-1", "v2-2"}) CHECK(stack.lb(lb).stat_field(name, "cookie") == name);
    // The persisted file gives the cookie back after a restart.
    const std::string file = read_file(stack.lb(lb).config_file());
    CHECK_THAT(file, Catch::Contains("cookie v2-1"));
    CHECK_THAT(file, Catch::Contains("cookie v2-2"));
  }
  std::set<std::string> servers_used;
  for (int user = 0; user < 10; ++user) {
    const auto landing = http_get(stack.lb(user % 2).frontend_port(), "/who");
    REQUIRE(landing.status == 200);
    const std::string cookie = set_cookie(landing);
    INFO("user " << user << " got cookie '" << cookie << "' from " << served_by(landing));
    CHECK(cookie == served_by(landing));
    servers_used.insert(cookie);
    for (int request = 0; request < 6; ++request) {
      const auto next = http_request(stack.lb(request % 2).frontend_port(), "GET", "/who", {"Cookie: SRV=" + cookie});
      REQUIRE(next.status == 200);
      CHECK(served_by(next) == cookie);
    }
  }
  CHECK(servers_used == std::set<std::string>{"v2-1", "v2-2"});
}

TEST_CASE("plan and servers show each LB's HAProxy version", "[e2e][cookie][both-haproxy]") {
  StackOptions options;
  options.migrations = false;
  Stack stack(options);
  const std::string version = stack.lb(0).version();
  REQUIRE_FALSE(version.empty());
  const auto plan = stack.lbctl({"plan"});
  INFO(plan.out);
  REQUIRE(plan.exit_code == 0);
  CHECK_THAT(plan.out, Catch::Contains("lb1 (backend app, HAProxy " + version + "), commands:"));
  CHECK_THAT(plan.out, Catch::Contains("lb2 (backend app, HAProxy " + stack.lb(1).version() + "), commands:"));
  const auto json = stack.lbctl({"plan", "--json"});
  REQUIRE(json.exit_code == 0);
  CHECK(nlohmann::json::parse(json.out)["load_balancers"][0]["haproxy_version"] == version);
  const auto servers = stack.lbctl({"servers", "--json"});
  REQUIRE(servers.exit_code == 0);
  CHECK(nlohmann::json::parse(servers.out)["load_balancers"][1]["haproxy_version"] == stack.lb(1).version());
  const auto table = stack.lbctl({"servers"});
  CHECK_THAT(table.out, Catch::Contains(", HAProxy " + version + "): 2 servers"));
}
