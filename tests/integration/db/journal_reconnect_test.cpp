// The journal across a restart of Postgres: calls fail with unreachable while
// it is down; reacquire() reconnects, takes the service lock again and checks
// the row is the one this lbctl last wrote.

#include "tests/support/catch.hpp"
#include <thread>

#include "db/pg_journal.hpp"
#include "tests/support/postgres_fixture.hpp"

using namespace lbctl::db;
using lbctl::ErrorKind;
using lbctl::test::PostgresFixture;

namespace {

std::unique_ptr<PgJournal> open_journal(const PostgresFixture& pg, const std::string& host = "h1", int pid = 111) {
  // A short lease: a take-over waits it out.
  auto journal = PgJournal::open({pg.url(), std::chrono::seconds(2), host, pid, std::chrono::seconds(10),
                                  std::chrono::milliseconds(300)});
  if (!journal) FAIL(journal.error().message);
  return std::move(*journal);
}

NewCutover new_cutover(const std::string& host = "h1", int pid = 111) {
  return NewCutover{"shop", host, pid, "blue_green", R"({"service":"shop"})", "preflight", ""};
}

}  // namespace

TEST_CASE("after a restart of Postgres the journal reconnects, takes the lock again and goes on saving",
          "[integration][db][journal][outage]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  auto cutover = journal->begin(new_cutover());
  REQUIRE(cutover);
  cutover->step = "watch";
  REQUIRE(journal->save(*cutover));
  pg.stop();
  auto beat = journal->heartbeat(cutover->id);
  REQUIRE_FALSE(beat);
  auto while_down = journal->reacquire(cutover->id, cutover->version, "h1", 111);
  REQUIRE_FALSE(while_down);
  CHECK(while_down.error().kind == ErrorKind::unreachable);
  CHECK(while_down.error().message.find("host=") == std::string::npos);  // never the URL
  pg.start();
  auto back = journal->reacquire(cutover->id, cutover->version, "h1", 111);
  REQUIRE(back);
  CHECK(back->version == cutover->version);
  CHECK(back->status == CutoverStatus::running);  // the lock is held again: not interrupted
  REQUIRE(journal->heartbeat(cutover->id));
  cutover->step = "detach";
  REQUIRE(journal->save(*cutover));
  // Another lbctl cannot take over meanwhile.
  auto other = open_journal(pg, "h2", 222);
  auto adopted = other->adopt("shop", "h2", 222);
  REQUIRE_FALSE(adopted);
  CHECK(adopted.error().kind == ErrorKind::conflict);
}

TEST_CASE("after a restart, reacquire refuses when another lbctl took the lock, or took the cutover over",
          "[integration][db][journal][outage]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  auto cutover = journal->begin(new_cutover());
  REQUIRE(cutover);
  pg.stop();
  pg.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // its lease runs out
  SECTION("the lock is held by another") {
    auto other = open_journal(pg, "h2", 222);
    auto adopted = other->adopt("shop", "h2", 222);
    REQUIRE(adopted);
    auto back = journal->reacquire(cutover->id, cutover->version, "h1", 111);
    REQUIRE_FALSE(back);
    CHECK(back.error().kind == ErrorKind::conflict);
    // Taken over: the token changed, whoever holds the lock.
    CHECK(back.error().message.find("owner host h2") != std::string::npos);
  }
  SECTION("another took it over, then let go") {
    {
      auto other = open_journal(pg, "h2", 222);
      REQUIRE(other->adopt("shop", "h2", 222));
    }
    auto back = journal->reacquire(cutover->id, cutover->version, "h1", 111);
    REQUIRE_FALSE(back);
    CHECK(back.error().kind == ErrorKind::conflict);
    CHECK(back.error().message.find("owner host h2") != std::string::npos);
    // The other let go cleanly (it gave its token up): no lease to wait for.
    // It let the lock go again: the service can be resumed.
    auto resumer = open_journal(pg, "h3", 333);
    CHECK(resumer->adopt("shop", "h3", 333));
  }
}
