#pragma once
// Migration files on disk: {dir}/pre/*.sql and {dir}/post/*.sql, their
// versions, checksums and `-- lbctl:` directives, and the rule that pre/
// holds only additive changes. Pure functions apart from reading the folder.

#include <compare>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace lbctl::db {

enum class Phase { pre, post };

std::string_view to_string(Phase phase);
std::optional<Phase> parse_phase(std::string_view text);

// A file's version: the longest run of leading '_'-separated tokens made only
// of digits, compared numerically token by token (so 2_10 > 2_9 and
// 20261121_01 == 20261121_1); a version that is a prefix of another sorts
// first (20261121 < 20261121_01).
//   "20261121_01_add_total.sql" -> 20261121_01
//   "20261121_01_2fa.sql"       -> 20261121_01 ("2fa" is not all digits)
//   "add_total.sql"             -> none: an error naming the file
class MigrationVersion {
 public:
  static std::optional<MigrationVersion> from_file_name(std::string_view file_name);

  const std::string& text() const { return m_text; }  // as written: "20261121_01"
  std::strong_ordering operator<=>(const MigrationVersion& other) const;
  bool operator==(const MigrationVersion& other) const { return (*this <=> other) == 0; }

 private:
  std::string m_text;
  std::vector<std::string> m_parts;  // each token without leading zeros
};

struct MigrationFile {
  Phase phase = Phase::pre;
  std::string name;  // "20261121_01_add_total.sql"
  std::filesystem::path path;
  MigrationVersion version;
  std::string content;          // line endings normalized to LF
  std::string sha256;           // of `content`
  bool no_transaction = false;  // first line "-- lbctl:no-transaction"
  bool safety_assured = false;  // "-- lbctl:safety-assured" anywhere

  // "pre/20261121_01_add_total.sql", for messages.
  std::string label() const;
};

// CRLF -> LF, so a file checked out on Windows keeps its checksum.
std::string normalize_line_endings(std::string_view text);

// Reads one file. Fails (invalid, naming the file) on: no version prefix, an
// unknown or misplaced `-- lbctl:` directive, an unterminated literal or
// comment, a no-transaction file that is not exactly one statement, a
// transactional file with BEGIN/COMMIT/ROLLBACK, and destructive SQL in pre/
// without `-- lbctl:safety-assured`.
Result<MigrationFile> parse_migration_file(Phase phase, const std::string& name, std::string_view raw_content,
                                           const std::filesystem::path& path = {});

// Every *.sql file of {dir}/{phase} in version order (a missing folder holds
// none). Fails with invalid on the first bad file, on two files with the same
// version, or when the folder cannot be read.
Result<std::vector<MigrationFile>> load_migration_files(const std::filesystem::path& dir, Phase phase);

// The first destructive statement in a pre/ file: DROP (except ALTER COLUMN
// ... DROP NOT NULL, which only relaxes a constraint for old code), RENAME,
// or ALTER ... [SET DATA] TYPE on a column. Words inside comments, literals
// and quoted identifiers do not count. nullopt when there is none.
struct UnsafeStatement {
  int line = 1;
  std::string what;  // "DROP", "RENAME", "ALTER ... TYPE"
};
std::optional<UnsafeStatement> find_destructive_statement(std::string_view sql);

}  // namespace lbctl::db
