#pragma once
// The backup before a migration phase: migrations.backup.command run as an
// argv (no shell) with placeholders, then proof the file is there and, for
// pg_dump's custom format, readable by `pg_restore --list`. The database URL
// is a secret: every command line and output shown is redacted. Note that
// argv is visible to other local users while the command runs (ps): prefer a
// URL without a password plus ~/.pgpass or PGPASSFILE.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/process.hpp"

namespace lbctl::db {

struct BackupRequest {
  std::string service;
  std::optional<std::int64_t> cutover_id;  // nullopt outside a cutover (`lbctl migrate`): {cutover_id} is "none"
  std::string database_url;                // the application database; a secret
  std::string release = {};                // {release}: "none" outside a cutover
};

struct BackupResult {
  std::filesystem::path file;
  std::uintmax_t bytes = 0;
  bool custom_format = false;  // starts with "PGDMP"; `pg_restore --list` read it
  std::string command_line;    // as run, with the URL and its password redacted
  std::chrono::milliseconds elapsed{0};
};

class Backup {
 public:
  virtual ~Backup() = default;

  // Runs the backup and checks its file. Returns the file's path, size and
  // format. Fails with invalid for a bad command (unknown placeholder, no
  // file under the backup folder in its argv); unreachable when the program
  // cannot be started; refused when it exits non-zero, leaves no or an empty
  // file, or pg_restore cannot read it; timeout past the time limit. Messages
  // never hold the URL.
  virtual boost::asio::awaitable<Result<BackupResult>> run(const BackupRequest& request) = 0;
};

struct BackupOptions {
  // e.g. {"pg_dump", "-Fc", "--lock-wait-timeout=10s", "-f", "{backup_dir}/{service}-{timestamp}.dump",
  // "{database_url}"}
  std::vector<std::string> command;
  std::filesystem::path dir;  // {backup_dir}; created (mode 0700) when missing
  std::chrono::milliseconds timeout{std::chrono::hours(1)};
  std::string pg_restore = "pg_restore";
};

class CommandBackup final : public Backup {
 public:
  CommandBackup(BackupOptions options, ProcessRunner& runner, Clock& clock);
  boost::asio::awaitable<Result<BackupResult>> run(const BackupRequest& request) override;

 private:
  BackupOptions m_options;
  ProcessRunner& m_runner;
  Clock& m_clock;
};

struct BackupPlaceholders {
  std::string backup_dir;
  std::string service;
  std::string cutover_id;
  std::string database_url;
  std::string timestamp;
  std::string release;
};

// Replaces {backup_dir} {service} {cutover_id} {database_url} {timestamp} {release} in
// each argument. Fails with invalid for any other {word}; braces around
// anything else stay as they are.
Result<std::vector<std::string>> expand_backup_command(const std::vector<std::string>& argv,
                                                       const BackupPlaceholders& values);

// `text` with every occurrence of `database_url` replaced by
// "{database_url}", and of its password (URI user:PASSWORD@ or password=...)
// by "***".
std::string redact_database_url(std::string_view text, std::string_view database_url);

// The backup file an expanded argv names: the last argument that is a path
// under `backup_dir`, alone or as --option=PATH or -fPATH.
std::optional<std::filesystem::path> backup_file_in(const std::vector<std::string>& argv,
                                                    const std::filesystem::path& backup_dir);

// UTC, sortable, safe in file names: "20261121T101530Z".
std::string backup_timestamp(std::chrono::system_clock::time_point t);

}  // namespace lbctl::db
