#include "lbctl/cli/db_setup.hpp"

#include <limits.h>
#include <unistd.h>

namespace lbctl {

std::string this_host() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "unknown";
  return name;
}

db::PgJournalOptions journal_options(const Config& config) {
  db::PgJournalOptions options;
  options.database_url = config.state_database_url;
  options.host = this_host();
  options.pid = static_cast<int>(::getpid());
  options.partition_timeout = config.state_partition_timeout;
  options.lease = config.state_lease;
  return options;
}

db::MigratorOptions migrator_options(const Config& config, bool allow_out_of_order) {
  const MigrationsConfig& m = config.migrations.value();
  db::MigratorOptions options;
  options.database_url = m.database_url;
  options.dir = m.dir;
  options.lock_timeout = m.lock_timeout;
  options.lock_wait = m.lock_wait;
  options.max_retries = m.max_retries;
  options.allow_out_of_order = allow_out_of_order;
  options.host = this_host();
  options.pid = static_cast<int>(::getpid());
  return options;
}

std::optional<db::BackupOptions> backup_options(const Config& config) {
  if (!config.migrations || !config.migrations->backup) return std::nullopt;
  db::BackupOptions options;
  options.command = config.migrations->backup->command;
  options.dir = config.migrations->backup->dir;
  return options;
}

}  // namespace lbctl
