#include "tests/support/catch.hpp"

#include "db/migrator.hpp"

using namespace lbctl::db;
using lbctl::ErrorKind;

namespace {

MigrationFile file(const std::string& name, const std::string& sql = "SELECT 1;") {
  auto parsed = parse_migration_file(Phase::pre, name, sql);
  REQUIRE(parsed);
  return *parsed;
}

AppliedMigration done(const MigrationFile& f, AppliedMigration::Status status = AppliedMigration::Status::done) {
  AppliedMigration record;
  record.phase = f.phase;
  record.version = f.version.text();
  record.name = f.name;
  record.sha256 = f.sha256;
  record.status = status;
  return record;
}

std::vector<std::string> names(const PhasePlan& plan) {
  std::vector<std::string> out;
  for (const auto& f : plan.pending) out.push_back(f.name);
  return out;
}

}  // namespace

TEST_CASE("files without a done record are pending, transactional ones first", "[db][migrations]") {
  const auto a = file("1_a.sql");
  const auto b = file("2_b.sql", "-- lbctl:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);");
  const auto c = file("3_c.sql");
  auto plan = make_phase_plan(Phase::pre, {a, b, c}, {}, false);
  REQUIRE(plan);
  CHECK(names(*plan) == std::vector<std::string>{"1_a.sql", "3_c.sql", "2_b.sql"});
  CHECK(plan->applied == 0);
}

TEST_CASE("applied files are not pending", "[db][migrations]") {
  const auto a = file("1_a.sql");
  const auto b = file("2_b.sql");
  auto plan = make_phase_plan(Phase::pre, {a, b}, {done(a)}, false);
  REQUIRE(plan);
  CHECK(names(*plan) == std::vector<std::string>{"2_b.sql"});
  CHECK(plan->applied == 1);
}

TEST_CASE("a changed applied file stops the plan and names the file", "[db][migrations]") {
  const auto applied = file("1_a.sql", "CREATE TABLE a (id int);");
  const auto edited = file("1_a.sql", "CREATE TABLE a (id bigint);");
  auto plan = make_phase_plan(Phase::pre, {edited}, {done(applied)}, false);
  REQUIRE_FALSE(plan);
  CHECK(plan.error().kind == ErrorKind::invalid);
  CHECK(plan.error().message.starts_with("pre/1_a.sql was changed after it was applied"));
}

TEST_CASE("a renamed applied file is refused", "[db][migrations]") {
  const auto applied = file("1_a.sql");
  auto plan = make_phase_plan(Phase::pre, {file("1_renamed.sql")}, {done(applied)}, false);
  REQUIRE_FALSE(plan);
  CHECK(plan.error().message.find("has the version of the applied pre/1_a.sql") != std::string::npos);
}

TEST_CASE("a pending file older than an applied one needs allow_out_of_order", "[db][migrations]") {
  const auto late = file("1_late.sql");
  const auto b = file("2_b.sql");
  auto refused = make_phase_plan(Phase::pre, {late, b}, {done(b)}, false);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.starts_with("pre/1_late.sql is pending but older than the applied pre/2_b.sql"));
  auto allowed = make_phase_plan(Phase::pre, {late, b}, {done(b)}, true);
  REQUIRE(allowed);
  CHECK(names(*allowed) == std::vector<std::string>{"1_late.sql"});
}

TEST_CASE("a file recorded running is unfinished and a failed one is pending again", "[db][migrations]") {
  const auto a = file("1_a.sql", "-- lbctl:no-transaction\nVACUUM t;");
  const auto b = file("2_b.sql", "-- lbctl:no-transaction\nVACUUM u;");
  auto plan =
      make_phase_plan(Phase::pre, {a, b},
                      {done(a, AppliedMigration::Status::running), done(b, AppliedMigration::Status::failed)}, false);
  REQUIRE(plan);
  REQUIRE(plan->unfinished.size() == 1);
  CHECK(plan->unfinished[0].name == "1_a.sql");
  CHECK(names(*plan) == std::vector<std::string>{"2_b.sql"});
}

TEST_CASE("another phase's history does not count", "[db][migrations]") {
  const auto a = file("1_a.sql");
  auto record = done(a);
  record.phase = Phase::post;
  auto plan = make_phase_plan(Phase::pre, {a}, {record}, false);
  REQUIRE(plan);
  CHECK(plan->pending.size() == 1);
}
