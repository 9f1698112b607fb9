#include "db/journal.hpp"

#include "core/time_format.hpp"

namespace lbctl::db {

std::string_view to_string(CutoverStatus status) {
  switch (status) {
    case CutoverStatus::running: return "running";
    case CutoverStatus::interrupted: return "interrupted";
    case CutoverStatus::completed: return "completed";
    case CutoverStatus::rolled_back: return "rolled_back";
    case CutoverStatus::needs_operator: return "needs_operator";
    case CutoverStatus::stopped: return "stopped";
  }
  return "unknown";
}

std::optional<CutoverStatus> parse_cutover_status(std::string_view text) {
  for (auto s : {CutoverStatus::running, CutoverStatus::interrupted, CutoverStatus::completed,
                 CutoverStatus::rolled_back, CutoverStatus::needs_operator, CutoverStatus::stopped}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

bool is_finished(CutoverStatus status) {
  return status == CutoverStatus::completed || status == CutoverStatus::rolled_back || status == CutoverStatus::stopped;
}

std::string_view to_string(RestoreStatus status) {
  switch (status) {
    case RestoreStatus::running: return "running";
    case RestoreStatus::interrupted: return "interrupted";
    case RestoreStatus::done: return "done";
    case RestoreStatus::failed: return "failed";
  }
  return "unknown";
}

std::string_view to_string(Pool pool) { return pool == Pool::old_pool ? "old" : "new"; }

std::string format_utc(JournalTime t) { return format_time(t, TimeFormat::human); }

std::string describe(const Cutover& c) {
  return "cutover " + std::to_string(c.id) + " (host " + c.host + ", pid " + std::to_string(c.pid) + ", started " +
         format_utc(c.started_at) + ", at step " + c.step + ")";
}

Error lock_held_error(const Cutover& holder) {
  return Error{ErrorKind::conflict, "service " + holder.service + " is locked by " + describe(holder)};
}

Error unfinished_cutover_error(const Cutover& c) {
  const std::string what = c.status == CutoverStatus::needs_operator ? " needs an operator: " : " was interrupted: ";
  std::string text = "service " + c.service + ": " + describe(c) + what;
  if (!c.error.empty()) text += c.error + "; ";
  return Error{ErrorKind::conflict, text + "run `lbctl resume` to finish it or `lbctl abort` to roll it back"};
}

Error lease_not_run_out(const Cutover& holder, std::chrono::milliseconds lease) {
  return Error{ErrorKind::conflict,
               "service " + holder.service + ": " + describe(holder) +
                   " may still be running, cut off from the state database: its lease (" +
                   std::to_string(lease.count() / 1000) + " s from its last heartbeat, at " +
                   format_utc(holder.heartbeat_at) + ") has not run out"};
}

}  // namespace lbctl::db
