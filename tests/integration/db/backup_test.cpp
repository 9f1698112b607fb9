#include <boost/asio/io_context.hpp>
#include "tests/support/catch.hpp"

#include "db/backup.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/run_async.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl::db;

TEST_CASE("a pg_dump backup is written and pg_restore --list reads it", "[integration][db][backup]") {
  lbctl::test::PostgresFixture pg;
  pg.create_database("app");
  pg.execute("CREATE TABLE orders (id int PRIMARY KEY, total int); INSERT INTO orders VALUES (1, 10)", "app");
  lbctl::test::TempDir tmp;
  lbctl::SteadyClock clock;
  lbctl::PosixProcessRunner runner;
  boost::asio::io_context io;
  BackupOptions options;
  options.dir = tmp.path() / "backups";
  options.command = {"pg_dump",       "-Fc", "--lock-wait-timeout=10s", "-f", "{backup_dir}/{service}-{timestamp}.dump",
                     "{database_url}"};
  CommandBackup backup(options, runner, clock);

  auto result = lbctl::test::run_async(io, backup.run(BackupRequest{"shop", 3, pg.url("app"), "r3"}));
  REQUIRE(result);
  CHECK(result->custom_format);
  CHECK(result->bytes > 0);
  CHECK(result->file.parent_path() == options.dir);
  CHECK(result->command_line.find(pg.url("app")) == std::string::npos);
  CHECK(result->command_line.find("{database_url}") != std::string::npos);
  const auto listed = lbctl::test::run_command({"pg_restore", "--list", result->file.string()});
  CHECK(listed.exit_code == 0);
  CHECK(listed.out.find("TABLE public orders") != std::string::npos);
}

TEST_CASE("a backup of an unreachable database fails without printing its URL", "[integration][db][backup]") {
  lbctl::test::TempDir tmp;
  lbctl::SteadyClock clock;
  lbctl::PosixProcessRunner runner;
  boost::asio::io_context io;
  BackupOptions options;
  options.dir = tmp.path() / "backups";
  options.command = {"pg_dump", "-Fc", "-f", "{backup_dir}/x.dump", "{database_url}"};
  CommandBackup backup(options, runner, clock);
  const std::string url = "host=/nonexistent port=5432 user=app password=hunter22 dbname=app connect_timeout=2";
  auto result = lbctl::test::run_async(io, backup.run(BackupRequest{"shop", std::nullopt, url, ""}));
  REQUIRE_FALSE(result);
  CHECK(result.error().kind == lbctl::ErrorKind::refused);
  CHECK(result.error().message.find("hunter22") == std::string::npos);
  CHECK(result.error().message.find("{database_url}") != std::string::npos);
}
