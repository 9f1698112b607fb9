#pragma once
// The application database restored from a pg_dump archive, with pg_restore
// and psql. Why not `pg_restore --single-transaction --clean --if-exists`
// alone: --clean drops only what the archive holds, so a table a migration
// created since the backup survives the restore, and one that references a
// restored table (a foreign key) makes the DROP of that table fail. So:
// `pg_restore --clean --if-exists -f SCRIPT` first (reading the whole
// archive: a corrupt one fails here, before the database is touched), then
// `psql --single-transaction -v ON_ERROR_STOP=1` runs a preamble that drops
// every object of the archive's schemas, and the script, as ONE
// transaction: all of it, or nothing.

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/process.hpp"
#include "db/restore.hpp"

namespace lbctl::db {

struct RestoreOptions {
  std::string database_url;                      // a secret: never printed, never in argv
  std::filesystem::path dir;                     // the migrations (pre/, post/): what is pending afterwards
  std::chrono::milliseconds lock_timeout{2000};  // SET LOCAL lock_timeout for the drops
  int max_retries = 5;                           // after a lock timeout or deadlock
  std::chrono::milliseconds retry_backoff{500};  // doubles each time
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds timeout{std::chrono::hours(1)};  // per pg_restore or psql run
  std::chrono::seconds connect_timeout{5};
  std::string pg_restore = "pg_restore";
  std::string psql = "psql";
  std::string host;  // shown to others as the run lock's holder
  int pid = 0;
};

// lbctl's journal when the state and application databases are one: a
// restore leaves it as it is.
inline constexpr const char* k_journal_schema = "lbctl";

class PgRestore final : public DatabaseRestore {
 public:
  PgRestore(RestoreOptions options, ProcessRunner& runner, Clock& clock);

  boost::asio::awaitable<Result<RestorePreview>> preview(std::filesystem::path backup) override;
  boost::asio::awaitable<Result<RestoreReport>> restore(RestorePreview preview) override;

 private:
  // `TZ=UTC pg_restore --list FILE`, parsed.
  boost::asio::awaitable<Result<BackupArchive>> list_archive(std::filesystem::path file);
  // pg_restore's script for the entries of `list` only (-L), on stdout.
  boost::asio::awaitable<Result<std::string>> script_of(std::filesystem::path file, std::string list);
  // psql running the preamble and the script in one transaction, retried
  // after lock timeouts and deadlocks; returns the attempts.
  boost::asio::awaitable<Result<int>> run_in_one_transaction(std::vector<std::string> schemas,
                                                             std::filesystem::path preamble,
                                                             std::filesystem::path script);

  RestoreOptions m_options;
  ProcessRunner& m_runner;
  Clock& m_clock;
};

// The psql script run before the restore's own, in its transaction: drops
// every table, view, sequence, function, procedure, aggregate, domain and
// type of the backup's schemas (extension members aside), so that afterwards
// the schemas hold exactly the archive's objects. The schemas' names are not
// in the text: they come as the psql variable schemas_variable() sets
// (`-v`), quoted by psql as a literal, so no name can end a quote.
inline constexpr std::string_view k_schemas_variable = "lbctl_schemas";
std::string restore_preamble(std::chrono::milliseconds lock_timeout);
// The `-v` argument carrying `schemas` (one per line: a name never holds a
// control character, see unambiguous_schema_names).
std::string schemas_variable(const std::vector<std::string>& schemas);

}  // namespace lbctl::db
