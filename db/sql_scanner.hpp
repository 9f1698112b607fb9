#pragma once
// A small lexer for migration files: it splits a file into statements and
// lists each statement's bare words, skipping comments, string literals
// ('..', E'..', $tag$..$tag$) and quoted identifiers. Migrations run one
// statement at a time so an error names the line in the file, and the pre/
// safety check looks only at real SQL words, never at text inside literals.
// Semicolons inside parentheses or inside a CREATE FUNCTION/PROCEDURE's
// BEGIN ATOMIC ... END body do not end a statement (psql's rule).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lbctl::db {

struct SqlWord {
  std::string text;  // bare words upper-cased; quoted identifiers keep their quotes ("Drop")
  int line = 1;      // 1-based, in the scanned text
};

struct SqlStatement {
  std::string text;  // from its first token through its closing ';' (or the end)
  int line = 1;      // the line its first token is on
  std::vector<SqlWord> words;
};

struct SqlComment {
  std::string text;  // without the "--" or "/* */", trimmed
  int line = 1;
  bool line_comment = true;
};

struct ScannedSql {
  std::vector<SqlStatement> statements;  // empty statements (only ';') are dropped
  std::vector<SqlComment> comments;
  // Set when a literal, quoted identifier or block comment is not closed:
  // "unterminated dollar-quoted string starting on line 4".
  std::optional<std::string> error;
};

ScannedSql scan_sql(std::string_view text);

}  // namespace lbctl::db
