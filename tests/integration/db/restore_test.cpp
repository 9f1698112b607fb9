// PgRestore against a real Postgres: what one transaction guarantees, what
// it leaves alone, and what stops it before anything changes.

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include "tests/support/catch.hpp"
#include <pqxx/pqxx>
#include <sstream>

#include "db/pg_journal.hpp"
#include "db/pg_restore.hpp"
#include "tests/support/child_process.hpp"
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
  lbctl::PosixProcessRunner runner;
  boost::asio::io_context io;
  RestoreOptions options;

  Setup() {
    pg.create_database("app");
    pg.execute("CREATE TABLE orders (id serial PRIMARY KEY, item text); INSERT INTO orders (item) VALUES ('a'), ('b')",
               "app");
    options.database_url = pg.url("app");
    options.dir = dir.path() / "migrations";
    options.lock_timeout = 200ms;
    options.max_retries = 1;
    options.retry_backoff = 100ms;
    options.host = "test-host";
    options.pid = 1;
  }

  std::filesystem::path backup() {
    const auto file = dir.path() / "backups" / "app.dump";
    std::filesystem::create_directories(file.parent_path());
    const auto dumped = lbctl::test::run_command({"pg_dump", "-Fc", "-f", file.string(), pg.url("app")});
    REQUIRE(dumped.exit_code == 0);
    return file;
  }

  lbctl::Result<RestorePreview> preview(const std::filesystem::path& file) {
    PgRestore restore(options, runner, clock);
    return lbctl::test::run_async(io, restore.preview(file));
  }

  lbctl::Result<RestoreReport> restore(const RestorePreview& preview) {
    PgRestore restore(options, runner, clock);
    return lbctl::test::run_async(io, restore.restore(preview));
  }

  std::string value(const std::string& sql) { return pg.query_value(sql, "app"); }
  std::string items() { return value("SELECT string_agg(item, ',' ORDER BY id) FROM orders"); }
};

}  // namespace

TEST_CASE("lbctl's journal in the application database is left as it is by a restore", "[integration][db][restore]") {
  Setup s;
  // One database for both: the journal lives in its schema lbctl.
  auto journal = PgJournal::open({s.pg.url("app"), 5s, "web1", 1});
  REQUIRE(journal);
  const auto file = s.backup();
  auto cutover = (*journal)->begin({"shop", "web1", 1, "blue_green", "{}", "preflight"});
  REQUIRE(cutover);
  s.pg.execute("INSERT INTO orders (item) VALUES ('c')", "app");
  auto preview = s.preview(file);
  REQUIRE(preview);
  CHECK(preview->schemas == std::vector<std::string>{"public"});
  auto report = s.restore(*preview);
  INFO((report ? std::string() : report.error().message));
  REQUIRE(report);
  CHECK(s.items() == "a,b");
  // The cutover recorded after the backup is still there, and the journal works.
  CHECK((*journal)->get(cutover->id));
  CHECK(s.value("SELECT count(*) FROM lbctl.cutovers") == "1");
}

TEST_CASE("a lock the application holds past the retries rolls the restore back whole", "[integration][db][restore]") {
  Setup s;
  const auto file = s.backup();
  s.pg.execute("INSERT INTO orders (item) VALUES ('c'); CREATE TABLE added (id int)", "app");
  auto preview = s.preview(file);
  REQUIRE(preview);
  {
    pqxx::connection app(s.pg.url("app"));
    pqxx::work busy(app);
    busy.exec("SELECT count(*) FROM orders");  // holds ACCESS SHARE until the end of its transaction
    auto report = s.restore(*preview);
    REQUIRE_FALSE(report);
    CHECK(report.error().kind == ErrorKind::timeout);
    CHECK(report.error().message.starts_with("gave up after 2 attempts: a lock stayed busy past lock_timeout"));
    CHECK(report.error().message.find("the database is as it was") != std::string::npos);
  }
  CHECK(s.items() == "a,b,c");
  CHECK(s.value("SELECT to_regclass('added') IS NOT NULL") == "t");
  auto report = s.restore(*preview);
  REQUIRE(report);
  CHECK(s.items() == "a,b");
  CHECK(s.value("SELECT to_regclass('added') IS NULL") == "t");
}

TEST_CASE("objects outside the backup's schemas that depend on its tables stop the restore, named",
          "[integration][db][restore]") {
  Setup s;
  const auto file = s.backup();
  s.pg.execute("CREATE SCHEMA reports; CREATE VIEW reports.recent AS SELECT id FROM public.orders", "app");
  auto refused = s.preview(file);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::refused);
  CHECK(refused.error().message.find("view reports.recent") != std::string::npos);

  // Created between the preview and the restore: the restore's own check refuses, in its transaction.
  s.pg.execute("DROP VIEW reports.recent; INSERT INTO orders (item) VALUES ('c')", "app");
  auto preview = s.preview(file);
  REQUIRE(preview);
  CHECK(preview->left_alone == std::vector<std::string>{});
  s.pg.execute("CREATE VIEW reports.recent AS SELECT id FROM public.orders", "app");
  auto report = s.restore(*preview);
  REQUIRE_FALSE(report);
  CHECK(report.error().kind == ErrorKind::refused);
  CHECK(report.error().message.find("the restore failed and was rolled back") != std::string::npos);
  CHECK(report.error().message.find("view reports.recent") != std::string::npos);
  CHECK(s.items() == "a,b,c");
  CHECK(s.value("SELECT to_regclass('reports.recent') IS NOT NULL") == "t");
}

TEST_CASE("a schema the backup does not have is left alone and said so", "[integration][db][restore]") {
  Setup s;
  const auto file = s.backup();
  s.pg.execute("CREATE SCHEMA scratch; CREATE TABLE scratch.notes (id int); INSERT INTO scratch.notes VALUES (1)",
               "app");
  auto preview = s.preview(file);
  REQUIRE(preview);
  CHECK(preview->left_alone == std::vector<std::string>{"scratch"});
  REQUIRE(s.restore(*preview));
  CHECK(s.value("SELECT count(*) FROM scratch.notes") == "1");
}

TEST_CASE("a plain SQL dump is named as such and not restored", "[integration][db][restore]") {
  Setup s;
  const auto file = s.dir.path() / "app.sql";
  REQUIRE(lbctl::test::run_command({"pg_dump", "-f", file.string(), s.pg.url("app")}).exit_code == 0);
  auto refused = s.preview(file);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::refused);
  CHECK(refused.error().message.find("text format dump") != std::string::npos);
}

TEST_CASE("the database URL goes to psql in its environment, never its argv", "[integration][db][restore]") {
  Setup s;
  const auto file = s.backup();
  s.pg.execute("INSERT INTO orders (item) VALUES ('c')", "app");
  // A runner that records each program's argv, then runs it.
  struct Recording final : lbctl::ProcessRunner {
    lbctl::PosixProcessRunner real;
    std::vector<std::string> argv;
    boost::asio::awaitable<lbctl::Result<lbctl::ProcessResult>> run(lbctl::ProcessSpec spec) override {
      for (const auto& a : spec.argv) argv.push_back(a);
      co_return co_await real.run(std::move(spec));
    }
  } recording;
  PgRestore restore(s.options, recording, s.clock);
  auto preview = lbctl::test::run_async(s.io, restore.preview(file));
  REQUIRE(preview);
  REQUIRE(lbctl::test::run_async(s.io, restore.restore(*preview)));
  CHECK(s.items() == "a,b");
  CHECK(std::find(recording.argv.begin(), recording.argv.end(), "psql") != recording.argv.end());
  for (const auto& a : recording.argv) CHECK(a.find(s.pg.socket_dir()) == std::string::npos);
}

TEST_CASE("lbctl's own history tables are not counted as lost rows", "[integration][db][restore]") {
  Setup s;
  s.pg.execute(
      "CREATE TABLE lbctl_schema_history_edits (id bigserial PRIMARY KEY, note text); "
      "INSERT INTO lbctl_schema_history_edits (note) VALUES ('baseline')",
      "app");
  const auto file = s.backup();
  s.pg.execute(
      "INSERT INTO lbctl_schema_history_edits (note) VALUES ('accept'); INSERT INTO orders (item) VALUES ('c')", "app");
  auto preview = s.preview(file);
  REQUIRE(preview);
  std::vector<std::string> tables;
  for (const auto& t : preview->tables) tables.push_back(t.table + ":" + std::to_string(t.rows.value_or(-1)));
  CHECK(tables == std::vector<std::string>{"public.orders:1"});
}
