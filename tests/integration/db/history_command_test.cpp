#include "tests/support/catch.hpp"
#include <nlohmann/json.hpp>
#include <sstream>

#include "db/pg_journal.hpp"
#include "tests/integration/db/command_support.hpp"

using namespace lbctl::test;
using namespace lbctl::db;

namespace {

void record_two_cutovers(CommandSetup& s) {
  auto journal = PgJournal::open({s.pg.url("lbctl"), std::chrono::seconds(5), "web1", 4242});
  REQUIRE(journal);
  auto first = (*journal)->begin({"shop", "web1", 4242, "blue_green", "{}", "preflight"});
  REQUIRE(first);
  first->step = "terminate";
  first->status = CutoverStatus::completed;
  REQUIRE((*journal)->save(*first));
  (*journal)->release();
  auto second = (*journal)->begin({"shop", "web1", 4243, "blue_green", "{}", "preflight"});
  REQUIRE(second);
  second->step = "verify";
  second->status = CutoverStatus::rolled_back;
  second->error = "v2-1: expected 200, got 503";
  REQUIRE((*journal)->save(*second));
  (*journal)->release();
  // Another service's cutover is not shown.
  REQUIRE((*journal)->begin({"blog", "web1", 1, "blue_green", "{}", "preflight"}));
}

}  // namespace

TEST_CASE("lbctl history lists the service's cutovers, newest first, with outcome and step", "[integration][db][cli]") {
  CommandSetup s;
  record_two_cutovers(s);
  auto out = s.lbctl({"history", "-c", s.config});
  INFO(out.out);
  CHECK(out.exit_code == 0);
  std::istringstream lines(out.out);
  std::string newest, oldest, extra;
  std::getline(lines, newest);
  std::getline(lines, oldest);
  CHECK_FALSE(std::getline(lines, extra));
  CHECK(newest.starts_with("2 rolled_back release=r2 old_release=r1 started="));
  CHECK(newest.find(" step=verify host=web1 pid=4243 error=v2-1: expected 200, got 503") != std::string::npos);
  CHECK(oldest.starts_with("1 completed release=r1 old_release=- started="));
  CHECK(oldest.find(" duration=") != std::string::npos);
  CHECK(oldest.find(" step=terminate ") != std::string::npos);
}

TEST_CASE("lbctl history --json --limit prints one object per cutover", "[integration][db][cli]") {
  CommandSetup s;
  record_two_cutovers(s);
  auto out = s.lbctl({"history", "-c", s.config, "--json", "--limit", "1"});
  INFO(out.out);
  CHECK(out.exit_code == 0);
  const auto j = nlohmann::json::parse(out.out.substr(0, out.out.find('\n')));
  CHECK(out.out.find('\n') == out.out.size() - 1);
  CHECK(j["id"] == 2);
  CHECK(j["status"] == "rolled_back");
  CHECK(j["step"] == "verify");
  CHECK(j["error"] == "v2-1: expected 200, got 503");
  CHECK(j["duration_ms"].get<std::int64_t>() >= 0);
  CHECK(j["finished_at"].is_string());
}

TEST_CASE("lbctl history says when there is nothing yet, and exits 5 without a database", "[integration][db][cli]") {
  CommandSetup s;
  auto empty = s.lbctl({"history", "-c", s.config});
  CHECK(empty.exit_code == 0);
  CHECK(empty.out == "no cutovers recorded for service shop\n");
  s.pg.stop();
  auto down = s.lbctl({"history", "-c", s.config});
  CHECK(down.exit_code == 5);
  CHECK(down.out.find("state database: cannot connect") != std::string::npos);
}
