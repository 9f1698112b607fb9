#include "db/migration_repair.hpp"

#include <algorithm>
#include <filesystem>

#include "db/journal.hpp"
#include "db/pg_migrator.hpp"

namespace lbctl::db {

namespace {

std::string label_of(const AppliedMigration& m) { return std::string(to_string(m.phase)) + "/" + m.name; }

std::string short_sum_of(const std::string& sha) { return sha.substr(0, 12); }

const MigrationFile* file_of_version(const std::vector<MigrationFile>& files, std::string_view version) {
  const auto wanted = MigrationVersion::from_file_name(version);
  if (!wanted) return nullptr;
  const auto it =
      std::find_if(files.begin(), files.end(), [&](const MigrationFile& f) { return f.version == *wanted; });
  return it == files.end() ? nullptr : &*it;
}

// The versions just below and just above `through`, for a message.
std::string nearest_versions(const MigrationVersion& through, const std::vector<MigrationFile>& pre,
                             const std::vector<MigrationFile>& post) {
  const MigrationFile* below = nullptr;
  const MigrationFile* above = nullptr;
  for (const auto* files : {&pre, &post}) {
    for (const auto& f : *files) {
      if (f.version < through && (!below || below->version < f.version)) below = &f;
      if (through < f.version && (!above || f.version < above->version)) above = &f;
    }
  }
  if (!below && !above) return "there are no migration files at all";
  std::string out = "the nearest are ";
  if (below) out += below->label();
  if (below && above) out += " and ";
  if (above) out += above->label();
  return out;
}

struct FileArg {
  std::optional<Phase> phase;
  std::string name;
};

// "pre/2_x.sql", "db/migrations/post/2_x.sql" or "2_x.sql".
FileArg parse_file_arg(std::string_view arg) {
  const std::filesystem::path path{std::string(arg)};
  FileArg out{std::nullopt, path.filename().string()};
  if (path.has_parent_path()) out.phase = parse_phase(path.parent_path().filename().string());
  return out;
}

bool mentions(const std::vector<MigrationFile>& files, const std::vector<AppliedMigration>& history,
              const std::string& name) {
  return std::any_of(files.begin(), files.end(), [&](const MigrationFile& f) { return f.name == name; }) ||
         std::any_of(history.begin(), history.end(), [&](const AppliedMigration& m) { return m.name == name; });
}

Result<Phase> phase_of(const FileArg& arg, std::string_view raw, const std::vector<MigrationFile>& pre_files,
                       const std::vector<AppliedMigration>& pre_history, const std::vector<MigrationFile>& post_files,
                       const std::vector<AppliedMigration>& post_history) {
  if (arg.phase) return *arg.phase;
  const bool in_pre = mentions(pre_files, pre_history, arg.name);
  const bool in_post = mentions(post_files, post_history, arg.name);
  if (in_pre && in_post) {
    return fail(ErrorKind::invalid,
                std::string(raw) + ": both pre/ and post/ have it: say which, e.g. pre/" + arg.name);
  }
  if (!in_pre && !in_post) {
    return fail(ErrorKind::invalid, std::string(raw) + ": no such file in pre/ or post/, nor in the history");
  }
  return in_pre ? Phase::pre : Phase::post;
}

}  // namespace

Result<std::vector<MigrationFile>> baseline_files(std::string_view through, const std::vector<MigrationFile>& pre,
                                                  const std::vector<MigrationFile>& post, std::size_t history_rows) {
  const auto version = MigrationVersion::from_file_name(through);
  if (!version || version->text() != through) {
    return fail(ErrorKind::invalid, "--through: '" + std::string(through) +
                                        "' is not a version (digits, optionally in '_'-separated groups, as the "
                                        "files' names start: 03, 20261121_03)");
  }
  if (history_rows > 0) {
    return fail(ErrorKind::invalid, "the application database's history (" + std::string(k_history_table) +
                                        ") already has " + std::to_string(history_rows) +
                                        " row(s): baseline is for a database lbctl has never migrated; "
                                        "`lbctl migrate repair` fixes single records");
  }
  const bool exact = file_of_version(pre, through) || file_of_version(post, through);
  if (!exact) {
    return fail(ErrorKind::invalid,
                "--through " + std::string(through) + ": no file in pre/ or post/ has that version (" +
                    nearest_versions(*version, pre, post) + "): name the newest file the database already has");
  }
  std::vector<MigrationFile> out;
  for (const auto* files : {&pre, &post}) {
    for (const auto& f : *files) {
      if (!(*version < f.version)) out.push_back(f);
    }
  }
  return out;
}

std::string RepairItem::label() const { return label_of(recorded); }

std::string_view to_string(RepairItem::Kind kind) {
  return kind == RepairItem::Kind::unfinished ? "unfinished" : "changed";
}

std::string RepairItem::advice() const {
  const std::string name = label();
  if (kind == Kind::unfinished) {
    return "recorded running since " + format_utc(recorded.applied_at) +
           " and never finished (the run applying it died): check whether its change took effect (for CREATE "
           "INDEX CONCURRENTLY: pg_index.indisvalid), then `--done " +
           name + "`, or drop what it left (an INVALID index) and `--undo " + name + "` to run it again";
  }
  const std::string now_name = file ? file->label() : name;
  std::string text = now_name + " is not the file that was applied (sha256 " + short_sum_of(recorded.sha256) +
                     "... then, " + (file ? short_sum_of(file->sha256) : std::string("?")) + "... now";
  if (file && file->name != recorded.name) text += "; applied as " + name;
  return text +
         "): undo the edit and put the change in a new file, or, if the change was on purpose and the "
         "database already has it, `--accept " +
         now_name + "`";
}

std::vector<RepairItem> find_repairs(const std::vector<MigrationFile>& files,
                                     const std::vector<AppliedMigration>& history) {
  std::vector<RepairItem> items;
  for (const auto& record : history) {
    const MigrationFile* file = file_of_version(files, record.version);
    RepairItem item{RepairItem::Kind::unfinished, record, std::nullopt};
    if (file) item.file = *file;
    if (record.status == AppliedMigration::Status::running) {
      items.push_back(std::move(item));
    } else if (record.status == AppliedMigration::Status::done && file &&
               (file->sha256 != record.sha256 || file->name != record.name)) {
      item.kind = RepairItem::Kind::changed;
      items.push_back(std::move(item));
    }
  }
  std::sort(items.begin(), items.end(), [](const RepairItem& a, const RepairItem& b) {
    const auto va = MigrationVersion::from_file_name(a.recorded.version);
    const auto vb = MigrationVersion::from_file_name(b.recorded.version);
    if (va && vb && *va != *vb) return *va < *vb;
    return a.recorded.name < b.recorded.name;
  });
  return items;
}

std::string_view to_string(RepairAction action) {
  switch (action) {
    case RepairAction::done: return "done";
    case RepairAction::undo: return "undo";
    case RepairAction::accept: return "accept";
  }
  return "unknown";
}

std::string PlannedRepair::label() const { return label_of(recorded); }

namespace {

Result<PlannedRepair> plan_unfinished(RepairAction action, const std::string& shown,
                                      const std::vector<AppliedMigration>& history, const std::string& name) {
  const auto row =
      std::find_if(history.begin(), history.end(), [&](const AppliedMigration& m) { return m.name == name; });
  if (row == history.end()) {
    return fail(ErrorKind::invalid, shown + " is not in the history: nothing to mark " +
                                        (action == RepairAction::done ? "done" : "not applied") +
                                        " (files the database got without lbctl are recorded with `migrate baseline`)");
  }
  if (row->status == AppliedMigration::Status::done) {
    return fail(ErrorKind::invalid, shown + " is recorded done (" + row->origin + ", " + format_utc(row->applied_at) +
                                        "): --done and --undo are for a no-transaction file that never finished; "
                                        "--accept takes a changed file's new checksum");
  }
  return PlannedRepair{action, *row, std::nullopt};
}

Result<PlannedRepair> plan_accept(const std::string& shown, const std::vector<MigrationFile>& files,
                                  const std::vector<AppliedMigration>& history, const std::string& name) {
  const auto file = std::find_if(files.begin(), files.end(), [&](const MigrationFile& f) { return f.name == name; });
  if (file == files.end()) return fail(ErrorKind::invalid, shown + ": no such file on disk: nothing to accept");
  const auto row = std::find_if(history.begin(), history.end(), [&](const AppliedMigration& m) {
    return MigrationVersion::from_file_name(m.version) == file->version;
  });
  if (row == history.end() || row->status != AppliedMigration::Status::done) {
    return fail(ErrorKind::invalid, file->label() +
                                        " is not recorded applied: nothing to accept (a pending file "
                                        "runs with `lbctl migrate`)");
  }
  if (row->sha256 == file->sha256 && row->name == file->name) {
    return fail(ErrorKind::invalid, file->label() + " is exactly what was applied (sha256 " + short_sum_of(file->sha256) +
                                        "...): nothing to accept");
  }
  return PlannedRepair{RepairAction::accept, *row, *file};
}

}  // namespace

Result<PlannedRepair> plan_repair(RepairAction action, std::string_view file_arg,
                                  const std::vector<MigrationFile>& pre_files,
                                  const std::vector<AppliedMigration>& pre_history,
                                  const std::vector<MigrationFile>& post_files,
                                  const std::vector<AppliedMigration>& post_history) {
  const FileArg arg = parse_file_arg(file_arg);
  if (arg.name.empty()) return fail(ErrorKind::invalid, "'" + std::string(file_arg) + "' names no file");
  auto phase = phase_of(arg, file_arg, pre_files, pre_history, post_files, post_history);
  if (!phase) return std::unexpected(phase.error());
  const bool pre = *phase == Phase::pre;
  const std::string shown = std::string(to_string(*phase)) + "/" + arg.name;
  if (action == RepairAction::accept)
    return plan_accept(shown, pre ? pre_files : post_files, pre ? pre_history : post_history, arg.name);
  return plan_unfinished(action, shown, pre ? pre_history : post_history, arg.name);
}

}  // namespace lbctl::db
