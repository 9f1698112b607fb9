// PgJournal's restores (schema v3): recorded, finished, listed, and read as
// interrupted when the lbctl running one let go of the service lock.

#include "tests/support/catch.hpp"

#include "db/pg_journal.hpp"
#include "tests/support/postgres_fixture.hpp"

using namespace lbctl::db;
using lbctl::ErrorKind;
using lbctl::test::PostgresFixture;

namespace {

std::unique_ptr<PgJournal> open_journal(const PostgresFixture& pg) {
  auto journal = PgJournal::open({pg.url(), std::chrono::seconds(5), "web1", 4242});
  if (!journal) FAIL(journal.error().message);
  return std::move(*journal);
}

std::int64_t finished_cutover(PgJournal& journal) {
  auto cutover = journal.begin({"shop", "web1", 4242, "blue_green", "{}", "preflight"});
  REQUIRE(cutover);
  cutover->status = CutoverStatus::completed;
  REQUIRE(journal.save(*cutover));
  journal.release();
  return cutover->id;
}

NewRestore restore_of(std::int64_t cutover_id) {
  return NewRestore{"shop",
                    cutover_id,
                    "/var/backups/lbctl/shop-1.dump",
                    JournalTime{std::chrono::seconds(1'795'255'200)},
                    "alice@web1",
                    "web1",
                    4242};
}

}  // namespace

TEST_CASE("a restore is recorded running under the service lock, then done, newest first",
          "[integration][db][journal][restore]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  CHECK(PgJournal::schema_version() >= 5);
  const auto cutover = finished_cutover(*journal);
  REQUIRE(journal->lock_service("shop", "web1", 4242));
  auto first = journal->begin_restore(restore_of(cutover));
  REQUIRE(first);
  CHECK(first->status == RestoreStatus::running);
  CHECK(format_utc(*first->backup_taken_at) == "2026-11-21 10:00:00 UTC");
  REQUIRE(journal->finish_restore(first->id, RestoreStatus::failed, "boom", R"({"attempts":1})"));
  auto second = journal->begin_restore(restore_of(cutover));
  REQUIRE(second);
  CHECK((*journal->restores("shop", 10))[0].status == RestoreStatus::running);
  REQUIRE(journal->finish_restore(second->id, RestoreStatus::done, "", R"({"pending":["pre/1_a.sql"]})"));
  journal->release();

  auto listed = journal->restores("shop", 10);
  REQUIRE(listed);
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].id == second->id);
  CHECK((*listed)[0].status == RestoreStatus::done);
  CHECK((*listed)[0].run_by == "alice@web1");
  CHECK((*listed)[0].finished_at);
  CHECK((*listed)[0].detail_json == R"({"pending": ["pre/1_a.sql"]})");
  CHECK((*listed)[1].status == RestoreStatus::failed);
  CHECK((*listed)[1].error == "boom");
  CHECK(journal->restores("blog", 10)->empty());
}

TEST_CASE("a running restore whose lbctl let go of the lock reads interrupted", "[integration][db][journal][restore]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  const auto cutover = finished_cutover(*journal);
  REQUIRE(journal->lock_service("shop", "web1", 4242));
  auto restore = journal->begin_restore(restore_of(cutover));
  REQUIRE(restore);
  journal->release();  // as when lbctl dies: Postgres drops the lock with the connection
  CHECK((*journal->restores("shop", 1))[0].status == RestoreStatus::interrupted);
}

TEST_CASE("restores refuse an unknown cutover, a derived status and bad JSON", "[integration][db][journal][restore]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  const auto cutover = finished_cutover(*journal);
  auto unknown = journal->begin_restore(restore_of(cutover + 10));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message == "no cutover " + std::to_string(cutover + 10));
  auto restore = journal->begin_restore(restore_of(cutover));
  REQUIRE(restore);
  CHECK(journal->finish_restore(restore->id, RestoreStatus::interrupted, "", "{}").error().kind == ErrorKind::invalid);
  CHECK(journal->finish_restore(restore->id, RestoreStatus::done, "", "{nope").error().kind == ErrorKind::invalid);
  CHECK(journal->finish_restore(restore->id + 5, RestoreStatus::done, "", "{}").error().kind == ErrorKind::invalid);
}
