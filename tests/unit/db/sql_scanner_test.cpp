#include "tests/support/catch.hpp"

#include "db/sql_scanner.hpp"

using namespace lbctl::db;

namespace {

std::vector<std::string> words_of(const SqlStatement& statement) {
  std::vector<std::string> out;
  for (const auto& w : statement.words) out.push_back(w.text);
  return out;
}

}  // namespace

TEST_CASE("statements are split on semicolons with the line each starts on", "[db][sql]") {
  const auto scanned = scan_sql("-- header\nCREATE TABLE a (id int);\n\nALTER TABLE a\n  ADD COLUMN b text;\n");
  REQUIRE(scanned.statements.size() == 2);
  CHECK(scanned.statements[0].text == "CREATE TABLE a (id int);");
  CHECK(scanned.statements[0].line == 2);
  CHECK(scanned.statements[1].line == 4);
  CHECK(words_of(scanned.statements[1]) ==
        std::vector<std::string>{"ALTER", "TABLE", "A", "ADD", "COLUMN", "B", "TEXT"});
}

TEST_CASE("semicolons inside literals, comments and dollar quotes do not split", "[db][sql]") {
  const auto scanned = scan_sql(
      "INSERT INTO t VALUES ('a;b', E'c\\';d', \"we;ird\");\n"
      "/* one; /* nested; */ still; */\n"
      "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n"
      "SELECT $$x;y$$;");
  REQUIRE(scanned.statements.size() == 3);
  CHECK(scanned.statements[1].line == 3);
  CHECK(scanned.statements[2].text == "SELECT $$x;y$$;");
  CHECK_FALSE(scanned.error);
}

TEST_CASE("a BEGIN ATOMIC function body stays one statement", "[db][sql]") {
  const auto scanned = scan_sql(
      "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql\n"
      "BEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  SELECT 2;\nEND;\nSELECT 3;");
  REQUIRE(scanned.statements.size() == 2);
  CHECK(scanned.statements[1].text == "SELECT 3;");
}

TEST_CASE("positional parameters are not dollar quotes", "[db][sql]") {
  const auto scanned = scan_sql("PREPARE p AS SELECT $1; SELECT 2;");
  CHECK(scanned.statements.size() == 2);
}

TEST_CASE("an unterminated literal is reported with its line", "[db][sql]") {
  CHECK(scan_sql("SELECT 1;\nSELECT 'oops;").error == "unterminated string starting on line 2");
  CHECK(scan_sql("SELECT $a$ body").error == "unterminated dollar-quoted string starting on line 1");
  CHECK(scan_sql("/* open").error == "unterminated /* comment starting on line 1");
}

TEST_CASE("comments are listed with their lines", "[db][sql]") {
  const auto scanned = scan_sql("-- lbctl:no-transaction\nSELECT 1; /* block */");
  REQUIRE(scanned.comments.size() == 2);
  CHECK(scanned.comments[0].text == "lbctl:no-transaction");
  CHECK(scanned.comments[0].line == 1);
  CHECK_FALSE(scanned.comments[1].line_comment);
}
