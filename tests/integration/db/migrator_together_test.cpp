// Pre and post applied together, as a maintenance-mode cutover does: one
// transaction for both phases, all or nothing.

#include <boost/asio/io_context.hpp>
#include "tests/support/catch.hpp"

#include "db/pg_migrator.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/run_async.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl::db;
using namespace std::chrono_literals;
using lbctl::test::PostgresFixture;
using lbctl::test::TempDir;

namespace {

struct Together {
  PostgresFixture pg;
  TempDir dir;
  lbctl::SteadyClock clock;
  boost::asio::io_context io;

  Together() {
    pg.create_database("app");
    pg.execute("CREATE TABLE orders (id int, legacy_total float)", "app");
    dir.write("pre/1_add_total.sql", "ALTER TABLE orders ADD COLUMN total_cents bigint;\n");
  }

  lbctl::Result<PhaseReport> apply_both() {
    MigratorOptions options;
    options.database_url = pg.url("app");
    options.dir = dir.path();
    options.lock_wait = 5s;
    PgMigrator migrator(options, clock);
    std::vector<Phase> phases{Phase::pre, Phase::post};
    return lbctl::test::run_async(io, migrator.apply_together(phases, 7));
  }

  bool has_column(const std::string& column) {
    return pg.query_value("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = '" +
                              column + "'",
                          "app") == "1";
  }
};

}  // namespace

TEST_CASE("pre and post applied together commit in one transaction, pre first", "[integration][db]") {
  Together t;
  t.dir.write("post/2_drop_legacy.sql", "ALTER TABLE orders DROP COLUMN legacy_total;\n");
  auto report = t.apply_both();
  INFO((report ? "" : report.error().message));
  REQUIRE(report.has_value());
  REQUIRE(report->applied.size() == 2);
  CHECK(report->applied[0].label == "pre/1_add_total.sql");
  CHECK(report->applied[1].label == "post/2_drop_legacy.sql");
  CHECK(report->attempts == 1);
  CHECK(t.has_column("total_cents"));
  CHECK_FALSE(t.has_column("legacy_total"));
  CHECK(t.pg.query_value("SELECT count(*) FROM lbctl_schema_migrations WHERE cutover_id = 7", "app") == "2");
}

TEST_CASE("a failing post file rolls back the pre files applied with it", "[integration][db]") {
  Together t;
  t.dir.write("post/2_bad.sql", "ALTER TABLE orders DROP COLUMN no_such_column;\n");
  auto report = t.apply_both();
  REQUIRE_FALSE(report.has_value());
  CHECK(report.error().message.find("post/2_bad.sql") != std::string::npos);
  CHECK(report.error().message.find("nothing from pre/ and post/ was applied") != std::string::npos);
  CHECK_FALSE(t.has_column("total_cents"));
  CHECK(t.has_column("legacy_total"));
}
