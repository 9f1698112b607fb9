// The application database lost in the middle of a migration phase: the
// transaction Postgres rolled back is retried (within max_retries) on a new
// connection under the run lock; a no-transaction file interrupted mid-way is
// named and not run again.

#include <boost/asio/io_context.hpp>
#include "tests/support/catch.hpp"
#include <pqxx/pqxx>
#include <thread>

#include "db/pg_migrator.hpp"
#include "db/pqxx_compat.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/run_async.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl::db;
using namespace std::chrono_literals;
using lbctl::ErrorKind;
using lbctl::test::PostgresFixture;
using lbctl::test::TempDir;

namespace {

struct Setup {
  PostgresFixture pg;
  TempDir dir;
  lbctl::SteadyClock clock;
  boost::asio::io_context io;

  Setup() { pg.create_database("app"); }

  MigratorOptions options() {
    MigratorOptions o;
    o.database_url = pg.url("app");
    o.dir = dir.path();
    o.lock_wait = 5s;
    o.retry_backoff = 500ms;
    o.max_backoff = 2s;
    o.lock_poll = 50ms;
    o.connect_timeout = 2s;
    o.host = "test-host";
    o.pid = 1;
    return o;
  }

  lbctl::Result<PhaseReport> apply(const MigratorOptions& o, Phase phase) {
    PgMigrator migrator(o, clock);
    return lbctl::test::run_async(io, migrator.apply(phase, 7));
  }

  std::string value(const std::string& sql) { return pg.query_value(sql, "app"); }
};

// Waits (up to 20 s) until a session of the migrator runs a statement that
// holds `marker`, then calls `act`.
void when_running(const std::string& url, const std::string& marker, const std::function<void()>& act) {
  pqxx::connection watcher(url);
  for (int i = 0; i < 2000; ++i) {
    pqxx::nontransaction w(watcher);
    const auto found = lbctl::db::exec_params(w,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'lbctl migrate%' AND state = 'active' "
        "AND position($1 in query) > 0",
        marker)[0][0].as<int>();
    if (found > 0) {
      act();
      return;
    }
    std::this_thread::sleep_for(10ms);
  }
  FAIL("the migration never ran a statement holding " << marker);
}

}  // namespace

TEST_CASE("a connection killed mid-transaction is retried on a new connection and the phase applies once",
          "[integration][db][migrations][faults]") {
  Setup s;
  s.dir.write("pre/1_add.sql", "CREATE TABLE added (id int);\nINSERT INTO added VALUES (1);\n");
  s.dir.write("pre/2_slow.sql", "SELECT pg_sleep(0.5) AS slow_marker;\nCREATE TABLE also (id int);\n");
  int kills = 0;
  std::thread killer([&, url = s.pg.url("app")] {
    when_running(url, "slow_marker", [&] {
      s.pg.execute(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'lbctl migrate%' "
          "AND position('slow_marker' in query) > 0");
      ++kills;
    });
  });
  auto report = s.apply(s.options(), Phase::pre);
  killer.join();
  INFO((report ? std::string("ok") : report.error().message));
  REQUIRE(report);
  CHECK(kills == 1);
  CHECK(report->attempts == 2);
  REQUIRE(report->applied.size() == 2);
  CHECK(s.value("SELECT count(*) FROM added") == "1");  // once: the first try was rolled back
  CHECK(s.value("SELECT count(*) FROM lbctl_schema_migrations WHERE status = 'done'") == "2");
}

TEST_CASE("the application database restarted mid-phase: retried until it is back", "[integration][db][migrations][faults]") {
  Setup s;
  s.dir.write("pre/1_slow.sql", "SELECT pg_sleep(1) AS restart_marker;\nCREATE TABLE after_restart (id int);\n");
  std::thread restarter([&, url = s.pg.url("app")] {
    when_running(url, "restart_marker", [&] {
      s.pg.stop();
      std::this_thread::sleep_for(3s);
      s.pg.start();
    });
  });
  auto options = s.options();
  options.max_retries = 6;  // 0.5 + 1 + 2 + 2 + 2 s of backoff: more than the 3 s outage
  auto report = s.apply(options, Phase::pre);
  restarter.join();
  INFO((report ? std::string("ok") : report.error().message));
  REQUIRE(report);
  CHECK(report->attempts >= 2);
  CHECK(s.value("SELECT to_regclass('after_restart') IS NOT NULL") == "t");
}

TEST_CASE("a database that stays away past max_retries: unreachable, nothing applied", "[integration][db][migrations][faults]") {
  Setup s;
  s.dir.write("pre/1_slow.sql", "SELECT pg_sleep(1) AS away_marker;\nCREATE TABLE never (id int);\n");
  std::thread stopper([&, url = s.pg.url("app")] { when_running(url, "away_marker", [&] { s.pg.stop(); }); });
  auto options = s.options();
  options.max_retries = 2;
  auto report = s.apply(options, Phase::pre);
  stopper.join();
  s.pg.start();
  REQUIRE_FALSE(report);
  CHECK(report.error().kind == ErrorKind::unreachable);
  CHECK_THAT(report.error().message, Catch::Contains("gave up after 3 attempts (migrations.max_retries 2)"));
  CHECK_THAT(report.error().message, Catch::Contains("nothing from pre/ was applied"));
  CHECK(s.value("SELECT to_regclass('never') IS NULL") == "t");
}

TEST_CASE("a no-transaction file whose connection is killed mid-statement is named and not run again",
          "[integration][db][migrations][faults]") {
  Setup s;
  s.dir.write("pre/1_table.sql", "CREATE TABLE orders (id int);\n");
  s.dir.write("pre/2_index.sql",
              "-- lbctl:no-transaction\nDO $$ BEGIN PERFORM pg_sleep(0.5); CREATE TABLE notx_marker (id int); END $$;\n");
  std::thread killer([&, url = s.pg.url("app")] {
    when_running(url, "notx_marker", [&] {
      s.pg.execute(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'lbctl migrate%' "
          "AND position('notx_marker' in query) > 0");
    });
  });
  auto report = s.apply(s.options(), Phase::pre);
  killer.join();
  REQUIRE_FALSE(report);
  CHECK(report.error().kind == ErrorKind::unreachable);
  CHECK_THAT(report.error().message, Catch::Contains("pre/2_index.sql"));
  CHECK_THAT(report.error().message, Catch::Contains("not retried"));
  // The transactional file is in; the interrupted one is recorded running,
  // so the next run stops until an operator has looked.
  CHECK(s.value("SELECT to_regclass('orders') IS NOT NULL") == "t");
  CHECK(s.value("SELECT status FROM lbctl_schema_migrations WHERE version = '2'") == "running");
  CHECK(s.value("SELECT to_regclass('notx_marker') IS NULL") == "t");
  auto again = s.apply(s.options(), Phase::pre);
  REQUIRE_FALSE(again);
  CHECK(again.error().kind == ErrorKind::conflict);
  CHECK_THAT(again.error().message, Catch::Contains("pre/2_index.sql was recorded running"));
}

TEST_CASE("the application database restarted while the run lock is waited for: retried, then applied",
          "[integration][db][migrations][faults]") {
  Setup s;
  s.dir.write("pre/1_a.sql", "CREATE TABLE after_wait (id int);");
  // Another run holds the lock; the restart ends its session (and the lock).
  auto holder = std::make_unique<pqxx::connection>(s.pg.url("app"));
  pqxx::nontransaction(*holder).exec("SELECT pg_advisory_lock(x'6c626d31'::int, 0)");
  std::thread restarter([&] {
    std::this_thread::sleep_for(700ms);  // the migrator polls the lock meanwhile
    s.pg.stop();
    std::this_thread::sleep_for(3s);
    s.pg.start();
  });
  auto options = s.options();
  options.lock_wait = 10s;
  options.max_retries = 6;
  auto report = s.apply(options, Phase::pre);
  restarter.join();
  INFO((report ? std::string("ok") : report.error().message));
  REQUIRE(report);
  CHECK(report->applied.size() == 1);
  CHECK(s.value("SELECT to_regclass('after_wait') IS NOT NULL") == "t");
}
