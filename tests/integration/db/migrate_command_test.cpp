#include "tests/support/catch.hpp"
#include <nlohmann/json.hpp>
#include <sstream>

#include "db/sha256.hpp"
#include "tests/integration/db/command_support.hpp"

using namespace lbctl::test;

namespace {

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.front() == '{') lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("lbctl migrate --dry-run lists pending files with checksums and changes nothing", "[integration][db][cli]") {
  CommandSetup s;
  const std::string sql = "CREATE TABLE orders (id int);\n";
  s.dir.write("migrations/pre/20261121_01_orders.sql", sql);
  auto out = s.lbctl({"migrate", "pre", "-c", s.config, "--dry-run"});
  INFO(out.out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "pre: 1 pending (0 applied), dry run:"));
  CHECK(contains(out.out, "pre/20261121_01_orders.sql  sha256 " + lbctl::db::sha256_hex(sql)));
  CHECK(s.value("SELECT to_regclass('lbctl_schema_migrations') IS NULL") == "t");
  CHECK(s.value("SELECT to_regclass('orders') IS NULL") == "t");
  CHECK_FALSE(std::filesystem::exists(s.dir / "backups"));
}

TEST_CASE("lbctl migrate backs up, applies and prints each file without the database URL", "[integration][db][cli]") {
  CommandSetup s;
  s.dir.write("migrations/pre/1_orders.sql", "CREATE TABLE orders (id int);\n");
  s.dir.write("migrations/pre/2_total.sql", "ALTER TABLE orders ADD COLUMN total int;\n");
  auto out = s.lbctl({"migrate", "pre", "-c", s.config});
  INFO(out.out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "backup: " + (s.dir / "backups").string() + "/shop-"));
  CHECK(contains(out.out, "pg_restore --list reads it"));
  CHECK(contains(out.out, "applied pre/1_orders.sql in "));
  CHECK(contains(out.out, "applied pre/2_total.sql in "));
  CHECK(contains(out.out, "pre: applied 2 file(s)"));
  CHECK_FALSE(contains(out.out, s.pg.url("app")));
  CHECK(s.value("SELECT count(*) FROM lbctl_schema_migrations WHERE status = 'done'") == "2");
  std::vector<std::filesystem::path> dumps;
  for (const auto& entry : std::filesystem::directory_iterator(s.dir / "backups")) dumps.push_back(entry.path());
  REQUIRE(dumps.size() == 1);
  CHECK(run_command({"pg_restore", "--list", dumps[0].string()}).exit_code == 0);

  auto again = s.lbctl({"migrate", "pre", "-c", s.config});
  CHECK(again.exit_code == 0);
  CHECK(contains(again.out, "pre: nothing to apply"));
}

TEST_CASE("lbctl migrate --no-backup --json says so, one JSON object per line", "[integration][db][cli]") {
  CommandSetup s;
  s.dir.write("migrations/post/1_orders.sql", "CREATE TABLE orders (id int);\n");
  auto out = s.lbctl({"migrate", "post", "-c", s.config, "--no-backup", "--json"});
  INFO(out.out);
  CHECK(out.exit_code == 0);
  const auto lines = json_lines(out.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0]["event"] == "plan");
  CHECK(lines[0]["pending"][0]["file"] == "post/1_orders.sql");
  CHECK(lines[1]["event"] == "backup_skipped");
  CHECK(lines[1]["reason"] == "--no-backup");
  CHECK(lines[2]["event"] == "applied");
  CHECK(lines[2]["file"] == "post/1_orders.sql");
  CHECK(lines[3]["event"] == "done");
  CHECK(lines[3]["applied"] == 1);
  CHECK_FALSE(std::filesystem::exists(s.dir / "backups"));
}

TEST_CASE("lbctl migrate exits 1 naming the failed file and leaves the schema as it was", "[integration][db][cli]") {
  CommandSetup s;
  s.dir.write("migrations/pre/1_orders.sql", "CREATE TABLE orders (id int);\n");
  s.dir.write("migrations/pre/2_bad.sql", "\nALTER TABLE nope ADD COLUMN x int;\n");
  auto out = s.lbctl({"migrate", "pre", "-c", s.config, "--no-backup"});
  INFO(out.out);
  CHECK(out.exit_code == 1);
  CHECK(contains(out.out, "error: pre/2_bad.sql:2: relation \"nope\" does not exist"));
  CHECK(s.value("SELECT to_regclass('orders') IS NULL") == "t");
}

TEST_CASE("lbctl migrate exits 2 for destructive SQL in pre/", "[integration][db][cli]") {
  CommandSetup s;
  s.dir.write("migrations/pre/1_drop.sql", "DROP TABLE orders;\n");
  auto out = s.lbctl({"migrate", "pre", "-c", s.config, "--dry-run"});
  CHECK(out.exit_code == 2);
  CHECK(contains(out.out, "pre/1_drop.sql: line 1: DROP in pre/"));
}

TEST_CASE("lbctl migrate exits 5 when the database is unreachable", "[integration][db][cli]") {
  CommandSetup s;
  s.dir.write("migrations/pre/1_orders.sql", "CREATE TABLE orders (id int);\n");
  s.pg.stop();
  auto out = s.lbctl({"migrate", "pre", "-c", s.config});
  CHECK(out.exit_code == 5);
  CHECK(contains(out.out, "application database: cannot connect"));
}

TEST_CASE("two lbctl migrate at once: one applies, the other waits and applies nothing", "[integration][db][cli]") {
  CommandSetup s;
  s.dir.write("migrations/pre/1_slow.sql", "CREATE TABLE orders (id int);\nSELECT pg_sleep(2);\n");
  const auto log_a = s.dir / "a.log";
  const auto log_b = s.dir / "b.log";
  ChildProcess a({LBCTL_BINARY, "migrate", "pre", "-c", s.config, "--no-backup"}, log_a);
  ChildProcess b({LBCTL_BINARY, "migrate", "pre", "-c", s.config, "--no-backup"}, log_b);
  CHECK(a.wait(std::chrono::seconds(60)) == 0);
  CHECK(b.wait(std::chrono::seconds(60)) == 0);
  const std::string out_a = read_file(log_a);
  const std::string out_b = read_file(log_b);
  INFO(out_a << "\n---\n" << out_b);
  const int applied = contains(out_a, "applied pre/1_slow.sql") + contains(out_b, "applied pre/1_slow.sql");
  CHECK(applied == 1);
  CHECK((contains(out_a, "nothing left to apply (another run applied it while this one waited") ||
         contains(out_b, "nothing left to apply (another run applied it while this one waited")));
  CHECK(s.value("SELECT count(*) FROM lbctl_schema_migrations") == "1");
}

TEST_CASE("a second lbctl migrate is refused with exit 4 naming the run holding the lock", "[integration][db][cli]") {
  CommandSetup s("lock_timeout: 500ms\n  lock_wait: 1s\n");
  s.dir.write("migrations/pre/1_slow.sql", "CREATE TABLE orders (id int);\nSELECT pg_sleep(5);\n");
  const auto log_a = s.dir / "a.log";
  ChildProcess a({LBCTL_BINARY, "migrate", "pre", "-c", s.config, "--no-backup"}, log_a);
  REQUIRE(eventually([&] { return s.value("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == "1"; }));
  auto b = s.lbctl({"migrate", "pre", "-c", s.config, "--no-backup"});
  INFO(b.out);
  CHECK(b.exit_code == 4);
  CHECK(contains(b.out,
                 "another migration run holds the run lock of the application database: 'lbctl migrate pre host="));
  CHECK(contains(b.out, "pid=" + std::to_string(a.pid())));
  CHECK(a.wait(std::chrono::seconds(60)) == 0);
  CHECK(s.value("SELECT count(*) FROM lbctl_schema_migrations") == "1");
}
