#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <atomic>
#include "tests/support/catch.hpp"
#include <csignal>
#include <thread>

#include "db/pg_journal.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/postgres_fixture.hpp"

using namespace lbctl::db;
using lbctl::ErrorKind;
using lbctl::test::PostgresFixture;

namespace {

constexpr std::chrono::milliseconds k_lease{300};

std::unique_ptr<PgJournal> open_journal(const PostgresFixture& pg, const std::string& host = "h1", int pid = 111) {
  // A short lease: a take-over after a kill waits it out.
  auto journal = PgJournal::open({pg.url(), std::chrono::seconds(5), host, pid, std::chrono::seconds(10), k_lease});
  if (!journal) FAIL(journal.error().message);
  return std::move(*journal);
}

NewCutover new_cutover(const std::string& service, const std::string& host = "h1", int pid = 111) {
  return NewCutover{service, host, pid, "blue_green", R"({"service":")" + service + R"("})", "preflight", ""};
}

// A process that begins a cutover on `service` and then waits to be killed.
class LockHolder {
 public:
  LockHolder(const PostgresFixture& pg, const std::string& service) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    m_pid = ::fork();
    REQUIRE(m_pid >= 0);
    if (m_pid == 0) {
      ::close(fds[0]);
      auto journal = PgJournal::open({pg.url(), std::chrono::seconds(5), "holder-host", static_cast<int>(::getpid())});
      const char ok = journal && (*journal)->begin(new_cutover(service, "holder-host", ::getpid())) ? '1' : '0';
      (void)!::write(fds[1], &ok, 1);
      for (;;) ::pause();
    }
    ::close(fds[1]);
    pollfd p{fds[0], POLLIN, 0};
    char ok = '0';
    if (::poll(&p, 1, 10000) == 1) (void)!::read(fds[0], &ok, 1);
    ::close(fds[0]);
    m_started = ok == '1';
  }
  ~LockHolder() { kill(); }
  bool started() const { return m_started; }
  pid_t pid() const { return m_pid; }
  void kill() {
    if (m_pid <= 0) return;
    ::kill(m_pid, SIGKILL);
    ::waitpid(m_pid, nullptr, 0);
    m_pid = -1;
  }

 private:
  pid_t m_pid = -1;
  bool m_started = false;
};

// Makes the state database look as an lbctl of schema `version` (3 or 4) left it.
void as_schema(PostgresFixture& pg, int version) {
  pg.execute("DROP TABLE lbctl.requests");  // schema 7
  if (version == 6) {
    pg.execute("UPDATE lbctl.schema_version SET version = 6");
    return;
  }
  std::string ddl =
      "ALTER TABLE lbctl.cutovers DROP COLUMN owner_token, DROP CONSTRAINT cutovers_status_check, "
      "ADD CONSTRAINT cutovers_status_check CHECK (status IN ('running', 'completed', 'rolled_back', "
      "'needs_operator'))";
  if (version < 5) {
    ddl += ", DROP COLUMN promote_requested_at, DROP COLUMN promote_requested_by, "
           "DROP COLUMN undo_requested_at, DROP COLUMN undo_requested_by";
  }
  if (version < 4) ddl += ", DROP COLUMN release, DROP COLUMN old_release";
  pg.execute(ddl + "; UPDATE lbctl.schema_version SET version = " + std::to_string(version));
}

}  // namespace

TEST_CASE("the journal creates its schema on first open and reuses it", "[integration][db][journal]") {
  PostgresFixture pg;
  open_journal(pg);
  open_journal(pg);
  CHECK(pg.query_value("SELECT version FROM lbctl.schema_version") == std::to_string(PgJournal::schema_version()));
  CHECK(pg.query_value("SELECT count(*) FROM lbctl.schema_version") == "1");
}

TEST_CASE("several lbctl creating the schema at once all succeed", "[integration][db][journal]") {
  PostgresFixture pg;
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (PgJournal::open({pg.url(), std::chrono::seconds(5), "h", 1})) ++opened;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(opened == 4);
  CHECK(pg.query_value("SELECT count(*) FROM lbctl.schema_version") == "1");
}

TEST_CASE("an unreachable state database is reported as unreachable without its URL", "[integration][db][journal]") {
  auto journal = PgJournal::open({"host=/nonexistent/socket port=5432 user=secretuser password=hunter2 dbname=x",
                                  std::chrono::seconds(2), "h", 1});
  REQUIRE_FALSE(journal);
  CHECK(journal.error().kind == ErrorKind::unreachable);
  CHECK(journal.error().message.find("hunter2") == std::string::npos);
}

TEST_CASE("begin records a running cutover", "[integration][db][journal]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  auto cutover = journal->begin(new_cutover("shop"));
  REQUIRE(cutover);
  CHECK(cutover->id > 0);
  CHECK(cutover->status == CutoverStatus::running);
  CHECK(cutover->step == "preflight");
  CHECK(cutover->config_json == R"({"service": "shop"})");
  auto latest = open_journal(pg, "elsewhere")->latest("shop");
  REQUIRE(latest);
  REQUIRE(*latest);
  CHECK((*latest)->id == cutover->id);
  CHECK((*latest)->status == CutoverStatus::running);
}

TEST_CASE("a second begin on a held service is refused naming the holder", "[integration][db][journal]") {
  PostgresFixture pg;
  auto first = open_journal(pg, "web1", 4242);
  auto held = first->begin(new_cutover("shop", "web1", 4242));
  REQUIRE(held);
  auto second = open_journal(pg, "web2", 7);
  auto refused = second->begin(new_cutover("shop", "web2", 7));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::conflict);
  const std::string& message = refused.error().message;
  CHECK(message.find("service shop is locked by cutover " + std::to_string(held->id)) != std::string::npos);
  CHECK(message.find("host web1, pid 4242, started ") != std::string::npos);
  CHECK(message.find(" UTC, at step preflight") != std::string::npos);
}

TEST_CASE("two services keep separate locks and histories", "[integration][db][journal]") {
  PostgresFixture pg;
  auto a = open_journal(pg);
  auto b = open_journal(pg);
  auto shop = a->begin(new_cutover("shop"));
  auto blog = b->begin(new_cutover("blog"));
  REQUIRE(shop);
  REQUIRE(blog);
  auto shop_history = a->history("shop", 10);
  auto blog_history = a->history("blog", 10);
  REQUIRE(shop_history);
  REQUIRE(blog_history);
  REQUIRE(shop_history->size() == 1);
  REQUIRE(blog_history->size() == 1);
  CHECK((*shop_history)[0].id == shop->id);
  CHECK((*blog_history)[0].id == blog->id);
  // Finishing one leaves the other running and locked.
  shop->status = CutoverStatus::completed;
  REQUIRE(a->save(*shop));
  a->release();
  CHECK((*open_journal(pg)->latest("blog"))->status == CutoverStatus::running);
  CHECK_FALSE(open_journal(pg)->begin(new_cutover("blog")));
}

TEST_CASE("killing the process that holds the lock frees it and the cutover reads interrupted",
          "[integration][db][journal]") {
  PostgresFixture pg;
  LockHolder holder(pg, "shop");
  REQUIRE(holder.started());
  auto journal = open_journal(pg, "operator-host", 99);
  CHECK((*journal->latest("shop"))->status == CutoverStatus::running);
  auto refused = journal->begin(new_cutover("shop", "operator-host", 99));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("host holder-host, pid " + std::to_string(holder.pid())) != std::string::npos);

  holder.kill();
  CHECK(lbctl::test::eventually([&] { return (*journal->latest("shop"))->status == CutoverStatus::interrupted; }));

  auto again = journal->begin(new_cutover("shop", "operator-host", 99));
  REQUIRE_FALSE(again);
  CHECK(again.error().kind == ErrorKind::conflict);
  CHECK(again.error().message.find("was interrupted") != std::string::npos);
  CHECK(again.error().message.find("run `lbctl resume` to finish it or `lbctl abort` to roll it back") !=
        std::string::npos);

  // The dead holder beat at its start: its lease runs out first.
  CHECK(journal->lease_left("shop").value() <= k_lease);
  std::this_thread::sleep_for(k_lease + std::chrono::milliseconds(100));
  CHECK(journal->lease_left("shop").value() == std::chrono::milliseconds(0));
  auto adopted = journal->adopt("shop", "operator-host", 99);
  REQUIRE(adopted);
  CHECK(adopted->status == CutoverStatus::running);
  CHECK(adopted->host == "operator-host");
  CHECK(adopted->pid == 99);
  CHECK((*open_journal(pg)->latest("shop"))->status == CutoverStatus::running);
}

TEST_CASE("adopt refuses while a live process holds the lock", "[integration][db][journal]") {
  PostgresFixture pg;
  auto owner = open_journal(pg, "web1", 1);
  REQUIRE(owner->begin(new_cutover("shop", "web1", 1)));
  auto adopted = open_journal(pg, "web2", 2)->adopt("shop", "web2", 2);
  REQUIRE_FALSE(adopted);
  CHECK(adopted.error().kind == ErrorKind::conflict);
  CHECK(adopted.error().message.find("host web1, pid 1") != std::string::npos);
}

TEST_CASE("adopt with nothing to resume is invalid and leaves the lock free", "[integration][db][journal]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  auto adopted = journal->adopt("shop", "h1", 1);
  REQUIRE_FALSE(adopted);
  CHECK(adopted.error().kind == ErrorKind::invalid);
  CHECK(open_journal(pg)->begin(new_cutover("shop")));
}

TEST_CASE("a needs_operator cutover blocks begin until resumed", "[integration][db][journal]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  auto cutover = journal->begin(new_cutover("shop"));
  REQUIRE(cutover);
  cutover->status = CutoverStatus::needs_operator;
  cutover->step = "post_migrate";
  cutover->error = "post/2_drop.sql: line 1: column \"x\" does not exist";
  REQUIRE(journal->save(*cutover));
  journal->release();
  auto refused = open_journal(pg)->begin(new_cutover("shop"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("needs an operator: post/2_drop.sql") != std::string::npos);
  auto adopted = open_journal(pg)->adopt("shop", "h2", 2);
  REQUIRE(adopted);
  CHECK(adopted->status == CutoverStatus::needs_operator);
}

TEST_CASE("save with a stale version is refused", "[integration][db][journal]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  auto cutover = journal->begin(new_cutover("shop"));
  REQUIRE(cutover);
  Cutover stale = *cutover;
  cutover->step = "backup";
  REQUIRE(journal->save(*cutover));
  CHECK(cutover->version == stale.version + 1);
  stale.step = "clone";
  auto refused = journal->save(stale);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::conflict);
  CHECK(refused.error().message.find("was changed by another writer") != std::string::npos);
  CHECK((*journal->get(cutover->id)).step == "backup");
}

TEST_CASE("save moves step_started_at on a new step and sets finished_at when finished", "[integration][db][journal]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  auto cutover = journal->begin(new_cutover("shop"));
  REQUIRE(cutover);
  const auto first_step_start = cutover->step_started_at;
  pg.execute("SELECT pg_sleep(0.05)");
  cutover->progress_json = R"({"cloned": ["v2-1"]})";
  REQUIRE(journal->save(*cutover));
  CHECK(cutover->step_started_at == first_step_start);
  CHECK_FALSE(cutover->finished_at);
  cutover->step = "clone";
  REQUIRE(journal->save(*cutover));
  CHECK(cutover->step_started_at > first_step_start);
  cutover->status = CutoverStatus::rolled_back;
  cutover->error = "v2-1 failed its health check";
  REQUIRE(journal->save(*cutover));
  REQUIRE(cutover->finished_at);
  CHECK(cutover->progress_json == R"({"cloned": ["v2-1"]})");
  CHECK(journal->get(cutover->id)->error == "v2-1 failed its health check");
}

TEST_CASE("text that is not JSON is refused as invalid and changes nothing", "[integration][db][journal]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  auto bad_config = new_cutover("shop");
  bad_config.config_json = "{not json";
  CHECK(journal->begin(bad_config).error().kind == ErrorKind::invalid);
  auto cutover = journal->begin(new_cutover("shop"));
  REQUIRE(cutover);
  const auto before = *cutover;
  // The progress and the LB records are checked by Postgres's jsonb cast.
  cutover->progress_json = "[1,";
  const auto saved = journal->save(*cutover);
  REQUIRE_FALSE(saved);
  CHECK(saved.error().kind == ErrorKind::invalid);
  CHECK(saved.error().message.find("json") != std::string::npos);
  CHECK(journal->get(before.id)->version == before.version);
  CHECK(journal->get(before.id)->progress_json == before.progress_json);
  LbRecord record;
  record.lb = "lb1";
  record.backend = "app";
  record.state_json = "{\"servers\": [";
  record.cutover_id = before.id;
  const auto recorded = journal->save_lb_records("shop", {record});
  REQUIRE_FALSE(recorded);
  CHECK(recorded.error().kind == ErrorKind::invalid);
  CHECK(journal->lb_records("shop")->empty());
  CHECK(journal->add_event(cutover->id, "clone", "started", "nope").error().kind == ErrorKind::invalid);
}

TEST_CASE("servers are upserted by name and listed old pool first", "[integration][db][journal]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  auto cutover = journal->begin(new_cutover("shop"));
  REQUIRE(cutover);
  REQUIRE(journal->save_server(cutover->id, {Pool::new_pool, "v2-1", "127.0.0.1:18301", "cloned", std::nullopt, {}}));
  REQUIRE(journal->save_server(cutover->id, {Pool::old_pool, "old-1", "127.0.0.1:8001", "up", 1, {}}));
  REQUIRE(journal->save_server(cutover->id, {Pool::new_pool, "v2-1", "127.0.0.1:18301", "attached", 1001, {}}));
  auto servers = journal->servers(cutover->id);
  REQUIRE(servers);
  REQUIRE(servers->size() == 2);
  CHECK((*servers)[0].name == "old-1");
  CHECK((*servers)[1].state == "attached");
  CHECK((*servers)[1].haproxy_id == 1001);
  CHECK(journal->save_server(cutover->id, {Pool::new_pool, "bad;name", "x", "y", std::nullopt, {}}).error().kind ==
        ErrorKind::invalid);
}

TEST_CASE("events are read after an id or as the last few", "[integration][db][journal]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  auto cutover = journal->begin(new_cutover("shop"));
  REQUIRE(cutover);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(*journal->add_event(cutover->id, "clone", "step", R"({"i":)" + std::to_string(i) + "}"));
  }
  auto after = journal->events(cutover->id, ids[1], 2);
  REQUIRE(after);
  REQUIRE(after->size() == 2);
  CHECK((*after)[0].id == ids[2]);
  CHECK((*after)[1].detail_json == R"({"i": 3})");
  auto recent = journal->recent_events(cutover->id, 2);
  REQUIRE(recent);
  REQUIRE(recent->size() == 2);
  CHECK((*recent)[0].id == ids[3]);
  CHECK((*recent)[1].id == ids[4]);
}

TEST_CASE("heartbeat reports a lost lock", "[integration][db][journal]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  auto cutover = journal->begin(new_cutover("shop"));
  REQUIRE(cutover);
  REQUIRE(journal->heartbeat(cutover->id));
  pg.execute(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'lbctl[%] cutover shop%'");
  auto lost = journal->heartbeat(cutover->id);
  REQUIRE_FALSE(lost);
  CHECK(lost.error().kind == ErrorKind::conflict);
  CHECK(lost.error().message.find("lost the lock of service shop") != std::string::npos);
  CHECK((*journal->latest("shop"))->status == CutoverStatus::interrupted);
}

TEST_CASE("release lets the next cutover of the service begin", "[integration][db][journal]") {
  PostgresFixture pg;
  auto journal = open_journal(pg);
  auto cutover = journal->begin(new_cutover("shop"));
  REQUIRE(cutover);
  cutover->status = CutoverStatus::completed;
  REQUIRE(journal->save(*cutover));
  journal->release();
  journal->release();
  auto next = open_journal(pg)->begin(new_cutover("shop"));
  REQUIRE(next);
  auto history = journal->history("shop", 10);
  REQUIRE(history->size() == 2);
  CHECK((*history)[0].id == next->id);
  CHECK((*history)[1].status == CutoverStatus::completed);
}

TEST_CASE("a state database at schema 3 is upgraded to 4: its cutovers read with no release, new ones get theirs",
          "[integration][db][journal][release]") {
  PostgresFixture pg;
  {
    auto journal = PgJournal::open({pg.url(), std::chrono::seconds(5), "web1", 1});
    REQUIRE(journal);
    auto first = (*journal)->begin(new_cutover("shop", "web1", 1));
    REQUIRE(first);
    first->status = CutoverStatus::completed;
    REQUIRE((*journal)->save(*first));
    (*journal)->release();
  }
  as_schema(pg, 3);  // as lbctl wrote it before releases existed
  auto journal = PgJournal::open({pg.url(), std::chrono::seconds(5), "web1", 2});
  REQUIRE(journal);
  CHECK(pg.query_value("SELECT version FROM lbctl.schema_version") == std::to_string(PgJournal::schema_version()));
  auto old = (*journal)->get(1);
  REQUIRE(old);
  CHECK(old->release.empty());
  auto next = (*journal)->begin(new_cutover("shop", "web1", 2));
  REQUIRE(next);
  CHECK(next->release == "r" + std::to_string(next->id));
  CHECK(next->old_release.empty());  // the completed one had none
}

TEST_CASE("a state database at schema 4 is upgraded to 5 keeping its cutovers",
          "[integration][db][journal][release]") {
  PostgresFixture pg;
  {
    auto journal = open_journal(pg, "web1", 1);
    auto first = journal->begin(new_cutover("shop", "web1", 1));
    REQUIRE(first);
    first->status = CutoverStatus::completed;
    REQUIRE(journal->save(*first));
    journal->release();
    REQUIRE(journal->begin(new_cutover("shop", "web1", 1)));
    REQUIRE(journal->request_abort("shop"));
    journal->release();
  }
  as_schema(pg, 4);  // as lbctl wrote it before promote and undo requests existed
  auto journal = open_journal(pg, "web1", 2);
  CHECK(pg.query_value("SELECT version FROM lbctl.schema_version") == std::to_string(PgJournal::schema_version()));
  auto history = journal->history("shop", 10);
  REQUIRE(history);
  REQUIRE(history->size() == 2);
  CHECK((*history)[1].status == CutoverStatus::completed);
  CHECK((*history)[1].release == "r" + std::to_string((*history)[1].id));
  CHECK((*history)[0].status == CutoverStatus::interrupted);
  CHECK((*history)[0].old_release == (*history)[1].release);
  CHECK((*history)[0].abort_requested_at);
  CHECK_FALSE((*history)[0].promote_requested_at);
  CHECK((*history)[0].undo_requested_by.empty());
  CHECK(*journal->request_promote("shop", "alice@web1") == (*history)[0].id);
  auto requests = journal->requests((*history)[0].id);
  REQUIRE(requests);
  CHECK(requests->abort);
  CHECK(requests->promote_by == "alice@web1");
}

TEST_CASE("a state database at schema 5 is upgraded to 6: owner tokens, and stopped cutovers",
          "[integration][db][journal][lease]") {
  PostgresFixture pg;
  {
    auto journal = open_journal(pg, "web1", 1);
    REQUIRE(journal->begin(new_cutover("shop", "web1", 1)));
    // It dies: its lock goes, its row stays running.
  }
  as_schema(pg, 5);  // as lbctl wrote it before owner tokens existed
  auto journal = open_journal(pg, "web1", 2);
  CHECK(pg.query_value("SELECT version FROM lbctl.schema_version") == std::to_string(PgJournal::schema_version()));
  // A row from before has no token: nothing to wait for.
  CHECK(journal->lease_left("shop").value() == std::chrono::milliseconds(0));
  auto adopted = journal->adopt("shop", "web1", 2);
  REQUIRE(adopted);
  CHECK_FALSE(adopted->owner_token.empty());
  adopted->status = CutoverStatus::stopped;
  REQUIRE(journal->save(*adopted));
  CHECK(journal->get(adopted->id)->status == CutoverStatus::stopped);
  CHECK(journal->get(adopted->id)->finished_at);
  journal->release();
  CHECK(open_journal(pg, "web1", 3)->begin(new_cutover("shop", "web1", 3)));  // stopped is finished
}

TEST_CASE("a state database at schema 6 is upgraded to 7: the request queue, its cutovers kept",
          "[integration][db][journal][agent]") {
  PostgresFixture pg;
  {
    auto journal = open_journal(pg, "web1", 1);
    auto first = journal->begin(new_cutover("shop", "web1", 1));
    REQUIRE(first);
    first->status = CutoverStatus::completed;
    REQUIRE(journal->save(*first));
    journal->release();
  }
  as_schema(pg, 6);  // as lbctl wrote it before agents existed
  CHECK(pg.query_value("SELECT to_regclass('lbctl.requests') IS NULL") == "t");
  auto journal = open_journal(pg, "web1", 2);
  CHECK(PgJournal::schema_version() == 7);
  CHECK(pg.query_value("SELECT version FROM lbctl.schema_version") == "7");
  CHECK(journal->history("shop", 10)->size() == 1);
  NewRequest request;
  request.service = "shop";
  request.requested_by = "alice@web1";
  auto queued = journal->submit_request(request);
  REQUIRE(queued);
  CHECK(queued->state == "queued");
}
