// Baseline and repair against a real Postgres: the history lbctl keeps in
// the application database, written as an operator asks.

#include <boost/asio/io_context.hpp>
#include "tests/support/catch.hpp"
#include <pqxx/pqxx>

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
using Strings = std::vector<std::string>;

namespace {

struct Setup {
  PostgresFixture pg;
  TempDir dir;
  lbctl::SteadyClock clock;
  boost::asio::io_context io;
  PgMigrator migrator{options(), clock};

  Setup() { pg.create_database("app"); }

  MigratorOptions options() {
    MigratorOptions o;
    o.database_url = pg.url("app");
    o.dir = dir.path();
    o.lock_wait = 2s;
    o.lock_poll = 50ms;
    o.host = "test-host";
    o.pid = 1;
    return o;
  }

  lbctl::Result<PhaseReport> apply(Phase phase) {
    return lbctl::test::run_async(io, migrator.apply(phase, std::nullopt));
  }
  std::string value(const std::string& sql) { return pg.query_value(sql, "app"); }
};

Strings labels(const std::vector<MigrationFile>& files) {
  Strings out;
  for (const auto& f : files) out.push_back(f.label());
  return out;
}

Strings applied(const PhaseReport& report) {
  Strings out;
  for (const auto& f : report.applied) out.push_back(f.label);
  return out;
}

// A team's database that got files 01-03 long before lbctl, and 04 written since.
void adopted_database(Setup& s) {
  s.pg.execute("CREATE TABLE orders (id serial PRIMARY KEY, total int); CREATE INDEX orders_total ON orders (total)",
               "app");
  s.dir.write("pre/01_orders.sql", "CREATE TABLE orders (id serial PRIMARY KEY);\n");
  s.dir.write("pre/02_total.sql", "ALTER TABLE orders ADD COLUMN total int;\n");
  s.dir.write("post/03_index.sql", "CREATE INDEX orders_total ON orders (total);\n");
  s.dir.write("pre/04_note.sql", "ALTER TABLE orders ADD COLUMN note text;\n");
}

}  // namespace

TEST_CASE("baseline --through 03 records 01-03 unrun, and migrate pre then applies only 04",
          "[integration][db][migrations][repair]") {
  Setup s;
  adopted_database(s);
  auto plan = s.migrator.baseline("03", true, "alice@web1");
  REQUIRE(plan);
  CHECK(labels(*plan) == Strings{"pre/01_orders.sql", "pre/02_total.sql", "post/03_index.sql"});
  CHECK(s.value("SELECT to_regclass('lbctl_schema_migrations') IS NULL") == "t");  // the dry run wrote nothing

  auto recorded = s.migrator.baseline("03", false, "alice@web1");
  REQUIRE(recorded);
  CHECK(s.value("SELECT string_agg(phase || '/' || name || ':' || status || ':' || origin, ',' ORDER BY version) "
                "FROM lbctl_schema_migrations") ==
        "pre/01_orders.sql:done:baseline,pre/02_total.sql:done:baseline,post/03_index.sql:done:baseline");
  CHECK(s.value("SELECT count(*) FROM lbctl_schema_history_edits WHERE action = 'baseline' AND run_by = "
                "'alice@web1' AND at > now() - interval '1 minute'") == "3");

  auto pre = s.apply(Phase::pre);
  INFO((pre ? std::string() : pre.error().message));
  REQUIRE(pre);
  CHECK(applied(*pre) == Strings{"pre/04_note.sql"});
  CHECK(s.value("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders'") == "3");
  auto post = s.apply(Phase::post);
  REQUIRE(post);
  CHECK(post->applied.empty());
}

TEST_CASE("baseline refuses a database whose history has rows", "[integration][db][migrations][repair]") {
  Setup s;
  adopted_database(s);
  REQUIRE(s.migrator.baseline("02", false, "alice@web1"));
  auto again = s.migrator.baseline("03", false, "alice@web1");
  REQUIRE_FALSE(again);
  CHECK(again.error().kind == ErrorKind::invalid);
  CHECK(again.error().message.find("already has 2 row(s)") != std::string::npos);
  CHECK(s.value("SELECT count(*) FROM lbctl_schema_migrations") == "2");
}

TEST_CASE("an interrupted no-transaction file: repair lists it, --done clears it, migrate goes on",
          "[integration][db][migrations][repair]") {
  Setup s;
  s.pg.execute("CREATE TABLE orders (id int)", "app");
  s.dir.write("pre/1_index.sql", "-- lbctl:no-transaction\nCREATE INDEX CONCURRENTLY orders_id ON orders (id);\n");
  REQUIRE(s.apply(Phase::pre));
  // As if lbctl died while CREATE INDEX CONCURRENTLY ran: its row stays running, the index INVALID.
  s.pg.execute(
      "UPDATE lbctl_schema_migrations SET status = 'running'; "
      "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'orders_id'::regclass",
      "app");
  s.dir.write("pre/2_more.sql", "CREATE TABLE more (id int);\n");
  REQUIRE_FALSE(s.apply(Phase::pre));

  auto list = s.migrator.repairs();
  REQUIRE(list);
  REQUIRE(list->items.size() == 1);
  CHECK(list->items[0].kind == RepairItem::Kind::unfinished);
  CHECK(list->items[0].label() == "pre/1_index.sql");
  CHECK(list->invalid_indexes == Strings{"public.orders_id"});
  CHECK_FALSE(list->run_lock_holder);

  auto done = s.migrator.repair(RepairAction::done, "pre/1_index.sql", "alice@web1", false);
  REQUIRE(done);
  CHECK(s.value("SELECT status || ':' || origin FROM lbctl_schema_migrations WHERE version = '1'") == "done:repair");
  CHECK(s.value("SELECT action || ':' || name || ':' || run_by FROM lbctl_schema_history_edits") ==
        "done:1_index.sql:alice@web1");
  CHECK(s.migrator.repairs()->items.empty());
  auto pre = s.apply(Phase::pre);
  REQUIRE(pre);
  CHECK(applied(*pre) == Strings{"pre/2_more.sql"});
}

TEST_CASE("an unfinished file repaired with --undo is forgotten, so the next run applies it again",
          "[integration][db][migrations][repair]") {
  Setup s;
  s.pg.execute("CREATE TABLE orders (id int)", "app");
  s.dir.write("pre/1_index.sql", "-- lbctl:no-transaction\nCREATE INDEX CONCURRENTLY orders_id ON orders (id);\n");
  REQUIRE(s.apply(Phase::pre));
  s.pg.execute("UPDATE lbctl_schema_migrations SET status = 'running'; DROP INDEX orders_id", "app");
  REQUIRE(s.migrator.repair(RepairAction::undo, "1_index.sql", "bob@web2", false));
  CHECK(s.value("SELECT count(*) FROM lbctl_schema_migrations") == "0");
  auto pre = s.apply(Phase::pre);
  REQUIRE(pre);
  CHECK(applied(*pre) == Strings{"pre/1_index.sql"});
  CHECK(s.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_id'::regclass") == "t");
}

TEST_CASE("a changed applied file is refused until --accept records its new checksum",
          "[integration][db][migrations][repair]") {
  Setup s;
  s.dir.write("pre/1_orders.sql", "CREATE TABLE orders (id int);\n");
  REQUIRE(s.apply(Phase::pre));
  const std::string old_sum = s.value("SELECT sha256 FROM lbctl_schema_migrations");
  s.dir.write("pre/1_orders.sql", "-- orders, as every release since v3 has them\nCREATE TABLE orders (id int);\n");
  auto refused = s.apply(Phase::pre);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("lbctl migrate repair --accept pre/1_orders.sql") != std::string::npos);
  auto list = s.migrator.repairs();
  REQUIRE(list);
  REQUIRE(list->items.size() == 1);
  CHECK(list->items[0].kind == RepairItem::Kind::changed);

  auto accepted = s.migrator.repair(RepairAction::accept, "pre/1_orders.sql", "alice@web1", false);
  REQUIRE(accepted);
  CHECK(accepted->repair.recorded.sha256 == old_sum);
  const std::string new_sum = accepted->repair.file->sha256;
  CHECK(new_sum != old_sum);
  CHECK(s.value("SELECT sha256 FROM lbctl_schema_migrations") == new_sum);
  CHECK(s.value("SELECT old_sha256 || ' ' || new_sha256 FROM lbctl_schema_history_edits WHERE action = 'accept'") ==
        old_sum + " " + new_sum);
  auto again = s.apply(Phase::pre);
  REQUIRE(again);
  CHECK(again->applied.empty());
}

TEST_CASE("a repair while a migration run holds the run lock is refused naming it",
          "[integration][db][migrations][repair]") {
  Setup s;
  s.pg.execute("CREATE TABLE orders (id int)", "app");
  s.dir.write("pre/1_index.sql", "-- lbctl:no-transaction\nCREATE INDEX CONCURRENTLY orders_id ON orders (id);\n");
  REQUIRE(s.apply(Phase::pre));
  s.pg.execute("UPDATE lbctl_schema_migrations SET status = 'running'", "app");
  pqxx::connection other(s.pg.url("app"));
  pqxx::nontransaction tx(other);
  tx.exec("SET application_name = 'lbctl migrate pre host=web9 pid=77'");
  lbctl::db::exec_params(tx, "SELECT pg_advisory_lock($1, 0)", 0x6c62'6d31);
  auto refused = s.migrator.repair(RepairAction::done, "pre/1_index.sql", "alice@web1", false);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::conflict);
  CHECK(refused.error().message.find("'lbctl migrate pre host=web9 pid=77'") != std::string::npos);
  CHECK(s.migrator.repairs()->run_lock_holder.value_or("").find("host=web9") != std::string::npos);
  CHECK(s.value("SELECT status FROM lbctl_schema_migrations") == "running");
}

TEST_CASE("a history table an older lbctl made gets its origin column when first repaired",
          "[integration][db][migrations][repair]") {
  Setup s;
  s.dir.write("pre/1_a.sql", "CREATE TABLE a (id int);\n");
  REQUIRE(s.apply(Phase::pre));
  s.pg.execute("ALTER TABLE lbctl_schema_migrations DROP COLUMN origin", "app");
  auto before = s.migrator.repairs();  // reads a table without the column
  REQUIRE(before);
  s.dir.write("pre/1_a.sql", "CREATE TABLE a (id int);  -- the same\n");
  REQUIRE(s.migrator.repair(RepairAction::accept, "pre/1_a.sql", "alice@web1", false));
  CHECK(s.value("SELECT origin FROM lbctl_schema_migrations") == "applied");
}
