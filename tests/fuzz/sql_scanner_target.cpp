// The SQL scanner that guards pre/ (db/sql_scanner.*): migration files are
// written by people, and a scanner that loses its place would let a DROP
// through as "text inside a literal".

#include "db/migration_files.hpp"
#include "db/sql_scanner.hpp"
#include "tests/fuzz/fuzz.hpp"

LBCTL_FUZZ_TARGET(sql_scanner) {
  using namespace lbctl::db;
  const auto scanned = scan_sql(input);
  const int lines = 1 + static_cast<int>(std::count(input.begin(), input.end(), '\n'));
  int previous = 1;
  for (const auto& statement : scanned.statements) {
    // Statements are pieces of the file, in order, on lines that exist.
    LBCTL_FUZZ_CHECK(!statement.text.empty());
    LBCTL_FUZZ_CHECK(input.find(statement.text) != std::string_view::npos);
    LBCTL_FUZZ_CHECK(statement.line >= previous && statement.line <= lines);
    previous = statement.line;
    for (const auto& word : statement.words) {
      LBCTL_FUZZ_CHECK(!word.text.empty());
      LBCTL_FUZZ_CHECK(word.line >= statement.line && word.line <= lines);
    }
  }
  for (const auto& comment : scanned.comments) LBCTL_FUZZ_CHECK(comment.line >= 1 && comment.line <= lines);
  if (auto unsafe = find_destructive_statement(input)) {
    LBCTL_FUZZ_CHECK(unsafe->line >= 1 && unsafe->line <= lines);
    LBCTL_FUZZ_CHECK(!unsafe->what.empty());
  }
}
