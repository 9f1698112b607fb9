#pragma once
// Maps the config to the db/ adapters' options: the journal (state
// database), the migrator and the backup (application database).

#include <optional>
#include <string>

#include "core/error.hpp"
#include "db/backup.hpp"
#include "db/pg_journal.hpp"
#include "db/pg_migrator.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cli/exit_codes.hpp"

namespace lbctl {

// This machine's name, shown as a lock's holder ("unknown" if it has none).
std::string this_host();

db::PgJournalOptions journal_options(const Config& config);

// config.migrations must be set.
db::MigratorOptions migrator_options(const Config& config, bool allow_out_of_order);

// nullopt when the config has no migrations.backup.
std::optional<db::BackupOptions> backup_options(const Config& config);

}  // namespace lbctl
