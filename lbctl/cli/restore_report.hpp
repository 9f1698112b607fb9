#pragma once
// How a restore is shown: what it would lose (before asking), how it went,
// what to do next, and its line in `lbctl history`. One renderer for the
// text and one for the JSON.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "db/journal.hpp"
#include "db/restore.hpp"
#include "lbctl/cli/restore.hpp"

namespace lbctl {

// The lines shown before asking: the backup and its age, the tables and
// the rows lost per table where it can tell, the files pending again.
std::string describe_preview(const PreparedRestore& prepared, std::chrono::system_clock::time_point now);

// The preview (and, after the restore, its report) as JSON: the journal's
// detail for the restore, and --json's output.
nlohmann::json restore_json(const db::RestorePreview& preview, const std::optional<db::RestoreReport>& report);

// After a successful restore: what was done, and what to do next (the
// cutover to the previous release with its own migrations, then the page
// off). `config_file` is shown in the commands.
std::string describe_success(const PreparedRestore& prepared, const RestoreOutcome& outcome,
                             const std::string& config_file);

// One line of `lbctl history` for a restore, and its JSON object.
std::string restore_history_line(const db::Restore& restore);
nlohmann::json restore_history_json(const db::Restore& restore);

}  // namespace lbctl
