#include "tests/support/catch.hpp"

#include "db/migration_files.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl::db;
using lbctl::ErrorKind;

namespace {

MigrationVersion version(std::string_view name) {
  auto v = MigrationVersion::from_file_name(name);
  REQUIRE(v);
  return *v;
}

std::string pre_error(const std::string& sql, const std::string& name = "1_x.sql") {
  auto file = parse_migration_file(Phase::pre, name, sql);
  REQUIRE_FALSE(file);
  return file.error().message;
}

}  // namespace

TEST_CASE("the version is the leading run of all-digit tokens", "[db][migrations]") {
  CHECK(version("20261121_01_add_total.sql").text() == "20261121_01");
  CHECK(version("20261121_01_2fa_setup.sql").text() == "20261121_01");
  CHECK(version("007.sql").text() == "007");
  CHECK(version("3_4_5.sql").text() == "3_4_5");
  CHECK_FALSE(MigrationVersion::from_file_name("add_total.sql"));
  CHECK_FALSE(MigrationVersion::from_file_name("v1_add.sql"));
  CHECK_FALSE(MigrationVersion::from_file_name("_1_add.sql"));
}

TEST_CASE("versions compare numerically, token by token", "[db][migrations]") {
  CHECK(version("2_9_a.sql") < version("2_10_a.sql"));
  CHECK(version("9_a.sql") < version("10_a.sql"));
  CHECK(version("20261121_01_a.sql") == version("20261121_1_b.sql"));
  CHECK(version("20261121_a.sql") < version("20261121_01_a.sql"));
  CHECK(version("20261121_99_a.sql") < version("20261122_a.sql"));
  CHECK(version("000000000000000000000000042_a.sql") == version("42_a.sql"));
  CHECK(version("99999999999999999999999_a.sql") < version("100000000000000000000000_a.sql"));
}

TEST_CASE("checksums ignore CRLF versus LF line endings", "[db][migrations]") {
  const auto lf = parse_migration_file(Phase::pre, "1_a.sql", "CREATE TABLE a (id int);\nSELECT 1;\n");
  const auto crlf = parse_migration_file(Phase::pre, "1_a.sql", "CREATE TABLE a (id int);\r\nSELECT 1;\r\n");
  const auto changed = parse_migration_file(Phase::pre, "1_a.sql", "CREATE TABLE a (id bigint);\nSELECT 1;\n");
  REQUIRE(lf);
  REQUIRE(crlf);
  REQUIRE(changed);
  CHECK(lf->sha256 == crlf->sha256);
  CHECK(lf->sha256 != changed->sha256);
  CHECK(normalize_line_endings("a\r\nb\rc\r\n") == "a\nb\rc\n");
}

TEST_CASE("a file without a version is an error naming it", "[db][migrations]") {
  CHECK(
      pre_error("SELECT 1;", "add_total.sql").starts_with("pre/add_total.sql: the name does not start with a version"));
}

TEST_CASE("destructive statements in pre/ are refused and named", "[db][migrations]") {
  CHECK(pre_error("CREATE TABLE a (id int);\nDROP TABLE b;") ==
        "pre/1_x.sql: line 2: DROP in pre/: old servers still run against this schema, so pre/ holds only additive "
        "changes; this belongs in post/ (or mark the file -- lbctl:safety-assured)");
  CHECK(pre_error("alter table a drop column b;").find("DROP in pre/") != std::string::npos);
  CHECK(pre_error("ALTER TABLE a RENAME COLUMN b TO c;").find("RENAME in pre/") != std::string::npos);
  CHECK(pre_error("ALTER TABLE a ALTER COLUMN b TYPE bigint;").find("ALTER ... TYPE in pre/") != std::string::npos);
  CHECK(pre_error("ALTER TABLE a ALTER b SET DATA TYPE bigint;").find("ALTER ... TYPE in pre/") != std::string::npos);
  CHECK(pre_error("ALTER TABLE a ALTER COLUMN type TYPE bigint;").find("ALTER ... TYPE") != std::string::npos);
}

TEST_CASE("the safety check ignores comments, literals and quoted names", "[db][migrations]") {
  CHECK_FALSE(find_destructive_statement("-- DROP TABLE a\n/* RENAME */ INSERT INTO log VALUES ('drop table x');"));
  CHECK_FALSE(find_destructive_statement("CREATE FUNCTION f() RETURNS void AS $$ DROP TABLE x $$ LANGUAGE sql;"));
  CHECK_FALSE(find_destructive_statement("CREATE TABLE \"drop\" (\"rename\" int);"));
}

TEST_CASE("additive statements pass the safety check", "[db][migrations]") {
  CHECK_FALSE(find_destructive_statement("ALTER TABLE a ADD COLUMN type text;"));
  CHECK_FALSE(find_destructive_statement("ALTER TABLE a ALTER COLUMN type SET DEFAULT 'x';"));
  CHECK_FALSE(find_destructive_statement("ALTER TABLE type ADD COLUMN b int;"));
  CHECK_FALSE(find_destructive_statement("ALTER TYPE mood ADD VALUE 'meh';"));
  CHECK_FALSE(find_destructive_statement("ALTER TABLE a ALTER COLUMN b DROP NOT NULL;"));
  CHECK_FALSE(find_destructive_statement("CREATE INDEX CONCURRENTLY a_b ON a (b);"));
}

TEST_CASE("safety-assured allows destructive SQL in pre/, and post/ never checks", "[db][migrations]") {
  CHECK(parse_migration_file(Phase::pre, "1_a.sql", "-- lbctl:safety-assured\nDROP TABLE old_log;"));
  CHECK(parse_migration_file(Phase::post, "1_a.sql", "DROP TABLE old_log;"));
  const auto with_reason = parse_migration_file(
      Phase::pre, "1_a.sql", "-- lbctl:safety-assured nothing reads old_log since v41\nDROP TABLE old_log;");
  REQUIRE(with_reason);
  CHECK(with_reason->safety_assured);
}

TEST_CASE("no-transaction must be the first line and the file one statement", "[db][migrations]") {
  const auto ok =
      parse_migration_file(Phase::pre, "1_a.sql", "-- lbctl:no-transaction\nCREATE INDEX CONCURRENTLY i ON a (b);\n");
  REQUIRE(ok);
  CHECK(ok->no_transaction);
  CHECK(pre_error("SELECT 1;\n-- lbctl:no-transaction\n").find("must be the file's first line") != std::string::npos);
  CHECK(pre_error("-- lbctl:no-transaction\nSELECT 1; SELECT 2;").find("exactly one statement (it has 2)") !=
        std::string::npos);
}

TEST_CASE("unknown directives and transaction control are refused", "[db][migrations]") {
  CHECK(pre_error("-- lbctl:no-transactions\nSELECT 1;").find("unknown directive") != std::string::npos);
  CHECK(pre_error("BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;").find("line 1: BEGIN: lbctl runs the whole phase") !=
        std::string::npos);
}

TEST_CASE("a folder's files load in version order and duplicates are refused", "[db][migrations]") {
  lbctl::test::TempDir dir;
  dir.write("pre/10_c.sql", "SELECT 10;");
  dir.write("pre/9_b.sql", "SELECT 9;");
  dir.write("pre/README.md", "not sql");
  auto files = load_migration_files(dir.path(), Phase::pre);
  REQUIRE(files);
  REQUIRE(files->size() == 2);
  CHECK((*files)[0].name == "9_b.sql");
  CHECK((*files)[1].label() == "pre/10_c.sql");
  CHECK(load_migration_files(dir.path(), Phase::post)->empty());

  dir.write("pre/09_dup.sql", "SELECT 9;");
  auto duplicate = load_migration_files(dir.path(), Phase::pre);
  REQUIRE_FALSE(duplicate);
  CHECK(duplicate.error().kind == ErrorKind::invalid);
  CHECK(duplicate.error().message.find("have the same version 9") != std::string::npos);
}
