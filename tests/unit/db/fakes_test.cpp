#include "tests/support/catch.hpp"

#include "tests/support/fake_journal.hpp"
#include "tests/support/fake_migrator.hpp"
#include "tests/support/manual_clock.hpp"

using namespace lbctl::db;
using lbctl::Error;
using lbctl::ErrorKind;
using lbctl::test::FakeJournal;
using lbctl::test::FakeMigrator;

namespace {

NewCutover shop() { return NewCutover{"shop", "web1", 42, "blue_green", "{}", "preflight", ""}; }

}  // namespace

TEST_CASE("the fake journal refuses a held service naming the holder", "[db][fakes]") {
  FakeJournal owner;
  auto first = owner.begin(shop());
  REQUIRE(first);
  FakeJournal other;
  other.seed(*first);
  other.hold_lock("shop");
  auto refused = other.begin(shop());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::conflict);
  CHECK(refused.error().message.starts_with(
      "service shop is locked by cutover 1 (host web1, pid 42, started 2026-11-21"));
}

TEST_CASE("the fake journal reads a dead owner's cutover as interrupted and lets adopt take it", "[db][fakes]") {
  FakeJournal journal;
  auto cutover = journal.begin(shop());
  REQUIRE(cutover);
  journal.owner_died();
  CHECK((*journal.latest("shop"))->status == CutoverStatus::interrupted);
  auto refused = journal.begin(shop());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("run `lbctl resume`") != std::string::npos);
  auto adopted = journal.adopt("shop", "web2", 7);
  REQUIRE(adopted);
  CHECK(adopted->status == CutoverStatus::running);
  CHECK(adopted->version == cutover->version + 1);
  CHECK(journal.calls == std::vector<std::string>{"begin shop", "latest shop", "begin shop", "adopt shop"});
}

TEST_CASE("the fake journal refuses a stale save and a lost lock", "[db][fakes]") {
  FakeJournal journal;
  auto cutover = journal.begin(shop());
  REQUIRE(cutover);
  cutover->step = "backup";
  REQUIRE(journal.save(*cutover));
  journal.other_writer(cutover->id);
  CHECK(journal.save(*cutover).error().kind == ErrorKind::conflict);
  journal.lose_lock();
  CHECK(journal.heartbeat(cutover->id).error().kind == ErrorKind::conflict);
  CHECK_FALSE(journal.held_service());
  CHECK(journal.calls_starting("save") ==
        std::vector<std::string>{"save 1 v1 running backup", "save 1 v2 running backup"});
}

TEST_CASE("the fake journal fails the next call of a method when told to", "[db][fakes]") {
  FakeJournal journal;
  journal.fail_next("begin", Error{ErrorKind::unreachable, "state database: cannot connect"});
  CHECK(journal.begin(shop()).error().kind == ErrorKind::unreachable);
  CHECK(journal.begin(shop()));
}

TEST_CASE("the fake journal keeps the first promote and undo request", "[db][fakes]") {
  FakeJournal journal;
  CHECK(journal.request_promote("shop", "alice@web1").error().message ==
        "service shop has no unfinished cutover to promote");
  auto cutover = journal.begin(shop());
  REQUIRE(cutover);
  CHECK(*journal.request_promote("shop", "alice@web1") == cutover->id);
  CHECK(*journal.request_promote("shop", "bob@web2") == cutover->id);
  CHECK(journal.request_undo("shop", "").error().kind == ErrorKind::invalid);
  journal.owner_died();  // an interrupted cutover takes requests too
  CHECK(*journal.request_undo("shop", "bob@web2") == cutover->id);
  auto requests = journal.requests(cutover->id);
  REQUIRE(requests);
  CHECK_FALSE(requests->abort);
  CHECK(requests->promote);
  CHECK(requests->promote_by == "alice@web1");
  CHECK(requests->undo);
  CHECK(requests->undo_by == "bob@web2");
  CHECK(journal.get(cutover->id)->promote_requested_at);
  CHECK(journal.requests(99).error().message == "no cutover 99");
  journal.fail_next("requests", Error{ErrorKind::unreachable, "state database: down"});
  CHECK(journal.requests(cutover->id).error().kind == ErrorKind::unreachable);
  CHECK(journal.calls_starting("request") ==
        std::vector<std::string>{"request_promote shop alice@web1", "request_promote shop alice@web1",
                                 "request_promote shop bob@web2", "request_undo shop ", "request_undo shop bob@web2",
                                 "requests 1", "requests 99", "requests 1"});
}

TEST_CASE("the fake migrator applies pending files once and records the order", "[db][fakes]") {
  lbctl::test::Simulation sim;
  FakeMigrator migrator;
  migrator.set_pending(Phase::pre, {"1_add.sql", "!2_index.sql"});
  migrator.fail_next_apply(Phase::pre, Error{ErrorKind::refused, "pre/1_add.sql:1: boom"});
  CHECK_FALSE(sim.run(migrator.apply(Phase::pre, 7)));
  CHECK(migrator.plan(Phase::pre)->pending.size() == 2);
  auto report = sim.run(migrator.apply(Phase::pre, 7));
  REQUIRE(report);
  CHECK(report->applied.size() == 2);
  CHECK(report->applied[1].no_transaction);
  CHECK(migrator.applied(Phase::pre) == std::vector<std::string>{"1_add.sql", "2_index.sql"});
  CHECK(migrator.plan(Phase::pre)->pending.empty());
  CHECK(migrator.calls ==
        std::vector<std::string>{"apply pre cutover=7", "plan pre", "apply pre cutover=7", "plan pre"});
}
