#include "tests/support/catch.hpp"

#include "lbctl/cutover/plan.hpp"

using namespace lbctl;

namespace {

pools::ServerStat stat(std::string name, std::string address, std::string status = "UP", std::uint64_t id = 1) {
  pools::ServerStat s;
  s.name = std::move(name);
  s.address = std::move(address);
  s.status = std::move(status);
  s.id = id;
  return s;
}

LbState lb(std::string name, std::vector<pools::ServerStat> stats) {
  LbState state{std::move(name), "app", {}};
  for (auto& s : stats) state.state.admin.push_back({s.name, s.id, 0, 2, 1, s.address});
  state.state.stats = std::move(stats);
  return state;
}

Config base_config() {
  Config config;
  config.service = "shop";
  config.new_pool.name_prefix = "v2-";
  config.new_pool.server_options = "check inter 1s fall 2 rise 2";
  config.min_healthy = 1;
  return config;
}

}  // namespace

TEST_CASE("the plan replaces the discovered pool with as many new servers, ids above every one in use", "[lbctl][plan]") {
  const auto config = base_config();
  auto plan = make_plan(config,
                        {lb("lb1", {stat("old-1", "127.0.0.1:9001", "UP", 1), stat("old-2", "127.0.0.1:9002", "UP", 7)}),
                         lb("lb2", {stat("old-1", "127.0.0.1:9001", "UP", 3), stat("old-2", "127.0.0.1:9002", "UP", 4)})},
                        1000);
  REQUIRE(plan.has_value());
  CHECK(plan->old_servers.size() == 2);
  CHECK(plan->new_names == std::vector<std::string>{"v2-1", "v2-2"});
  CHECK(plan->first_id == 1000);
  REQUIRE(plan->capacity.size() == 4);
  CHECK(plan->capacity[1].up_per_lb == std::vector<std::size_t>{4, 4});
  CHECK(plan->capacity[2].up_per_lb == std::vector<std::size_t>{2, 2});
}

TEST_CASE("ids go above the largest id on any LB when that is higher than the floor", "[lbctl][plan]") {
  auto plan = make_plan(base_config(), {lb("lb1", {stat("old-1", "127.0.0.1:9001", "UP", 1500)})}, 1000);
  REQUIRE(plan.has_value());
  CHECK(plan->first_id == 1501);
}

TEST_CASE("a count given in the config overrides match_old", "[lbctl][plan]") {
  auto config = base_config();
  config.new_pool.count = 3;
  auto plan = make_plan(config, {lb("lb1", {stat("old-1", "127.0.0.1:9001")})}, 1);
  REQUIRE(plan.has_value());
  CHECK(plan->new_names.size() == 3);
}

TEST_CASE("new names that collide with a server in a backend are a config problem", "[lbctl][plan]") {
  auto plan = make_plan(base_config(),
                        {lb("lb1", {stat("old-1", "127.0.0.1:9001")}),
                         lb("lb2", {stat("old-1", "127.0.0.1:9001"), stat("v2-1", "127.0.0.1:9101", "MAINT")})},
                        1);
  REQUIRE_FALSE(plan.has_value());
  CHECK(plan.error().problem == PlanProblem::config);
  CHECK(plan.error().message.find("lb2 already has a server named v2-1") != std::string::npos);
}

TEST_CASE("an old pool that differs between LBs is refused", "[lbctl][plan]") {
  auto missing = make_plan(base_config(),
                           {lb("lb1", {stat("old-1", "127.0.0.1:9001"), stat("old-2", "127.0.0.1:9002")}),
                            lb("lb2", {stat("old-1", "127.0.0.1:9001")})},
                           1);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().problem == PlanProblem::state);
  CHECK(missing.error().message.find("lb2: backend app has no server old-2") != std::string::npos);
  auto moved = make_plan(base_config(),
                         {lb("lb1", {stat("old-1", "127.0.0.1:9001")}), lb("lb2", {stat("old-1", "127.0.0.1:9999")})}, 1);
  REQUIRE_FALSE(moved.has_value());
  CHECK(moved.error().message.find("127.0.0.1:9999") != std::string::npos);
}

TEST_CASE("a cutover that would go below min_healthy refuses to start", "[lbctl][plan]") {
  auto config = base_config();
  config.min_healthy = 2;
  auto too_few_up = make_plan(
      config, {lb("lb1", {stat("old-1", "127.0.0.1:9001"), stat("old-2", "127.0.0.1:9002", "DOWN")})}, 1);
  REQUIRE_FALSE(too_few_up.has_value());
  CHECK(too_few_up.error().problem == PlanProblem::state);
  CHECK(too_few_up.error().message.find("only 1 old servers are UP, fewer than min_healthy 2") != std::string::npos);
  config.new_pool.count = 1;
  auto too_small_pool =
      make_plan(config, {lb("lb1", {stat("old-1", "127.0.0.1:9001"), stat("old-2", "127.0.0.1:9002")})}, 1);
  REQUIRE_FALSE(too_small_pool.has_value());
  CHECK(too_small_pool.error().problem == PlanProblem::config);
  CHECK(too_small_pool.error().message.find("below min_healthy 2") != std::string::npos);
}

TEST_CASE("an empty backend has nothing to replace", "[lbctl][plan]") {
  auto plan = make_plan(base_config(), {lb("lb1", {})}, 1);
  REQUIRE_FALSE(plan.has_value());
  CHECK(plan.error().message.find("no servers to replace") != std::string::npos);
}

TEST_CASE("a configured old pool must be on every LB", "[lbctl][plan]") {
  auto config = base_config();
  config.old_pool.discover = false;
  config.old_pool.servers = {{"old-1", "127.0.0.1:9001"}};
  auto plan = make_plan(config, {lb("lb1", {stat("old-1", "127.0.0.1:9001"), stat("other", "127.0.0.1:9005")})}, 1);
  REQUIRE(plan.has_value());
  CHECK(plan->old_servers.size() == 1);
  config.old_pool.servers = {{"old-9", "127.0.0.1:9009"}};
  CHECK_FALSE(make_plan(config, {lb("lb1", {stat("old-1", "127.0.0.1:9001")})}, 1).has_value());
}

TEST_CASE("discovery leaves backup servers and old_pool.exclude out of the old pool, and says why", "[lbctl][plan]") {
  auto config = base_config();
  config.old_pool.exclude = {"canary-*", "pinned"};
  auto sorry = stat("sorry", "127.0.0.1:9099", "UP", 9);
  sorry.backup = true;
  const auto servers = std::vector<pools::ServerStat>{stat("old-1", "127.0.0.1:9001", "UP", 1), sorry,
                                                      stat("canary-7", "127.0.0.1:9007", "UP", 7),
                                                      stat("pinned", "127.0.0.1:9008", "UP", 8),
                                                      stat("old-2", "127.0.0.1:9002", "UP", 2)};
  auto plan = make_plan(config, {lb("lb1", servers)}, 1000);
  REQUIRE(plan.has_value());
  REQUIRE(plan->old_servers.size() == 2);
  CHECK(plan->old_servers[0].name == "old-1");
  CHECK(plan->old_servers[1].name == "old-2");
  CHECK(plan->new_names == std::vector<std::string>{"v2-1", "v2-2"});  // match_old counts only the old pool
  REQUIRE(plan->left_out.size() == 3);
  CHECK(plan->left_out[0].name == "sorry");
  CHECK(plan->left_out[0].why == "backup server");
  CHECK(plan->left_out[1].why == "old_pool.exclude: canary-*");
  CHECK(plan->left_out[2].why == "old_pool.exclude: pinned");
  // Capacity counts the old pool only.
  CHECK(plan->capacity[0].up_per_lb == std::vector<std::size_t>{2});
}

TEST_CASE("a backend whose every server is a backup or excluded has nothing to replace", "[lbctl][plan]") {
  auto config = base_config();
  config.old_pool.exclude = {"*"};
  auto plan = make_plan(config, {lb("lb1", {stat("old-1", "127.0.0.1:9001")})}, 1000);
  REQUIRE_FALSE(plan.has_value());
  CHECK_THAT(plan.error().message, Catch::Contains("every server is a backup or excluded"));
}
