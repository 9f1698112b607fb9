// PgJournal: cutover requests for agents (`lbctl submit`): queued, refused
// while the service is busy unless queued on purpose, taken by begin() in the
// cutover's own commit, and never taken twice.

#include "tests/support/catch.hpp"

#include "db/pg_journal.hpp"
#include "tests/support/postgres_fixture.hpp"

using namespace lbctl::db;
using lbctl::ErrorKind;
using lbctl::test::PostgresFixture;

namespace {

std::unique_ptr<PgJournal> open_queue_journal(const PostgresFixture& pg, const std::string& host, int pid) {
  auto journal = PgJournal::open({pg.url(), std::chrono::seconds(5), host, pid});
  if (!journal) FAIL(journal.error().message);
  return std::move(*journal);
}

NewRequest ask(const std::string& service, const std::string& release, bool queue = false) {
  NewRequest r;
  r.service = service;
  r.release = release;
  r.requested_by = "alice@laptop";
  r.config_digest = "abc";
  r.queue = queue;
  return r;
}

NewCutover carrying(const std::string& service, std::int64_t request_id, const std::string& host, int pid) {
  NewCutover c{service, host, pid, "blue_green", R"({"service":")" + service + R"("})", "preflight", ""};
  c.request_id = request_id;
  c.agent = "agent " + host;
  return c;
}

}  // namespace

TEST_CASE("a second request is refused while one is queued or a cutover is unfinished, unless queued on purpose",
          "[integration][db][journal][agent]") {
  PostgresFixture pg;
  auto journal = open_queue_journal(pg, "laptop", 1);
  auto first = journal->submit_request(ask("shop", "v2"));
  REQUIRE(first);
  CHECK(first->state == "queued");
  CHECK(first->release == "v2");
  auto second = journal->submit_request(ask("shop", "v3"));
  REQUIRE_FALSE(second);
  CHECK(second.error().kind == ErrorKind::conflict);
  CHECK(second.error().message.find("request " + std::to_string(first->id) + " queued") != std::string::npos);
  auto queued = journal->submit_request(ask("shop", "v3", true));
  REQUIRE(queued);
  CHECK(journal->submit_request(ask("blog", "v1")));  // another service is not held up

  // Taken by an agent's cutover: the service is busy with it.
  auto agent = open_queue_journal(pg, "web2", 2);
  auto cutover = agent->begin(carrying("shop", first->id, "web2", 2));
  REQUIRE(cutover);
  auto taken = journal->cutover_request(first->id);
  REQUIRE(taken);
  CHECK(taken->state == "taken");
  CHECK(taken->cutover_id == cutover->id);
  CHECK(taken->agent == "agent web2");
  CHECK(taken->taken_at.has_value());
  auto queue = journal->request_queue("shop", 5);
  REQUIRE(queue);
  REQUIRE(queue->size() == 2);
  CHECK((*queue)[0].id == queued->id);  // queued first, then the taken, newest first
  CHECK((*queue)[1].id == first->id);

  CHECK(journal->submit_request(ask("blog", "v2")).error().kind == ErrorKind::conflict);
  CHECK(journal->submit_request(ask("bad name", "v2")).error().kind == ErrorKind::invalid);
  CHECK(journal->submit_request(ask("shop", "v 2", true)).error().kind == ErrorKind::invalid);
  CHECK(journal->cutover_request(999).error().kind == ErrorKind::invalid);
}

TEST_CASE("a request is taken once: a second begin for it is refused and starts nothing",
          "[integration][db][journal][agent]") {
  PostgresFixture pg;
  auto journal = open_queue_journal(pg, "laptop", 1);
  auto request = journal->submit_request(ask("shop", "v2"));
  REQUIRE(request);
  auto a = open_queue_journal(pg, "web1", 11);
  auto first = a->begin(carrying("shop", request->id, "web1", 11));
  REQUIRE(first);
  first->status = CutoverStatus::completed;
  REQUIRE(a->save(*first));
  a->release();
  // The service is idle again, but the request was taken: a late agent's begin is refused.
  auto b = open_queue_journal(pg, "web2", 12);
  auto late = b->begin(carrying("shop", request->id, "web2", 12));
  REQUIRE_FALSE(late);
  CHECK(late.error().kind == ErrorKind::conflict);
  CHECK(late.error().message.find("no longer queued") != std::string::npos);
  CHECK(pg.query_value("SELECT count(*) FROM lbctl.cutovers") == "1");
  // And its lock was let go: a plain cutover starts.
  CHECK(b->begin(carrying("shop", 0, "web2", 12)));
}

TEST_CASE("an agent that stops gives its running cutover up, journaled, so the next one need not wait for the lease",
          "[integration][db][journal][agent]") {
  PostgresFixture pg;
  auto agent = open_queue_journal(pg, "web1", 11);
  auto cutover = agent->begin(carrying("shop", 0, "web1", 11));
  REQUIRE(cutover);
  auto other = open_queue_journal(pg, "web2", 12);
  CHECK(other->lease_left("shop").value().count() > 0);
  auto given = other->give_up("shop", "web1", 11, "agent web1 stopped (SIGTERM)");
  REQUIRE(given);
  CHECK(*given == std::vector<std::int64_t>{cutover->id});
  CHECK(other->lease_left("shop").value().count() == 0);
  CHECK(other->give_up("shop", "web9", 11, "x").value().empty());  // another host's: untouched
  CHECK(pg.query_value("SELECT detail->>'text' FROM lbctl.events WHERE kind = 'warning'", "postgres") ==
        "agent web1 stopped (SIGTERM)");
  // Its runner's next write is refused: it no longer owns it.
  CHECK(agent->save(*cutover).error().kind == ErrorKind::conflict);
}
