#pragma once
// Migrations against the application database (migrations.database_url),
// history in its table lbctl_schema_migrations. The run lock is
// pg_try_advisory_lock polled in autocommit, never a blocking lock inside a
// transaction (Flyway 1654, golang-migrate 960); connect directly, not
// through a transaction-pooling PgBouncer, or the lock means nothing.

#include <chrono>
#include <filesystem>
#include <string>

#include "core/clock.hpp"
#include "db/migrator.hpp"

namespace lbctl::db {

struct MigratorOptions {
  std::string database_url;                      // a secret: never printed
  std::filesystem::path dir;                     // holds pre/ and post/
  std::chrono::milliseconds lock_timeout{2000};  // SET LOCAL lock_timeout in the phase's transaction
  std::chrono::milliseconds lock_wait{60000};    // how long to poll for the run lock
  int max_retries = 5;                           // after a lock timeout or deadlock
  bool allow_out_of_order = false;
  std::chrono::milliseconds retry_backoff{500};  // the first wait before a retry; doubles each time
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds lock_poll{250};  // between run lock attempts
  std::chrono::seconds connect_timeout{5};
  std::string host;  // shown to a second run as the lock's holder
  int pid = 0;
};

class PgMigrator final : public Migrator {
 public:
  // Connects only when asked; `clock` paces the lock polling and backoff.
  PgMigrator(MigratorOptions options, Clock& clock);

  Result<PhasePlan> plan(Phase phase) override;
  boost::asio::awaitable<Result<PhaseReport>> apply(Phase phase, std::optional<std::int64_t> cutover_id) override;
  boost::asio::awaitable<Result<PhaseReport>> apply_together(std::vector<Phase> phases,
                                                             std::optional<std::int64_t> cutover_id) override;

 private:
  boost::asio::awaitable<Result<PhaseReport>> apply_phases(std::vector<Phase> phases,
                                                           std::optional<std::int64_t> cutover_id);

  MigratorOptions m_options;
  Clock& m_clock;
};

// The name of the history table in the application database.
inline constexpr const char* k_history_table = "lbctl_schema_migrations";

}  // namespace lbctl::db
