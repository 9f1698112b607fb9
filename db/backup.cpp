// CommandBackup: runs the backup command and proves its file is usable.

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

#include "db/backup.hpp"
#include "db/pg_support.hpp"

namespace lbctl::db {

namespace {

using std::chrono::milliseconds;

bool starts_with_pgdmp(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  char magic[5] = {};
  in.read(magic, sizeof magic);
  return in.gcount() == 5 && std::string_view(magic, 5) == "PGDMP";
}

// Dumps hold the application's data, and a restore runs what a dump says:
// the folder is made mode 0700, and one that was there must be this user's
// and writable by nobody else (another user could replace a dump in it).
Result<void> ensure_private_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(ErrorKind::refused, "cannot create the backup folder " + dir.string() + ": " + ec.message());
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  }
  struct stat info {};
  if (::stat(dir.c_str(), &info) != 0) {
    return fail(ErrorKind::refused, "cannot look at the backup folder " + dir.string() + ": " + std::strerror(errno));
  }
  if (info.st_uid != ::geteuid()) {
    return fail(ErrorKind::refused, "the backup folder " + dir.string() + " belongs to uid " +
                                        std::to_string(info.st_uid) + ", not to lbctl's user (uid " +
                                        std::to_string(::geteuid()) + "): its owner could read or replace the dumps");
  }
  if ((info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return fail(ErrorKind::refused, "the backup folder " + dir.string() +
                                        " is writable by other users (chmod go-w it): they could replace a dump "
                                        "that a restore would then run");
  }
  return {};
}

}  // namespace

CommandBackup::CommandBackup(BackupOptions options, ProcessRunner& runner, Clock& clock)
    : m_options(std::move(options)), m_runner(runner), m_clock(clock) {}

boost::asio::awaitable<Result<BackupResult>> CommandBackup::run(const BackupRequest& request) {
  const auto started = m_clock.now();
  const std::string& url = request.database_url;
  const BackupPlaceholders values{m_options.dir.string(), request.service,
                                  request.cutover_id ? std::to_string(*request.cutover_id) : "none", url,
                                  backup_timestamp(m_clock.wall_now()),
                                  request.release.empty() ? "none" : request.release};
  auto argv = expand_backup_command(m_options.command, values);
  if (!argv) co_return std::unexpected(argv.error());
  if (argv->empty()) co_return fail(ErrorKind::invalid, "backup command: empty");
  BackupResult result;
  result.command_line = redact_database_url(describe_argv(*argv), url);
  const auto file = backup_file_in(*argv, m_options.dir);
  if (!file) {
    co_return fail(ErrorKind::invalid, "backup command: none of its arguments is a file under {backup_dir} (" +
                                           m_options.dir.string() + "): `" + result.command_line + "`");
  }
  if (auto dir = ensure_private_dir(m_options.dir); !dir) co_return std::unexpected(dir.error());

  ProcessSpec backup;
  backup.argv = *argv;
  backup.env = libpq_secrets_of_this_process();
  backup.timeout = m_options.timeout;
  auto ran = co_await m_runner.run(std::move(backup));
  if (!ran) {
    Error e = ran.error();
    e.message = "backup command `" + result.command_line + "`: " + redact_database_url(e.message, url);
    co_return std::unexpected(std::move(e));
  }
  if (ran->exit_code != 0) {
    co_return fail(ErrorKind::refused, "backup command `" + result.command_line + "` exited with " +
                                           std::to_string(ran->exit_code) + ": " +
                                           redact_database_url(tail_lines(ran->err), url));
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(*file, ec);
  if (ec || !std::filesystem::is_regular_file(*file, ec)) {
    co_return fail(ErrorKind::refused, "the backup command exited 0 but wrote no file " + file->string());
  }
  if (size == 0) co_return fail(ErrorKind::refused, "the backup file " + file->string() + " is empty");
  // Whatever the command's umask: the dump is the owner's alone.
  std::filesystem::permissions(*file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  result.file = *file;
  result.bytes = size;
  result.custom_format = starts_with_pgdmp(*file);
  if (result.custom_format) {
    // Built outside the co_await: g++ 12 miscompiles string literals in a
    // braced argv inside a coroutine ("array used as initializer").
    ProcessSpec list;
    list.argv = {m_options.pg_restore, std::string("--list"), file->string()};
    list.timeout = m_options.timeout;
    auto listed = co_await m_runner.run(std::move(list));
    if (!listed) {
      co_return std::unexpected(listed.error().with_context("checking the backup with pg_restore --list"));
    }
    if (listed->exit_code != 0) {
      co_return fail(ErrorKind::refused,
                     "pg_restore --list cannot read the backup " + file->string() + ": " + tail_lines(listed->err));
    }
  }
  result.elapsed = std::chrono::duration_cast<milliseconds>(m_clock.now() - started);
  co_return result;
}

}  // namespace lbctl::db
