#include "db/migration_files.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <system_error>

#include "db/sha256.hpp"
#include "db/sql_scanner.hpp"

namespace lbctl::db {

namespace {

constexpr std::string_view k_directive_prefix = "lbctl:";
constexpr std::string_view k_no_transaction = "lbctl:no-transaction";
constexpr std::string_view k_safety_assured = "lbctl:safety-assured";

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string without_leading_zeros(std::string_view digits) {
  const std::size_t first = digits.find_first_not_of('0');
  return first == std::string_view::npos ? "0" : std::string(digits.substr(first));
}

bool is_word(const std::vector<SqlWord>& words, std::size_t i, std::string_view word) {
  return i < words.size() && words[i].text == word;
}

// `i` at a TYPE inside ALTER TABLE: "ALTER [COLUMN] name [SET DATA] TYPE".
// The sub-command's ALTER is never the statement's first word, and in
// "ALTER COLUMN type SET DEFAULT" TYPE is the column's name.
bool is_column_type_change(const std::vector<SqlWord>& words, std::size_t i) {
  if (i >= 2 && is_word(words, i - 1, "DATA") && is_word(words, i - 2, "SET")) return true;
  if (i >= 3 && is_word(words, i - 2, "ALTER") && !is_word(words, i - 1, "COLUMN")) return true;
  return i >= 4 && is_word(words, i - 3, "ALTER") && is_word(words, i - 2, "COLUMN");
}

std::optional<UnsafeStatement> destructive_in(const SqlStatement& statement) {
  const auto& words = statement.words;
  const bool is_alter = is_word(words, 0, "ALTER");
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i].text;
    if (w == "DROP" && !(is_word(words, i + 1, "NOT") && is_word(words, i + 2, "NULL"))) {
      return UnsafeStatement{words[i].line, "DROP"};
    }
    if (w == "RENAME") return UnsafeStatement{words[i].line, "RENAME"};
    // "ALTER TYPE mood ADD VALUE" changes an enum type, additively: TYPE as
    // the second word is not a column type change.
    if (w == "TYPE" && is_alter && i > 1 && is_column_type_change(words, i)) {
      return UnsafeStatement{words[i].line, "ALTER ... TYPE"};
    }
  }
  return std::nullopt;
}

bool is_transaction_control(const std::vector<SqlWord>& words) {
  if (words.empty()) return false;
  const std::string& first = words[0].text;
  if (first == "BEGIN" || first == "START" || first == "COMMIT" || first == "END" || first == "ABORT") return true;
  if (first == "ROLLBACK") return !is_word(words, 1, "TO");
  return first == "PREPARE" && is_word(words, 1, "TRANSACTION");
}

std::unexpected<Error> invalid(const std::string& label, const std::string& what) {
  return fail(ErrorKind::invalid, label + ": " + what);
}

}  // namespace

std::string_view to_string(Phase phase) { return phase == Phase::pre ? "pre" : "post"; }

std::optional<Phase> parse_phase(std::string_view text) {
  if (text == "pre") return Phase::pre;
  if (text == "post") return Phase::post;
  return std::nullopt;
}

std::optional<MigrationVersion> MigrationVersion::from_file_name(std::string_view file_name) {
  std::string_view stem = file_name;
  if (const auto dot = stem.find('.'); dot != std::string_view::npos) stem = stem.substr(0, dot);
  MigrationVersion version;
  std::size_t pos = 0;
  while (pos <= stem.size()) {
    const std::size_t end = std::min(stem.find('_', pos), stem.size());
    const std::string_view token = stem.substr(pos, end - pos);
    if (!all_digits(token)) break;
    version.m_parts.push_back(without_leading_zeros(token));
    version.m_text = std::string(stem.substr(0, end));
    pos = end + 1;
  }
  if (version.m_parts.empty()) return std::nullopt;
  return version;
}

std::strong_ordering MigrationVersion::operator<=>(const MigrationVersion& other) const {
  const std::size_t n = std::min(m_parts.size(), other.m_parts.size());
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& a = m_parts[i];
    const std::string& b = other.m_parts[i];
    if (a.size() != b.size()) return a.size() <=> b.size();
    if (const int c = a.compare(b); c != 0) return c <=> 0;
  }
  return m_parts.size() <=> other.m_parts.size();
}

std::string MigrationFile::label() const { return std::string(to_string(phase)) + "/" + name; }

std::string normalize_line_endings(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out += text[i];
  }
  return out;
}

std::optional<UnsafeStatement> find_destructive_statement(std::string_view sql) {
  const ScannedSql scanned = scan_sql(sql);
  for (const auto& statement : scanned.statements) {
    if (auto unsafe = destructive_in(statement)) return unsafe;
  }
  return std::nullopt;
}

Result<MigrationFile> parse_migration_file(Phase phase, const std::string& name, std::string_view raw_content,
                                           const std::filesystem::path& path) {
  const std::string label = std::string(to_string(phase)) + "/" + name;
  auto version = MigrationVersion::from_file_name(name);
  if (!version) {
    return invalid(label,
                   "the name does not start with a version (digits, optionally in '_'-separated groups, "
                   "e.g. 20261121_01_add_total.sql)");
  }
  MigrationFile file{phase, name, path, *version, normalize_line_endings(raw_content), {}, false, false};
  file.sha256 = sha256_hex(file.content);

  const ScannedSql scanned = scan_sql(file.content);
  if (scanned.error) return invalid(label, *scanned.error);
  for (const auto& comment : scanned.comments) {
    if (!comment.line_comment || !comment.text.starts_with(k_directive_prefix)) continue;
    const std::string where = "line " + std::to_string(comment.line) + ": ";
    // A reason may follow: "-- lbctl:safety-assured nothing reads old_log since v41".
    const std::string directive = comment.text.substr(0, comment.text.find_first_of(" \t"));
    if (directive == k_safety_assured) {
      file.safety_assured = true;
    } else if (directive == k_no_transaction) {
      if (comment.line != 1) return invalid(label, where + "-- lbctl:no-transaction must be the file's first line");
      file.no_transaction = true;
    } else {
      return invalid(label, where + "unknown directive '-- " + directive +
                                "' (known: -- lbctl:no-transaction, -- lbctl:safety-assured)");
    }
  }
  if (scanned.statements.empty()) return invalid(label, "holds no SQL statement");
  if (file.no_transaction && scanned.statements.size() != 1) {
    return invalid(label, "a -- lbctl:no-transaction file holds exactly one statement (it has " +
                              std::to_string(scanned.statements.size()) + "): split it into several files");
  }
  if (!file.no_transaction) {
    for (const auto& statement : scanned.statements) {
      if (is_transaction_control(statement.words)) {
        return invalid(label, "line " + std::to_string(statement.line) + ": " + statement.words[0].text +
                                  ": lbctl runs the whole phase in one transaction itself; remove transaction control");
      }
    }
  }
  if (phase == Phase::pre && !file.safety_assured) {
    for (const auto& statement : scanned.statements) {
      if (auto unsafe = destructive_in(statement)) {
        return invalid(label, "line " + std::to_string(unsafe->line) + ": " + unsafe->what +
                                  " in pre/: old servers still run against this schema, so pre/ holds only additive "
                                  "changes; this belongs in post/ (or mark the file -- lbctl:safety-assured)");
      }
    }
  }
  return file;
}

Result<std::vector<MigrationFile>> load_migration_files(const std::filesystem::path& dir, Phase phase) {
  const std::filesystem::path folder = dir / std::string(to_string(phase));
  std::vector<MigrationFile> files;
  std::error_code ec;
  if (!std::filesystem::exists(folder, ec)) return files;
  std::filesystem::directory_iterator it(folder, ec);
  if (ec) return fail(ErrorKind::invalid, folder.string() + ": " + ec.message());
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with('.') || entry.path().extension() != ".sql" || !entry.is_regular_file(ec)) continue;
    paths.push_back(entry.path());
  }
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(ErrorKind::invalid, path.string() + ": cannot be read");
    std::ostringstream content;
    content << in.rdbuf();
    auto file = parse_migration_file(phase, path.filename().string(), content.str(), path);
    if (!file) return std::unexpected(file.error());
    files.push_back(std::move(*file));
  }
  std::sort(files.begin(), files.end(), [](const MigrationFile& a, const MigrationFile& b) {
    if (a.version != b.version) return a.version < b.version;
    return a.name < b.name;
  });
  for (std::size_t i = 1; i < files.size(); ++i) {
    if (files[i].version == files[i - 1].version) {
      return fail(ErrorKind::invalid, files[i - 1].label() + " and " + files[i].name + " have the same version " +
                                          files[i].version.text() + ": give each file its own");
    }
  }
  return files;
}

}  // namespace lbctl::db
