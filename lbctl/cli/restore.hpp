#pragma once
// `lbctl restore`: the application database back to the backup cutover N
// took before its migrations (after a data migration, the only way back to the
// previous release: the rollback runbook restores that backup). Two halves, so the command can ask
// in between: prepare (the journal's record of the backup, the service lock,
// what the restore would lose) and restore (journaled, behind the
// maintenance page when one is configured).

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "db/journal.hpp"
#include "db/restore.hpp"
#include "lbctl/config/config.hpp"
#include "pools/fleet.hpp"

namespace lbctl {

struct RestoreDeps {
  const Config& config;
  db::Journal& journal;
  db::DatabaseRestore& database;
  pools::Fleet& fleet;  // for the maintenance page (config.maintenance)
  Clock& clock;
};

struct RestoreWho {
  std::string run_by;  // "alice@web1"
  std::string host;
  int pid = 0;
};

struct PreparedRestore {
  db::Cutover cutover;
  db::RestorePreview preview;
};

// A failure before or during the restore, with the exit code `migrate`
// documents: 1 failed (the database as it was), 2 usage or config, 3 needs an
// operator, 4 the lock is held, 5 unreachable before any change.
struct RestoreFailure {
  int exit_code = 1;
  std::string message;
};

// Reads cutover N's backup from the journal, takes the service lock (no
// cutover may run or wait for an operator meanwhile; the caller releases it
// with journal.release()) and previews the restore. Changes nothing.
boost::asio::awaitable<std::expected<PreparedRestore, RestoreFailure>> prepare_restore(RestoreDeps deps,
                                                                                       std::int64_t cutover_id,
                                                                                       RestoreWho who);

struct RestoreOutcome {
  int exit_code = 0;
  std::string message;  // "" when it succeeded
  std::int64_t restore_id = 0;
  std::optional<db::RestoreReport> report;
  bool page_on = false;      // the maintenance page is on now
  bool page_was_on = false;  // it was on before the restore
};

// Journals the restore, turns the maintenance page on (when configured and
// not on yet), restores, journals how it ended. After a failure the database
// is as it was, so the page goes off again if this restore turned it on;
// after success it stays on until the previous release is back.
boost::asio::awaitable<RestoreOutcome> run_restore(RestoreDeps deps, PreparedRestore prepared, RestoreWho who);

}  // namespace lbctl
