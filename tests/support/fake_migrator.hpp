#pragma once
// In-memory Migrator and Backup for the controller's unit tests. They record
// every call, so a test can assert the order of backup, pre and post:
//   FakeMigrator: "plan pre", "apply pre cutover=7" (or "cutover=none")
//   FakeBackup:   "backup shop cutover=7"
// A successful apply moves the phase's pending files to applied(); a failure
// queued with fail_next_apply() leaves them pending, like a rolled-back phase.

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "db/backup.hpp"
#include "db/migrator.hpp"

namespace lbctl::test {

class FakeMigrator final : public db::Migrator {
 public:
  // With a clock, apply() takes `apply_time` on it (sleeps), so a test can
  // see what the controller does meanwhile.
  explicit FakeMigrator(Clock* clock = nullptr) : m_clock(clock) {}

  Result<db::PhasePlan> plan(db::Phase phase) override;
  // "apply pre+post cutover=7"; all or nothing: a failure queued for any of
  // the phases leaves every phase pending.
  boost::asio::awaitable<Result<db::PhaseReport>> apply_together(std::vector<db::Phase> phases,
                                                                 std::optional<std::int64_t> cutover_id) override;
  boost::asio::awaitable<Result<db::PhaseReport>> apply(db::Phase phase,
                                                        std::optional<std::int64_t> cutover_id) override;

  std::vector<std::string> calls;

  // Files waiting in `phase`, by name ("20261121_01_add_total.sql"; a name
  // without a version throws std::invalid_argument). A name may be given a
  // no-transaction mark with a leading '!'.
  void set_pending(db::Phase phase, const std::vector<std::string>& names);
  // A no-transaction file recorded running: plan() lists it, apply() refuses.
  void set_unfinished(db::Phase phase, const std::string& name);
  void fail_next_plan(db::Phase phase, Error error);
  void fail_next_apply(db::Phase phase, Error error);
  // What apply() applied, per phase, in order.
  std::vector<std::string> applied(db::Phase phase) const;
  std::chrono::milliseconds apply_time{0};

 private:
  struct PhaseState {
    std::vector<db::MigrationFile> pending;
    std::vector<db::AppliedMigration> unfinished;
    std::vector<std::string> applied;
    std::deque<Error> plan_failures;
    std::deque<Error> apply_failures;
  };
  Clock* m_clock;
  std::map<db::Phase, PhaseState> m_phases;
};

class FakeBackup final : public db::Backup {
 public:
  boost::asio::awaitable<Result<db::BackupResult>> run(const db::BackupRequest& request) override;

  std::vector<std::string> calls;
  std::vector<db::BackupRequest> requests;
  // What a successful run returns.
  db::BackupResult result{"/var/backups/lbctl/shop.dump", 4096, true, "pg_dump -Fc ... {database_url}",
                          std::chrono::milliseconds(50)};
  void fail_next(Error error) { m_failures.push_back(std::move(error)); }

 private:
  std::deque<Error> m_failures;
};

}  // namespace lbctl::test
