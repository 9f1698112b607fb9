// The pure half of the backup: placeholders, redaction, finding the file.

#include <algorithm>
#include <libpq-fe.h>

#include "db/backup.hpp"

#include "core/time_format.hpp"

namespace lbctl::db {

namespace {

bool is_placeholder_char(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }

// The password inside a libpq connection string (a URL or key=value
// words), "" when it has none: libpq's own parser reads it.
std::string password_of(std::string_view url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(std::string(url).c_str(), &error);
  if (error) PQfreemem(error);
  if (!options) return {};
  std::string password;
  for (auto* option = options; option->keyword; ++option) {
    if (std::string_view(option->keyword) == "password" && option->val) password = option->val;
  }
  PQconninfoFree(options);
  return password;
}

void replace_all(std::string& text, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
}

}  // namespace

Result<std::vector<std::string>> expand_backup_command(const std::vector<std::string>& argv,
                                                       const BackupPlaceholders& values) {
  std::vector<std::string> out;
  for (const auto& arg : argv) {
    std::string expanded;
    for (std::size_t i = 0; i < arg.size(); ++i) {
      const std::size_t close = arg[i] == '{' ? arg.find('}', i) : std::string::npos;
      const std::string_view name =
          close == std::string::npos ? std::string_view() : std::string_view(arg).substr(i + 1, close - i - 1);
      const bool is_name = !name.empty() && std::all_of(name.begin(), name.end(), is_placeholder_char);
      if (!is_name) {
        expanded += arg[i];
        continue;
      }
      if (name == "backup_dir") {
        expanded += values.backup_dir;
      } else if (name == "service") {
        expanded += values.service;
      } else if (name == "cutover_id") {
        expanded += values.cutover_id;
      } else if (name == "database_url") {
        expanded += values.database_url;
      } else if (name == "timestamp") {
        expanded += values.timestamp;
      } else if (name == "release") {
        expanded += values.release;
      } else {
        return fail(ErrorKind::invalid,
                    "backup command: unknown placeholder {" + std::string(name) +
                        "} (known: {backup_dir} {service} {cutover_id} {database_url} {timestamp} {release})");
      }
      i = close;
    }
    out.push_back(std::move(expanded));
  }
  return out;
}

std::string redact_database_url(std::string_view text, std::string_view database_url) {
  std::string out(text);
  replace_all(out, database_url, "{database_url}");
  const std::string password = password_of(database_url);
  // A one-letter password would turn every such letter into ***: such a
  // password cannot hide anyway.
  if (password.size() >= 2) replace_all(out, password, "***");
  return out;
}

std::optional<std::filesystem::path> backup_file_in(const std::vector<std::string>& argv,
                                                    const std::filesystem::path& backup_dir) {
  std::string prefix = backup_dir.string();
  if (!prefix.ends_with('/')) prefix += '/';
  std::optional<std::filesystem::path> file;
  for (const auto& arg : argv) {
    std::string_view candidate = arg;
    if (!candidate.starts_with(prefix)) {
      if (const auto eq = candidate.find('='); candidate.starts_with("--") && eq != std::string_view::npos) {
        candidate.remove_prefix(eq + 1);
      } else if (candidate.starts_with("-f")) {
        candidate.remove_prefix(2);
      }
    }
    if (candidate.starts_with(prefix) && candidate.size() > prefix.size()) file = std::filesystem::path(candidate);
  }
  return file;
}

std::string backup_timestamp(std::chrono::system_clock::time_point t) { return format_time(t, TimeFormat::compact); }

}  // namespace lbctl::db
