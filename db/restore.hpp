#pragma once
// Restoring the application database from the backup a cutover took before
// its migrations: after a data migration the only way back to the previous
// release (the runbook's rollback restores the pre-migration backup), with the
// id counters resuming from the backup. PgRestore is the real one; the controller's tests use a fake.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "db/backup_archive.hpp"

namespace lbctl::db {

// What the restore undoes in one table, where lbctl can tell.
struct TableLoss {
  enum class Kind {
    rows_since,     // rows whose id the table's sequence handed out after the backup
    created_since,  // a table the backup does not have: dropped with its rows
    cannot_tell,    // no sequence to tell new rows by: every change since the backup is undone
  };
  Kind kind = Kind::cannot_tell;
  std::string table;  // "public.orders"
  std::optional<std::int64_t> rows;
  std::string column;                     // rows_since: "id"
  std::int64_t backup_value = 0;          // rows_since: the sequence's value in the backup (ids resume after it)
  std::optional<std::int64_t> now_value;  // rows_since: its value now
};

struct RestorePreview {
  std::filesystem::path file;
  std::uintmax_t bytes = 0;
  BackupArchive archive;
  std::vector<std::string> schemas;     // what the restore replaces with the backup's
  std::vector<std::string> left_alone;  // schemas the backup does not have: the restore does not touch them
  std::vector<TableLoss> tables;
  // Migration files applied since the backup ("pre/04_add_total.sql"): the
  // history comes back with the database, so they are pending again.
  std::vector<std::string> pending_again;
};

struct RestoreReport {
  std::chrono::milliseconds elapsed{0};
  int attempts = 0;  // 1 + retries after lock timeouts
  // What `lbctl migrate` would apply now, read from the restored history.
  std::vector<std::string> pending;
  std::string pending_unknown;  // why `pending` could not be read ("" when it was)
};

class DatabaseRestore {
 public:
  virtual ~DatabaseRestore() = default;

  // Reads the backup (pg_restore --list) and the database; changes nothing.
  // Fails with refused when the file is missing or pg_restore cannot read it
  // (corrupt, truncated, not an archive; a plain SQL dump is named as such),
  // or when objects outside the backup's schemas depend on objects inside
  // them (the restore would drop them: they are named); unreachable when the
  // database is.
  virtual boost::asio::awaitable<Result<RestorePreview>> preview(std::filesystem::path backup) = 0;

  // Replaces the preview's schemas with the backup's, in one transaction:
  // objects created since the backup are dropped, the backup's recreated
  // with their rows, sequences set to the backup's values. Nothing changes
  // unless all of it does. Fails with refused (pg_restore cannot read the
  // whole file, or an SQL error: the database is as it was), timeout (locks
  // stayed busy past the retries), conflict (a migration run holds the run
  // lock), unreachable (could not connect: nothing changed), cancelled (the
  // connection broke mid-restore: it may or may not have committed).
  virtual boost::asio::awaitable<Result<RestoreReport>> restore(RestorePreview preview) = 0;
};

}  // namespace lbctl::db
