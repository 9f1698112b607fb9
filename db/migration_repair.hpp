#pragma once
// Adopting lbctl on a database that already has its schema (`migrate
// baseline`), and telling lbctl what an operator found by hand (`migrate
// repair`), as Flyway's baseline and repair and Sqitch's --log-only do. The
// pure half: which files a baseline records, what needs repair, which
// history row a FILE argument names. PgMigrator writes the history
// (pg_migration_repair.cpp).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "db/migrator.hpp"

namespace lbctl::db {

// The files of both phases up to and including `through`, pre/ first, each
// in version order. Fails (invalid) when `through` is not a version, when no
// file has exactly that version (a typo would record the wrong files; the
// message names the nearest versions), or when the history already has rows
// (baseline is for a database lbctl never migrated).
Result<std::vector<MigrationFile>> baseline_files(std::string_view through, const std::vector<MigrationFile>& pre,
                                                  const std::vector<MigrationFile>& post, std::size_t history_rows);

// Something in the history that stops `lbctl migrate` until an operator
// decides.
struct RepairItem {
  enum class Kind {
    unfinished,  // a no-transaction file recorded running: its run died (or runs now)
    changed,     // an applied file whose text (or name) is not what was applied
  };
  Kind kind = Kind::unfinished;
  AppliedMigration recorded;          // the history row
  std::optional<MigrationFile> file;  // the file of that version on disk now, if any

  std::string label() const;  // "pre/2_index.sql", as recorded
  // What the operator can do about it, naming the repair options.
  std::string advice() const;
};

std::string_view to_string(RepairItem::Kind kind);

// Everything that needs repair in one phase, in version order: rows recorded
// running, and done rows whose file now has another checksum or name.
std::vector<RepairItem> find_repairs(const std::vector<MigrationFile>& files,
                                     const std::vector<AppliedMigration>& history);

enum class RepairAction {
  done,    // an unfinished (or failed) no-transaction file took effect: record it done
  undo,    // it did not: forget the row, so the next run applies it again
  accept,  // an applied file was changed on purpose: record its new checksum (and name)
};

std::string_view to_string(RepairAction action);

// One repair, checked against the files and the history, ready to write.
struct PlannedRepair {
  RepairAction action = RepairAction::done;
  AppliedMigration recorded;
  std::optional<MigrationFile> file;  // accept: the file as it is now
  std::string label() const;          // "pre/2_index.sql"
};

// Resolves `file_arg` ("pre/2_index.sql", a path ending in pre/ or post/ and
// the name, or the name alone when only one phase has it) and checks the
// action fits the row: done and undo need a row recorded running or failed;
// accept needs a done row whose file on disk (same version) differs from it.
// Fails with invalid, saying which file and why.
Result<PlannedRepair> plan_repair(RepairAction action, std::string_view file_arg,
                                  const std::vector<MigrationFile>& pre_files,
                                  const std::vector<AppliedMigration>& pre_history,
                                  const std::vector<MigrationFile>& post_files,
                                  const std::vector<AppliedMigration>& post_history);

// What needs repair in both phases, as `migrate repair` lists it.
struct RepairList {
  std::vector<RepairItem> items;  // pre/ first
  // Who holds the run lock now: an unfinished file may be running right now.
  std::optional<std::string> run_lock_holder;
  // Indexes Postgres marks INVALID (a CREATE INDEX CONCURRENTLY that died
  // leaves one), "public.orders_total": what an unfinished file left.
  std::vector<std::string> invalid_indexes;
};

// A repair written to the history.
struct RepairDone {
  PlannedRepair repair;
  std::string by;
};

}  // namespace lbctl::db
