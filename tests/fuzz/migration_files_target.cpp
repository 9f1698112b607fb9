// Migration files (db/migration_files.*): the first line of the input is a
// file name, the rest its content. Names come from whoever writes the
// migrations folder; their versions order the files, so the order must be a
// real one (antisymmetric, consistent with equality).

#include "db/migration_files.hpp"
#include "tests/fuzz/fuzz.hpp"

LBCTL_FUZZ_TARGET(migration_files) {
  using namespace lbctl::db;
  const auto newline = input.find('\n');
  const std::string name(input.substr(0, newline));
  const std::string_view content = newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);

  const auto version = MigrationVersion::from_file_name(name);
  if (version) {
    LBCTL_FUZZ_CHECK(!version->text().empty());
    LBCTL_FUZZ_CHECK(std::string_view(name).starts_with(version->text()));
    LBCTL_FUZZ_CHECK(*version == *version);
    // The file's own first line as a second name, to compare two versions.
    const auto second_line_end = content.find('\n');
    if (auto other = MigrationVersion::from_file_name(content.substr(0, second_line_end))) {
      const auto forward = *version <=> *other;
      const auto backward = *other <=> *version;
      LBCTL_FUZZ_CHECK((forward < 0) == (backward > 0));
      LBCTL_FUZZ_CHECK((forward == 0) == (backward == 0));
      LBCTL_FUZZ_CHECK((forward == 0) == (*version == *other));
    }
  }

  const auto normalized = normalize_line_endings(content);
  LBCTL_FUZZ_CHECK(normalized.find("\r\n") == std::string::npos || content.find("\r\r\n") != std::string_view::npos);

  for (const auto phase : {Phase::pre, Phase::post}) {
    const auto file = parse_migration_file(phase, name, content);
    if (!version) {
      LBCTL_FUZZ_CHECK(!file.has_value());
      continue;
    }
    if (!file) continue;
    LBCTL_FUZZ_CHECK(file->content == normalized);
    LBCTL_FUZZ_CHECK(file->sha256.size() == 64);
    // pre/ never takes a destructive statement unless the file says it is safe.
    if (phase == Phase::pre && !file->safety_assured) LBCTL_FUZZ_CHECK(!find_destructive_statement(file->content));
  }
}
