#include <algorithm>

#include "db/migrator.hpp"

namespace lbctl::db {

namespace {

std::string short_sum(const std::string& sha) { return sha.substr(0, 12); }

}  // namespace

std::string_view to_string(AppliedMigration::Status status) {
  switch (status) {
    case AppliedMigration::Status::done: return "done";
    case AppliedMigration::Status::running: return "running";
    case AppliedMigration::Status::failed: return "failed";
  }
  return "unknown";
}

Result<PhasePlan> make_phase_plan(Phase phase, std::vector<MigrationFile> files,
                                  const std::vector<AppliedMigration>& history, bool allow_out_of_order) {
  PhasePlan plan;
  plan.phase = phase;
  const std::string folder = std::string(to_string(phase)) + "/";
  std::optional<MigrationVersion> newest_done;
  std::string newest_done_name;
  std::vector<bool> settled(files.size(), false);

  for (const auto& record : history) {
    if (record.phase != phase) continue;
    const auto version = MigrationVersion::from_file_name(record.version);
    const auto file = std::find_if(files.begin(), files.end(),
                                   [&](const MigrationFile& f) { return version && f.version == *version; });
    const std::size_t index = static_cast<std::size_t>(file - files.begin());
    if (record.status == AppliedMigration::Status::running) {
      plan.unfinished.push_back(record);
      if (file != files.end()) settled[index] = true;
      continue;
    }
    if (record.status != AppliedMigration::Status::done) continue;  // failed: pending again
    ++plan.applied;
    if (version && (!newest_done || *newest_done < *version)) {
      newest_done = version;
      newest_done_name = record.name;
    }
    if (file == files.end()) continue;  // applied, since removed from the folder: nothing to check
    if (file->name != record.name) {
      return fail(
          ErrorKind::invalid,
          file->label() + " has the version of the applied " + folder + record.name +
              ": applied files are never renamed; give a new file a new version (or, if the rename was on purpose, "
              "`lbctl migrate repair --accept " +
              file->label() + "`)");
    }
    if (file->sha256 != record.sha256) {
      return fail(ErrorKind::invalid, file->label() + " was changed after it was applied (sha256 " +
                                          short_sum(record.sha256) + "... then, " + short_sum(file->sha256) +
                                          "... now): applied files are immutable; undo the edit and put the change "
                                          "in a new file (or, if the database already has the change, `lbctl "
                                          "migrate repair --accept " +
                                          file->label() + "`)");
    }
    settled[index] = true;
  }

  for (std::size_t i = 0; i < files.size(); ++i) {
    if (settled[i]) continue;
    if (newest_done && files[i].version < *newest_done && !allow_out_of_order) {
      return fail(ErrorKind::invalid, files[i].label() + " is pending but older than the applied " + folder +
                                          newest_done_name +
                                          " (merged late?): give it a newer version, or pass "
                                          "--allow-out-of-order if it does not depend on order");
    }
    plan.pending.push_back(std::move(files[i]));
  }
  std::stable_partition(plan.pending.begin(), plan.pending.end(),
                        [](const MigrationFile& f) { return !f.no_transaction; });
  return plan;
}

}  // namespace lbctl::db
