// PgJournal: what other lbctl processes ask of a cutover, from any machine
// (`lbctl abort`, `lbctl promote`, `lbctl undo`), and what its owner reads.

#include "tests/support/catch.hpp"

#include "db/pg_journal.hpp"
#include "tests/support/postgres_fixture.hpp"

using namespace lbctl::db;
using lbctl::ErrorKind;
using lbctl::test::PostgresFixture;

namespace {

std::unique_ptr<PgJournal> open_journal(const PostgresFixture& pg, const std::string& host = "h1", int pid = 111) {
  auto journal = PgJournal::open({pg.url(), std::chrono::seconds(5), host, pid});
  if (!journal) FAIL(journal.error().message);
  return std::move(*journal);
}

NewCutover new_cutover(const std::string& service, const std::string& host = "h1", int pid = 111) {
  return NewCutover{service, host, pid, "blue_green", R"({"service":")" + service + R"("})", "preflight", ""};
}

}  // namespace

TEST_CASE("an abort requested from another machine is seen by the owner", "[integration][db][journal]") {
  PostgresFixture pg;
  auto owner = open_journal(pg, "web1", 1);
  auto cutover = owner->begin(new_cutover("shop", "web1", 1));
  REQUIRE(cutover);
  CHECK_FALSE(*owner->abort_requested(cutover->id));
  auto operator_journal = open_journal(pg, "laptop", 2);
  CHECK(*operator_journal->request_abort("shop") == cutover->id);
  CHECK(*owner->abort_requested(cutover->id));
  // The request does not bump the version: the owner's next save still works.
  cutover->step = "rollback";
  CHECK(owner->save(*cutover));
  CHECK(operator_journal->request_abort("blog").error().kind == ErrorKind::invalid);
}

TEST_CASE("promote and undo requested from another machine are seen", "[integration][db][journal]") {
  PostgresFixture pg;
  auto owner = open_journal(pg, "web1", 1);
  auto cutover = owner->begin(new_cutover("shop", "web1", 1));
  REQUIRE(cutover);
  auto none = owner->requests(cutover->id);
  REQUIRE(none);
  CHECK_FALSE(none->abort);
  CHECK_FALSE(none->promote);
  CHECK_FALSE(none->undo);
  CHECK(none->promote_by.empty());
  auto operator_journal = open_journal(pg, "laptop", 2);
  CHECK(*operator_journal->request_promote("shop", "alice@laptop") == cutover->id);
  auto seen = owner->requests(cutover->id);
  REQUIRE(seen);
  CHECK(seen->promote);
  CHECK(seen->promote_by == "alice@laptop");
  CHECK_FALSE(seen->undo);
  CHECK_FALSE(seen->abort);
  const auto first = *owner->get(cutover->id);
  REQUIRE(first.promote_requested_at);
  CHECK(first.promote_requested_by == "alice@laptop");
  CHECK_FALSE(first.undo_requested_at);
  // A repeat keeps the first request's time and author.
  CHECK(*operator_journal->request_promote("shop", "bob@laptop") == cutover->id);
  const auto repeated = *owner->get(cutover->id);
  CHECK(repeated.promote_requested_at == first.promote_requested_at);
  CHECK(repeated.promote_requested_by == "alice@laptop");
  // An interrupted cutover takes requests too.
  owner->release();
  CHECK(*operator_journal->request_undo("shop", "bob@laptop") == cutover->id);
  CHECK(*operator_journal->request_undo("shop", "carol@laptop") == cutover->id);
  REQUIRE(operator_journal->request_abort("shop"));
  auto all = owner->requests(cutover->id);
  REQUIRE(all);
  CHECK(all->abort);
  CHECK(all->promote_by == "alice@laptop");
  CHECK(all->undo);
  CHECK(all->undo_by == "bob@laptop");
  const auto read = *owner->latest("shop");
  CHECK(read->status == CutoverStatus::interrupted);
  CHECK(read->undo_requested_at);
  CHECK(read->undo_requested_by == "bob@laptop");
  CHECK((*owner->history("shop", 1))[0].promote_requested_by == "alice@laptop");
  // Requests do not bump the version: the owner's next save still works.
  auto adopted = owner->adopt("shop", "web1", 1);
  REQUIRE(adopted);
  adopted->step = "undo";
  CHECK(owner->save(*adopted));
}

TEST_CASE("promote and undo need an unfinished cutover and an author", "[integration][db][journal]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  auto promote = journal->request_promote("shop", "alice@web1");
  REQUIRE_FALSE(promote);
  CHECK(promote.error().kind == ErrorKind::invalid);
  CHECK(promote.error().message.find("service shop has no unfinished cutover to promote") != std::string::npos);
  auto cutover = journal->begin(new_cutover("shop"));
  REQUIRE(cutover);
  CHECK(journal->request_promote("shop", "").error().kind == ErrorKind::invalid);
  CHECK(journal->request_undo("shop", "").error().kind == ErrorKind::invalid);
  CHECK_FALSE(journal->get(cutover->id)->promote_requested_at);
  cutover->status = CutoverStatus::needs_operator;
  REQUIRE(journal->save(*cutover));
  CHECK(*journal->request_undo("shop", "alice@web1") == cutover->id);
  cutover->status = CutoverStatus::rolled_back;
  REQUIRE(journal->save(*cutover));
  auto undo = journal->request_undo("shop", "alice@web1");
  REQUIRE_FALSE(undo);
  CHECK(undo.error().kind == ErrorKind::invalid);
  CHECK(undo.error().message.find("service shop has no unfinished cutover to undo") != std::string::npos);
  auto unknown = journal->requests(cutover->id + 100);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().kind == ErrorKind::invalid);
}
