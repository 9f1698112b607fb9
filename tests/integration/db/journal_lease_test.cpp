// The journal's fencing against a real Postgres: a runner whose cutover was
// taken over has every later write refused by the owner token; a take-over
// waits out the lease; and a state database cut off without a reset is an
// error within state.partition_timeout, not after the kernel's 15 minutes.

#include "tests/support/catch.hpp"
#include <thread>

#include "db/pg_journal.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/network_fault.hpp"
#include "tests/support/postgres_fixture.hpp"

using namespace lbctl::db;
using namespace std::chrono_literals;
using lbctl::ErrorKind;
using lbctl::test::PostgresFixture;

namespace {

constexpr std::chrono::milliseconds k_lease{500};

std::unique_ptr<PgJournal> open_journal(const std::string& url, const std::string& host, int pid,
                                        std::chrono::milliseconds partition = 10s) {
  auto journal = PgJournal::open({url, 5s, host, pid, partition, k_lease});
  if (!journal) FAIL(journal.error().message);
  return std::move(*journal);
}

NewCutover new_cutover(const std::string& host, int pid) {
  return NewCutover{"shop", host, pid, "blue_green", R"({"service":"shop"})", "preflight", ""};
}

// The server ends the sessions holding service locks, as it does for a
// client it stopped hearing from.
void drop_lock_sessions(PostgresFixture& pg) {
  pg.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'lbctl[%] cutover%'");
}

}  // namespace

TEST_CASE("a runner whose cutover was taken over has every later write refused by the owner token",
          "[integration][db][journal][lease]") {
  PostgresFixture pg;
  auto runner = open_journal(pg.url(), "web1", 1);
  auto row = runner->begin(new_cutover("web1", 1));
  REQUIRE(row);
  CHECK_FALSE(row->owner_token.empty());
  drop_lock_sessions(pg);

  auto other = open_journal(pg.url(), "web2", 2);
  // Its lock is gone, but it beat less than a lease ago: it may still be acting.
  auto early = other->adopt("shop", "web2", 2);
  REQUIRE_FALSE(early);
  CHECK(early.error().kind == ErrorKind::conflict);
  CHECK(early.error().message.find("lease") != std::string::npos);
  CHECK(other->lease_left("shop").value() > 0ms);
  std::this_thread::sleep_for(k_lease + 100ms);
  CHECK(other->lease_left("shop").value() == 0ms);
  auto taken = other->adopt("shop", "web2", 2);
  REQUIRE(taken);
  CHECK(taken->owner_token != row->owner_token);

  // The old runner, back: everything it writes about the cutover is refused.
  row->step = "detach";
  const auto saved = runner->save(*row);
  REQUIRE_FALSE(saved);
  CHECK(saved.error().kind == ErrorKind::conflict);
  CHECK(saved.error().message.find("taken over by another lbctl") != std::string::npos);
  CHECK(runner->heartbeat(row->id).error().kind == ErrorKind::conflict);
  CHECK(runner->add_event(row->id, "detach", "detached", "{}").error().kind == ErrorKind::conflict);
  CHECK(runner->save_servers(row->id, {ServerRecord{Pool::old_pool, "old-1", "127.0.0.1:1", "detached", {}, {}}})
            .error()
            .kind == ErrorKind::conflict);
  CHECK(runner->reacquire(row->id, row->version, "web1", 1).error().kind == ErrorKind::conflict);
  // The new owner's writes go through, and a request from a third process too.
  taken->step = "rollback";
  CHECK(other->save(*taken));
  CHECK(open_journal(pg.url(), "web3", 3)->add_event(row->id, "rollback", "requested", "{}"));
  const auto stored = other->get(row->id).value();
  CHECK(stored.step == "rollback");
  CHECK(stored.host == "web2");
}

TEST_CASE("a cutover given up by a runner that let go is taken over at once", "[integration][db][journal][lease]") {
  PostgresFixture pg;
  {
    auto runner = open_journal(pg.url(), "web1", 1);
    REQUIRE(runner->begin(new_cutover("web1", 1)));
  }  // released: the token cleared, the lock let go
  auto other = open_journal(pg.url(), "web2", 2);
  CHECK(other->lease_left("shop").value() == 0ms);
  CHECK(other->adopt("shop", "web2", 2));
}

TEST_CASE("a state database cut off without a reset is an error within partition_timeout",
          "[integration][db][journal][lease]") {
  PostgresFixture pg(/*tcp=*/true);
  lbctl::test::TcpRelay relay(pg.tcp_port());
  auto runner = open_journal(pg.tcp_url("postgres", relay.host(), relay.port()), "web1", 1, 2s);
  auto row = runner->begin(new_cutover("web1", 1));
  REQUIRE(row);
  REQUIRE(runner->heartbeat(row->id));
  lbctl::test::Partition partition(relay);
  const auto started = std::chrono::steady_clock::now();
  const auto beat = runner->heartbeat(row->id);
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(beat);
  INFO(beat.error().message);
  // The lock's own connection is asked first: its loss is the lock's.
  CHECK((beat.error().kind == ErrorKind::conflict || beat.error().kind == ErrorKind::unreachable));
  WARN("a heartbeat across the partition failed after "
       << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms (partition_timeout 2 s)");
  CHECK(took < 6s);
  partition.lift();
}
