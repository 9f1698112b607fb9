#include "tests/support/catch.hpp"
#include <fstream>

#include "db/backup.hpp"
#include "tests/support/manual_clock.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl::db;
using lbctl::ErrorKind;
using lbctl::ProcessResult;
using lbctl::ProcessSpec;
using lbctl::Result;

namespace {

const BackupPlaceholders k_values{"/var/backups/lbctl", "shop", "12", "postgresql://app:s3cret@db1/shop",
                                  "20261121T101530Z", "r12"};

// Records each argv; "writes" the backup file the way the test says.
class FakeRunner final : public lbctl::ProcessRunner {
 public:
  std::vector<std::vector<std::string>> calls;
  std::string file_content = "PGDMP...";
  int exit_code = 0;
  std::string err;
  int pg_restore_exit = 0;

  boost::asio::awaitable<Result<ProcessResult>> run(ProcessSpec spec) override {
    calls.push_back(spec.argv);
    if (spec.argv[0] == "pg_restore") co_return ProcessResult{pg_restore_exit, "", "not an archive", {}};
    if (auto file = backup_file_in(spec.argv, m_dir); file && exit_code == 0 && !m_no_file) {
      std::ofstream(*file, std::ios::binary) << file_content;
    }
    co_return ProcessResult{exit_code, "", err, {}};
  }

  void set_dir(std::filesystem::path dir) { m_dir = std::move(dir); }
  void write_nothing() { m_no_file = true; }

 private:
  std::filesystem::path m_dir;
  bool m_no_file = false;
};

struct BackupSetup {
  lbctl::test::TempDir tmp;
  lbctl::test::Simulation sim;
  FakeRunner runner;
  BackupOptions options;

  BackupSetup() {
    options.dir = tmp.path() / "backups";
    options.command = {"pg_dump", "-Fc", "-f", "{backup_dir}/{service}-{cutover_id}-{timestamp}.dump",
                       "{database_url}"};
    runner.set_dir(options.dir);
  }

  Result<BackupResult> run() {
    CommandBackup backup(options, runner, sim.clock);
    return sim.run(backup.run(BackupRequest{"shop", 12, "postgresql://app:s3cret@db1/shop", "r12"}));
  }
};

}  // namespace

TEST_CASE("backup placeholders expand inside arguments", "[db][backup]") {
  auto argv = expand_backup_command(
      {"pg_dump", "--file={backup_dir}/{service}-{cutover_id}-{timestamp}.dump", "{database_url}", "{not a name}"},
      k_values);
  REQUIRE(argv);
  CHECK(*argv == std::vector<std::string>{"pg_dump", "--file=/var/backups/lbctl/shop-12-20261121T101530Z.dump",
                                          "postgresql://app:s3cret@db1/shop", "{not a name}"});
}

TEST_CASE("an unknown backup placeholder is an error naming it", "[db][backup]") {
  auto argv = expand_backup_command({"pg_dump", "{databse_url}"}, k_values);
  REQUIRE_FALSE(argv);
  CHECK(argv.error().kind == ErrorKind::invalid);
  CHECK(argv.error().message.starts_with("backup command: unknown placeholder {databse_url}"));
}

TEST_CASE("redaction hides the database URL and its password", "[db][backup]") {
  const std::string url = "postgresql://app:s3cret@db1/shop";
  CHECK(redact_database_url("pg_dump -f x " + url, url) == "pg_dump -f x {database_url}");
  CHECK(redact_database_url("FATAL: bad password s3cret for app", url) == "FATAL: bad password *** for app");
  const std::string keywords = "host=db1 user=app password='pa ss' dbname=shop";
  CHECK(redact_database_url("pg_dump " + keywords, keywords) == "pg_dump {database_url}");
  CHECK(redact_database_url("got 'pa ss'", keywords) == "got '***'");
  CHECK(redact_database_url("nothing secret", "host=/tmp dbname=shop") == "nothing secret");
}

TEST_CASE("the backup file is the argument under the backup folder", "[db][backup]") {
  const std::filesystem::path dir = "/var/backups/lbctl";
  CHECK(backup_file_in({"pg_dump", "-f", "/var/backups/lbctl/a.dump", "url"}, dir) == "/var/backups/lbctl/a.dump");
  CHECK(backup_file_in({"pg_dump", "--file=/var/backups/lbctl/b.dump"}, dir) == "/var/backups/lbctl/b.dump");
  CHECK(backup_file_in({"pg_dump", "-f/var/backups/lbctl/c.dump"}, dir) == "/var/backups/lbctl/c.dump");
  CHECK_FALSE(backup_file_in({"pg_dump", "/var/backups/lbctl-other/d.dump", "/var/backups/lbctl/"}, dir));
}

TEST_CASE("backup timestamps are UTC and sortable", "[db][backup]") {
  CHECK(backup_timestamp(std::chrono::system_clock::time_point{std::chrono::seconds(1'800'000'000)}) ==
        "20270115T080000Z");
}

TEST_CASE("a backup runs the expanded command and checks a custom-format file with pg_restore", "[db][backup]") {
  BackupSetup s;
  auto result = s.run();
  REQUIRE(result);
  const auto expected = s.options.dir / "shop-12-20270115T080000Z.dump";
  CHECK(result->file == expected);
  CHECK(result->bytes == 8);
  CHECK(result->custom_format);
  CHECK(result->command_line == "pg_dump -Fc -f " + expected.string() + " {database_url}");
  REQUIRE(s.runner.calls.size() == 2);
  CHECK(s.runner.calls[1] == std::vector<std::string>{"pg_restore", "--list", expected.string()});
}

TEST_CASE("a plain-format backup is not given to pg_restore", "[db][backup]") {
  BackupSetup s;
  s.runner.file_content = "-- PostgreSQL database dump\n";
  auto result = s.run();
  REQUIRE(result);
  CHECK_FALSE(result->custom_format);
  CHECK(s.runner.calls.size() == 1);
}

TEST_CASE("a failing backup command is refused with its redacted stderr", "[db][backup]") {
  BackupSetup s;
  s.runner.exit_code = 1;
  s.runner.err = "pg_dump: error: connection to postgresql://app:s3cret@db1/shop failed";
  auto result = s.run();
  REQUIRE_FALSE(result);
  CHECK(result.error().kind == ErrorKind::refused);
  CHECK(result.error().message.find("exited with 1: pg_dump: error: connection to {database_url} failed") !=
        std::string::npos);
  CHECK(result.error().message.find("s3cret") == std::string::npos);
}

TEST_CASE("a backup that leaves no file, an empty one, or one pg_restore cannot read is refused", "[db][backup]") {
  SECTION("no file") {
    BackupSetup s;
    s.runner.write_nothing();
    CHECK(s.run().error().message.find("wrote no file") != std::string::npos);
  }
  SECTION("empty") {
    BackupSetup s;
    s.runner.file_content = "";
    CHECK(s.run().error().message.find("is empty") != std::string::npos);
  }
  SECTION("unreadable") {
    BackupSetup s;
    s.runner.pg_restore_exit = 1;
    CHECK(s.run().error().message.find("pg_restore --list cannot read the backup") != std::string::npos);
  }
}

TEST_CASE("a backup command naming no file under the backup folder is invalid", "[db][backup]") {
  BackupSetup s;
  s.options.command = {"pg_dump", "-f", "/somewhere/else.dump", "{database_url}"};
  auto result = s.run();
  REQUIRE_FALSE(result);
  CHECK(result.error().kind == ErrorKind::invalid);
  CHECK(result.error().message.find("s3cret") == std::string::npos);
  CHECK(s.runner.calls.empty());
}
