#include <boost/asio/io_context.hpp>
#include "tests/support/catch.hpp"
#include <future>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "db/pg_migrator.hpp"
#include "db/pqxx_compat.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/run_async.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl::db;
using namespace std::chrono_literals;
using lbctl::ErrorKind;
using lbctl::Result;
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
    o.lock_timeout = 300ms;
    o.lock_wait = 5s;
    o.retry_backoff = 100ms;
    o.max_backoff = 400ms;
    o.lock_poll = 50ms;
    o.host = "test-host";
    o.pid = 1;
    return o;
  }

  Result<PhaseReport> apply(Phase phase, std::optional<std::int64_t> cutover_id = std::nullopt) {
    return apply_with(options(), phase, cutover_id);
  }

  Result<PhaseReport> apply_with(const MigratorOptions& o, Phase phase,
                                 std::optional<std::int64_t> cutover_id = std::nullopt) {
    PgMigrator migrator(o, clock);
    return lbctl::test::run_async(io, migrator.apply(phase, cutover_id));
  }

  Result<PhasePlan> plan(Phase phase) { return PgMigrator(options(), clock).plan(phase); }

  std::string value(const std::string& sql) { return pg.query_value(sql, "app"); }
};

// pg_dump --schema-only without the random \restrict key pg_dump 15.14+
// writes into every dump.
std::string schema_of(PostgresFixture& pg, const std::string& dbname) {
  std::string out;
  std::istringstream lines(pg.dump_schema(dbname));
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("\\restrict") && !line.starts_with("\\unrestrict")) out += line + "\n";
  }
  return out;
}

std::vector<std::string> labels(const PhaseReport& report) {
  std::vector<std::string> out;
  for (const auto& f : report.applied) out.push_back(f.label);
  return out;
}

}  // namespace

TEST_CASE("both phases are applied in order and recorded", "[integration][db][migrations]") {
  Setup s;
  s.pg.execute("CREATE TABLE legacy (id int)", "app");
  s.dir.write("pre/20261121_01_create_orders.sql", "CREATE TABLE orders (id int);\n");
  s.dir.write("pre/20261121_02_add_total.sql", "ALTER TABLE orders ADD COLUMN total int;\n");
  s.dir.write("post/20261121_01_drop_legacy.sql", "DROP TABLE legacy;\n");

  auto pre = s.apply(Phase::pre, 42);
  REQUIRE(pre);
  CHECK(labels(*pre) == std::vector<std::string>{"pre/20261121_01_create_orders.sql", "pre/20261121_02_add_total.sql"});
  CHECK(pre->attempts == 1);
  CHECK(s.value("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders'") == "2");
  CHECK(s.value("SELECT to_regclass('legacy') IS NOT NULL") == "t");

  auto post = s.apply(Phase::post, 42);
  REQUIRE(post);
  CHECK(labels(*post) == std::vector<std::string>{"post/20261121_01_drop_legacy.sql"});
  CHECK(s.value("SELECT to_regclass('legacy') IS NULL") == "t");
  CHECK(s.value("SELECT string_agg(phase || ':' || version || ':' || status || ':' || cutover_id, ',' ORDER BY phase "
                "DESC, version) FROM lbctl_schema_migrations") ==
        "pre:20261121_01:done:42,pre:20261121_02:done:42,post:20261121_01:done:42");
  CHECK(s.value("SELECT sha256 FROM lbctl_schema_migrations WHERE phase = 'post'") == post->applied[0].sha256);
}

TEST_CASE("applying a phase again is a no-op", "[integration][db][migrations]") {
  Setup s;
  s.dir.write("pre/1_a.sql", "CREATE TABLE a (id int);");
  REQUIRE(s.apply(Phase::pre));
  auto again = s.apply(Phase::pre);
  REQUIRE(again);
  CHECK(again->applied.empty());
  CHECK(again->attempts == 0);
}

TEST_CASE("a phase whose second file fails leaves the schema exactly as before", "[integration][db][migrations]") {
  Setup s;
  s.dir.write("pre/1_base.sql", "CREATE TABLE base (id int);");
  REQUIRE(s.apply(Phase::pre));
  s.dir.write("pre/2_good.sql", "CREATE TABLE good (id int);\nALTER TABLE base ADD COLUMN note text;\n");
  s.dir.write("pre/3_bad.sql", "-- adds an index\nCREATE INDEX base_note ON base (note);\nSELECT *\n  FROM nope;\n");
  const std::string before = schema_of(s.pg, "app");
  const std::string history_before = s.value("SELECT count(*) FROM lbctl_schema_migrations");
  REQUIRE(before.find("CREATE TABLE public.base") != std::string::npos);

  auto failed = s.apply(Phase::pre);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().kind == ErrorKind::refused);
  CHECK(failed.error().message.starts_with("pre/3_bad.sql:4: relation \"nope\" does not exist (SQLSTATE 42P01)"));
  CHECK(failed.error().message.find("rolled back") != std::string::npos);
  CHECK(schema_of(s.pg, "app") == before);
  CHECK(s.value("SELECT count(*) FROM lbctl_schema_migrations") == history_before);
}

TEST_CASE("a first phase that fails leaves no history table behind", "[integration][db][migrations]") {
  Setup s;
  s.dir.write("pre/1_a.sql", "CREATE TABLE a (id int);");
  s.dir.write("pre/2_b.sql", "CREATE TABLE b (id int REFERENCES missing (id));");
  const std::string before = schema_of(s.pg, "app");
  REQUIRE_FALSE(s.apply(Phase::pre));
  CHECK(schema_of(s.pg, "app") == before);
}

TEST_CASE("a table lock held by another session for a while is retried through", "[integration][db][migrations]") {
  Setup s;
  s.pg.execute("CREATE TABLE busy (id int)", "app");
  s.dir.write("pre/1_add.sql", "ALTER TABLE busy ADD COLUMN note text;");
  std::promise<void> locked;
  std::thread holder([&, url = s.pg.url("app")] {
    pqxx::connection connection(url);
    pqxx::work tx(connection);
    tx.exec("LOCK TABLE busy IN ACCESS EXCLUSIVE MODE");
    locked.set_value();
    std::this_thread::sleep_for(1500ms);
    tx.commit();
  });
  locked.get_future().wait();
  auto options = s.options();
  options.max_retries = 20;
  auto report = s.apply_with(options, Phase::pre);
  holder.join();
  REQUIRE(report);
  CHECK(report->attempts > 1);
  CHECK(report->elapsed >= 1000ms);
  CHECK(s.value("SELECT count(*) FROM information_schema.columns WHERE table_name = 'busy'") == "2");
}

TEST_CASE("a deadlock rolls the phase back and the retry succeeds", "[integration][db][migrations]") {
  Setup s;
  s.pg.execute("CREATE TABLE a (id int); CREATE TABLE b (id int)", "app");
  s.dir.write("pre/1_both.sql", "LOCK TABLE b IN ACCESS EXCLUSIVE MODE;\nLOCK TABLE a IN ACCESS EXCLUSIVE MODE;\n");
  std::promise<void> locked;
  std::thread other([&, url = s.pg.url("app")] {
    pqxx::connection connection(url);
    pqxx::work tx(connection);
    tx.exec("LOCK TABLE a IN ACCESS EXCLUSIVE MODE");
    locked.set_value();
    // Once the migration holds b and waits for a, ask for b: a deadlock,
    // which the migration (waiting longer) detects after deadlock_timeout.
    pqxx::connection watcher(url);
    for (;;) {
      pqxx::nontransaction w(watcher);
      if (w.exec("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'a'::regclass")[0][0].as<int>() > 0)
        break;
      std::this_thread::sleep_for(20ms);
    }
    tx.exec("LOCK TABLE b IN ACCESS EXCLUSIVE MODE");
    tx.commit();
  });
  locked.get_future().wait();
  auto options = s.options();
  options.lock_timeout = 10s;  // longer than deadlock_timeout (1s), so the deadlock is what ends the wait
  auto report = s.apply_with(options, Phase::pre);
  other.join();
  INFO((report ? std::string("ok") : report.error().message));
  REQUIRE(report);
  CHECK(report->attempts == 2);
}

TEST_CASE("lock timeouts past max_retries give up and roll back", "[integration][db][migrations]") {
  Setup s;
  s.pg.execute("CREATE TABLE busy (id int)", "app");
  s.dir.write("pre/1_other.sql", "CREATE TABLE other (id int);");
  s.dir.write("pre/2_add.sql", "ALTER TABLE busy ADD COLUMN note text;");
  pqxx::connection connection(s.pg.url("app"));
  pqxx::work tx(connection);
  tx.exec("LOCK TABLE busy IN ACCESS EXCLUSIVE MODE");
  auto options = s.options();
  options.max_retries = 2;
  auto report = s.apply_with(options, Phase::pre);
  REQUIRE_FALSE(report);
  CHECK(report.error().kind == ErrorKind::timeout);
  CHECK(report.error().message.starts_with("gave up after 3 attempts"));
  CHECK(report.error().message.find("pre/2_add.sql:1: canceling statement due to lock timeout (SQLSTATE 55P03)") !=
        std::string::npos);
  tx.abort();
  CHECK(s.value("SELECT to_regclass('other') IS NULL") == "t");
}

TEST_CASE("a changed applied file is refused and named", "[integration][db][migrations]") {
  Setup s;
  s.dir.write("pre/1_a.sql", "CREATE TABLE a (id int);\n");
  REQUIRE(s.apply(Phase::pre));
  s.dir.write("pre/1_a.sql", "CREATE TABLE a (id bigint);\n");
  s.dir.write("pre/2_b.sql", "CREATE TABLE b (id int);\n");
  auto refused = s.apply(Phase::pre);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::invalid);
  CHECK(refused.error().message.starts_with("pre/1_a.sql was changed after it was applied"));
  CHECK(s.value("SELECT to_regclass('b') IS NULL") == "t");
  // The same file with CRLF line endings is not a change.
  s.dir.write("pre/1_a.sql", "CREATE TABLE a (id int);\r\n");
  CHECK(s.apply(Phase::pre));
}

TEST_CASE("destructive SQL in pre/ is refused unless marked safety-assured", "[integration][db][migrations]") {
  Setup s;
  s.pg.execute("CREATE TABLE old_log (id int)", "app");
  s.dir.write("pre/1_drop.sql", "DROP TABLE old_log;\n");
  auto refused = s.apply(Phase::pre);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::invalid);
  CHECK(refused.error().message.find("pre/1_drop.sql: line 1: DROP in pre/") != std::string::npos);
  CHECK(refused.error().message.find("belongs in post/") != std::string::npos);
  CHECK(s.value("SELECT to_regclass('old_log') IS NOT NULL") == "t");

  s.dir.write("pre/1_drop.sql", "-- lbctl:safety-assured (nothing reads old_log since v41)\nDROP TABLE old_log;\n");
  REQUIRE(s.apply(Phase::pre));
  CHECK(s.value("SELECT to_regclass('old_log') IS NULL") == "t");
}

TEST_CASE("a no-transaction CREATE INDEX CONCURRENTLY is applied and valid", "[integration][db][migrations]") {
  Setup s;
  s.dir.write(
      "pre/1_table.sql",
      "CREATE TABLE orders (id int, total int);\nINSERT INTO orders SELECT g, g FROM generate_series(1, 1000) g;\n");
  s.dir.write("pre/2_index.sql",
              "-- lbctl:no-transaction\nCREATE INDEX CONCURRENTLY orders_total ON orders (total);\n");
  auto report = s.apply(Phase::pre, 7);
  REQUIRE(report);
  REQUIRE(report->applied.size() == 2);
  CHECK(report->applied[1].no_transaction);
  CHECK(s.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_total'::regclass") == "t");
  CHECK(s.value("SELECT status FROM lbctl_schema_migrations WHERE version = '2'") == "done");
}

TEST_CASE("a statement that cannot run in a transaction is pointed at no-transaction",
          "[integration][db][migrations]") {
  Setup s;
  s.pg.execute("CREATE TABLE orders (id int)", "app");
  s.dir.write("pre/1_index.sql", "CREATE INDEX CONCURRENTLY orders_id ON orders (id);\n");
  auto refused = s.apply(Phase::pre);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("SQLSTATE 25001") != std::string::npos);
  CHECK(refused.error().message.find("-- lbctl:no-transaction") != std::string::npos);
}

TEST_CASE("a no-transaction file left running stops the next run until checked", "[integration][db][migrations]") {
  Setup s;
  s.pg.execute("CREATE TABLE orders (id int)", "app");
  s.dir.write("pre/1_index.sql", "-- lbctl:no-transaction\nCREATE INDEX CONCURRENTLY orders_id ON orders (id);\n");
  REQUIRE(s.apply(Phase::pre));
  // As if lbctl died while it ran.
  s.pg.execute("UPDATE lbctl_schema_migrations SET status = 'running'", "app");
  s.dir.write("pre/2_more.sql", "CREATE TABLE more (id int);");
  auto plan = s.plan(Phase::pre);
  REQUIRE(plan);
  REQUIRE(plan->unfinished.size() == 1);
  auto refused = s.apply(Phase::pre);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::conflict);
  CHECK(refused.error().message.find("pre/1_index.sql was recorded running") != std::string::npos);
  CHECK(refused.error().message.find("pg_index.indisvalid") != std::string::npos);
  CHECK(s.value("SELECT to_regclass('more') IS NULL") == "t");
}

TEST_CASE("the run lock held past lock_wait is refused naming the holder", "[integration][db][migrations]") {
  Setup s;
  s.dir.write("pre/1_a.sql", "CREATE TABLE a (id int);");
  pqxx::connection other(s.pg.url("app"));
  pqxx::nontransaction tx(other);
  tx.exec("SET application_name = 'lbctl migrate pre host=web9 pid=77'");
  lbctl::db::exec_params(tx, "SELECT pg_advisory_lock($1, 0)", 0x6c62'6d31);
  auto options = s.options();
  options.lock_wait = 300ms;
  auto refused = s.apply_with(options, Phase::pre);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::conflict);
  CHECK(refused.error().message.find("'lbctl migrate pre host=web9 pid=77'") != std::string::npos);
  CHECK(s.plan(Phase::pre)->run_lock_holder.value_or("").find("host=web9") != std::string::npos);
  CHECK(s.value("SELECT to_regclass('a') IS NULL") == "t");
}

TEST_CASE("a pending file older than an applied one is refused unless allowed", "[integration][db][migrations]") {
  Setup s;
  s.dir.write("pre/2_b.sql", "CREATE TABLE b (id int);");
  REQUIRE(s.apply(Phase::pre));
  s.dir.write("pre/1_a.sql", "CREATE TABLE a (id int);");
  CHECK(s.apply(Phase::pre).error().message.find("older than the applied pre/2_b.sql") != std::string::npos);
  auto options = s.options();
  options.allow_out_of_order = true;
  auto report = s.apply_with(options, Phase::pre);
  REQUIRE(report);
  CHECK(labels(*report) == std::vector<std::string>{"pre/1_a.sql"});
}

TEST_CASE("plan lists pending files and creates nothing", "[integration][db][migrations]") {
  Setup s;
  s.dir.write("pre/1_a.sql", "CREATE TABLE a (id int);");
  const std::string before = schema_of(s.pg, "app");
  auto plan = s.plan(Phase::pre);
  REQUIRE(plan);
  REQUIRE(plan->pending.size() == 1);
  CHECK(plan->pending[0].sha256.size() == 64);
  CHECK_FALSE(plan->run_lock_holder);
  CHECK(schema_of(s.pg, "app") == before);
}

TEST_CASE("an unreachable application database is reported as unreachable", "[integration][db][migrations]") {
  TempDir dir;
  dir.write("pre/1_a.sql", "SELECT 1;");
  lbctl::SteadyClock clock;
  MigratorOptions options;
  options.database_url = "host=/nonexistent port=5432 user=x password=hunter2 dbname=app";
  options.dir = dir.path();
  options.connect_timeout = 2s;
  auto plan = PgMigrator(options, clock).plan(Phase::pre);
  REQUIRE_FALSE(plan);
  CHECK(plan.error().kind == ErrorKind::unreachable);
  CHECK(plan.error().message.find("hunter2") == std::string::npos);
}
