#include "db/migration_repair.hpp"

#include "tests/support/catch.hpp"

using namespace lbctl::db;
using lbctl::ErrorKind;
using Strings = std::vector<std::string>;

namespace {

MigrationFile file(Phase phase, const std::string& name, const std::string& sql = "SELECT 1;") {
  auto parsed = parse_migration_file(phase, name, sql);
  REQUIRE(parsed);
  return *parsed;
}

AppliedMigration row(const MigrationFile& f, AppliedMigration::Status status = AppliedMigration::Status::done) {
  AppliedMigration record;
  record.phase = f.phase;
  record.version = f.version.text();
  record.name = f.name;
  record.sha256 = f.sha256;
  record.status = status;
  return record;
}

Strings labels(const std::vector<MigrationFile>& files) {
  Strings out;
  for (const auto& f : files) out.push_back(f.label());
  return out;
}

// Built in each test: parse_migration_file's REQUIRE needs a running test.
std::vector<MigrationFile> pre_files() {
  return {file(Phase::pre, "01_orders.sql"), file(Phase::pre, "02_total.sql"), file(Phase::pre, "04_index.sql")};
}
std::vector<MigrationFile> post_files() {
  return {file(Phase::post, "03_drop_legacy.sql"), file(Phase::post, "05_drop.sql")};
}

}  // namespace

TEST_CASE("baseline records both phases' files up to and including the version", "[db][migrations][repair]") {
  auto files = baseline_files("03", pre_files(), post_files(), 0);
  REQUIRE(files);
  CHECK(labels(*files) == Strings{"pre/01_orders.sql", "pre/02_total.sql", "post/03_drop_legacy.sql"});
  // Versions compare by number: 3 and 03 are the same version, but --through must be written as a file is.
  auto through_2 = baseline_files("02", pre_files(), post_files(), 0);
  REQUIRE(through_2);
  CHECK(labels(*through_2) == Strings{"pre/01_orders.sql", "pre/02_total.sql"});
}

TEST_CASE("baseline refuses a history that has rows", "[db][migrations][repair]") {
  auto refused = baseline_files("03", pre_files(), post_files(), 2);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::invalid);
  CHECK(refused.error().message.find("already has 2 row(s)") != std::string::npos);
  CHECK(refused.error().message.find("lbctl_schema_migrations") != std::string::npos);
}

TEST_CASE("baseline refuses a version no file has, naming the nearest", "[db][migrations][repair]") {
  auto typo = baseline_files("030", pre_files(), post_files(), 0);
  REQUIRE_FALSE(typo);
  CHECK(typo.error().message ==
        "--through 030: no file in pre/ or post/ has that version (the nearest are post/05_drop.sql): name the "
        "newest file the database already has");
  auto gap = baseline_files("035", pre_files(), post_files(), 0);
  REQUIRE_FALSE(gap);
  CHECK(gap.error().message.find("the nearest are post/05_drop.sql") != std::string::npos);
  auto between = baseline_files("3_5", pre_files(), post_files(), 0);
  REQUIRE_FALSE(between);
  CHECK(between.error().message.find("the nearest are post/03_drop_legacy.sql and pre/04_index.sql") !=
        std::string::npos);
  auto words = baseline_files("03_drop", pre_files(), post_files(), 0);
  REQUIRE_FALSE(words);
  CHECK(words.error().message.starts_with("--through: '03_drop' is not a version"));
}

TEST_CASE("repair finds unfinished no-transaction files and changed applied files", "[db][migrations][repair]") {
  const auto k_pre = pre_files();
  const auto index = file(Phase::pre, "04_index.sql", "-- lbctl:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);");
  const auto edited = file(Phase::pre, "02_total.sql", "SELECT 2;");
  const auto renamed = file(Phase::pre, "01_create_orders.sql");
  std::vector<AppliedMigration> history{row(k_pre[0]), row(k_pre[1]), row(index, AppliedMigration::Status::running)};
  auto items = find_repairs({renamed, edited, index}, history);
  REQUIRE(items.size() == 3);
  CHECK(items[0].kind == RepairItem::Kind::changed);
  CHECK(items[0].label() == "pre/01_orders.sql");
  CHECK(items[0].advice().find("applied as pre/01_orders.sql") != std::string::npos);
  CHECK(items[1].kind == RepairItem::Kind::changed);
  CHECK(items[1].advice().find("`--accept pre/02_total.sql`") != std::string::npos);
  CHECK(items[2].kind == RepairItem::Kind::unfinished);
  CHECK(items[2].advice().find("`--done pre/04_index.sql`") != std::string::npos);
  CHECK(items[2].advice().find("`--undo pre/04_index.sql`") != std::string::npos);
  CHECK(find_repairs(k_pre, {row(k_pre[0]), row(k_pre[1])}).empty());
}

TEST_CASE("a repair's file is named by phase/name, by a path, or by its name alone", "[db][migrations][repair]") {
  const auto index = file(Phase::pre, "04_index.sql", "-- lbctl:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);");
  const std::vector<AppliedMigration> pre_history{row(index, AppliedMigration::Status::running)};
  for (const char* arg : {"pre/04_index.sql", "db/migrations/pre/04_index.sql", "04_index.sql"}) {
    auto planned = plan_repair(RepairAction::done, arg, {index}, pre_history, {}, {});
    REQUIRE(planned);
    CHECK(planned->label() == "pre/04_index.sql");
  }
  auto unknown = plan_repair(RepairAction::done, "09_nope.sql", {index}, pre_history, {}, {});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message == "09_nope.sql: no such file in pre/ or post/, nor in the history");
  const auto twin = file(Phase::post, "04_index.sql");
  auto both = plan_repair(RepairAction::done, "04_index.sql", {index}, pre_history, {twin}, {});
  REQUIRE_FALSE(both);
  CHECK(both.error().message.find("both pre/ and post/ have it: say which, e.g. pre/04_index.sql") !=
        std::string::npos);
}

TEST_CASE("done and undo are only for a file that never finished", "[db][migrations][repair]") {
  const auto k_pre = pre_files();
  const std::vector<AppliedMigration> history{row(k_pre[0])};
  auto done = plan_repair(RepairAction::done, "pre/01_orders.sql", k_pre, history, {}, {});
  REQUIRE_FALSE(done);
  CHECK(done.error().message.starts_with("pre/01_orders.sql is recorded done (applied, "));
  auto absent = plan_repair(RepairAction::undo, "pre/02_total.sql", k_pre, history, {}, {});
  REQUIRE_FALSE(absent);
  CHECK(absent.error().message.starts_with("pre/02_total.sql is not in the history: nothing to mark not applied"));
  const std::vector<AppliedMigration> failed{row(k_pre[1], AppliedMigration::Status::failed)};
  auto undo = plan_repair(RepairAction::undo, "pre/02_total.sql", k_pre, failed, {}, {});
  REQUIRE(undo);
  CHECK(undo->action == RepairAction::undo);
}

TEST_CASE("accept needs an applied file that differs from its record", "[db][migrations][repair]") {
  const auto k_post = post_files();
  const auto edited = file(Phase::post, "03_drop_legacy.sql", "SELECT 3;");
  const std::vector<AppliedMigration> history{row(k_post[0])};
  auto accepted = plan_repair(RepairAction::accept, "post/03_drop_legacy.sql", {}, {}, {edited}, history);
  REQUIRE(accepted);
  CHECK(accepted->recorded.sha256 == k_post[0].sha256);
  CHECK(accepted->file->sha256 == edited.sha256);
  auto same = plan_repair(RepairAction::accept, "post/03_drop_legacy.sql", {}, {}, k_post, history);
  REQUIRE_FALSE(same);
  CHECK(same.error().message.find("is exactly what was applied") != std::string::npos);
  auto pending = plan_repair(RepairAction::accept, "post/05_drop.sql", {}, {}, k_post, history);
  REQUIRE_FALSE(pending);
  CHECK(pending.error().message.starts_with("post/05_drop.sql is not recorded applied"));
}
