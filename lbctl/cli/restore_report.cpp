#include "lbctl/cli/restore_report.hpp"

#include <fmt/format.h>

#include "core/time_format.hpp"

namespace lbctl {

namespace {

using std::chrono::milliseconds;

// 850ms, 12.3s, 4m05s
std::string took(milliseconds d) {
  if (d.count() < 1000) return std::to_string(d.count()) + "ms";
  if (d.count() < 60'000) return fmt::format("{:.1f}s", static_cast<double>(d.count()) / 1000.0);
  const auto s = d.count() / 1000;
  return fmt::format("{}m{:02}s", s / 60, s % 60);
}

std::string age(std::chrono::system_clock::duration d) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(d).count();
  if (minutes < 1) return "less than a minute ago";
  if (minutes < 120) return std::to_string(minutes) + " min ago";
  if (minutes < 48 * 60) return fmt::format("{}h{:02}m ago", minutes / 60, minutes % 60);
  return std::to_string(minutes / (24 * 60)) + " days ago";
}

std::string size(std::uintmax_t bytes) {
  if (bytes < 1024 * 1024) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024.0);
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

std::string loss_text(const db::TableLoss& t) {
  switch (t.kind) {
    case db::TableLoss::Kind::rows_since:
      return fmt::format("{}: {} row(s) with {} > {} written since the backup (ids resume after {}{})", t.table,
                         t.rows.value_or(0), t.column, t.backup_value, t.backup_value,
                         t.now_value ? fmt::format("; now at {}", *t.now_value) : "");
    case db::TableLoss::Kind::created_since:
      return fmt::format("{}: created since the backup: dropped with its {} row(s)", t.table, t.rows.value_or(0));
    case db::TableLoss::Kind::cannot_tell:
      return t.table + ": no sequence to tell new rows by: every change since the backup is undone";
  }
  return t.table;
}

std::string_view kind_name(db::TableLoss::Kind kind) {
  switch (kind) {
    case db::TableLoss::Kind::rows_since: return "rows_since";
    case db::TableLoss::Kind::created_since: return "created_since";
    case db::TableLoss::Kind::cannot_tell: return "cannot_tell";
  }
  return "unknown";
}

nlohmann::json optional_time(const std::optional<std::chrono::system_clock::time_point>& t) {
  return t ? nlohmann::json(format_time(*t, TimeFormat::iso)) : nlohmann::json();
}

}  // namespace

std::string describe_preview(const PreparedRestore& prepared, std::chrono::system_clock::time_point now) {
  const db::RestorePreview& p = prepared.preview;
  const auto& taken = p.archive.created_at;
  std::string out =
      fmt::format("restore: the application database back to the backup of cutover {}\n", prepared.cutover.id);
  out += fmt::format("  backup: {} ({}, {}), {}\n", p.file.string(), size(p.bytes), p.archive.format,
                     taken ? fmt::format("taken {} ({})", format_time(*taken, TimeFormat::human), age(now - *taken))
                           : std::string("taken at a time the archive does not give in UTC"));
  out += fmt::format("  replaces schema(s) {} with the backup's", fmt::join(p.schemas, ", "));
  if (!p.left_alone.empty())
    out += fmt::format("; leaves {} as they are (not in the backup)", fmt::join(p.left_alone, ", "));
  out += "\n";
  if (!p.tables.empty()) out += "  lost, per table:\n";
  for (const auto& t : p.tables) out += "    " + loss_text(t) + "\n";
  if (p.pending_again.empty()) {
    out += "  no migration was applied since the backup\n";
  } else {
    out += "  pending again (applied since the backup; the history comes back with it):\n";
    for (const auto& f : p.pending_again) out += "    " + f + "\n";
  }
  return out;
}

nlohmann::json restore_json(const db::RestorePreview& p, const std::optional<db::RestoreReport>& report) {
  auto tables = nlohmann::json::array();
  for (const auto& t : p.tables) {
    nlohmann::json j = {{"table", t.table}, {"kind", kind_name(t.kind)}, {"text", loss_text(t)}};
    if (t.rows) j["rows"] = *t.rows;
    if (t.kind == db::TableLoss::Kind::rows_since) {
      j["column"] = t.column;
      j["backup_value"] = t.backup_value;
    }
    tables.push_back(std::move(j));
  }
  nlohmann::json out = {{"backup", p.file.string()},  {"bytes", p.bytes},
                        {"format", p.archive.format}, {"backup_taken_at", optional_time(p.archive.created_at)},
                        {"schemas", p.schemas},       {"left_alone", p.left_alone},
                        {"tables", tables},           {"pending_again", p.pending_again}};
  if (report) {
    out["elapsed_ms"] = report->elapsed.count();
    out["attempts"] = report->attempts;
    out["pending"] = report->pending;
  }
  return out;
}

std::string describe_success(const PreparedRestore& prepared, const RestoreOutcome& outcome,
                             const std::string& config_file) {
  const db::RestorePreview& p = prepared.preview;
  const db::RestoreReport& r = *outcome.report;
  const auto& taken = p.archive.created_at;
  std::string out =
      fmt::format("restored in {} ({} attempt(s)): the database is as it was {}; sequences resume from the backup\n",
                  took(r.elapsed), r.attempts,
                  taken ? "at " + format_time(*taken, TimeFormat::human) : "when the backup was taken");
  if (!r.pending_unknown.empty()) {
    out += "pending now: unknown (" + r.pending_unknown + "): see `lbctl migrate pre --dry-run`\n";
  } else if (!r.pending.empty()) {
    out += fmt::format("pending now (the history came back with the backup): {}\n", fmt::join(r.pending, ", "));
  }
  out += fmt::format(
      "next:\n  1. the servers still run the release cutover {} brought, made for the newer schema: cut over to the "
      "previous release now, `lbctl cutover -c {}` with the previous release's servers and its own migrations "
      "folder (without the files pending above, or lbctl applies them again)\n",
      prepared.cutover.id, config_file);
  if (outcome.page_on) {
    out += fmt::format(
        "  2. the maintenance page stays on until then: `lbctl maintenance off -c {}` once the previous "
        "release serves\n",
        config_file);
  } else {
    out += "  2. no maintenance page is configured: the newer release is serving against the restored schema now\n";
  }
  for (const auto& t : p.tables) {
    if (t.kind != db::TableLoss::Kind::rows_since || t.rows.value_or(0) == 0) continue;
    out += fmt::format(
        "  ids of {} after {} will be handed out again: clear what outside the database is keyed "
        "by them (files, caches, logs)\n",
        t.table, t.backup_value);
  }
  return out;
}

std::string restore_history_line(const db::Restore& r) {
  std::string line = fmt::format("restore {} cutover={} {} started={}", r.id, r.cutover_id, db::to_string(r.status),
                                 format_time(r.started_at, TimeFormat::iso));
  if (r.finished_at) {
    line += " duration=" + took(std::chrono::duration_cast<milliseconds>(*r.finished_at - r.started_at));
  }
  line += " by=" + r.run_by + " backup=" + r.backup_path;
  if (!r.error.empty()) {
    std::string error = r.error;
    for (char& c : error) c = (c == '\n' || c == '\r') ? ' ' : c;
    line += " error=" + error;
  }
  return line;
}

nlohmann::json restore_history_json(const db::Restore& r) {
  nlohmann::json j = {{"kind", "restore"},
                      {"id", r.id},
                      {"service", r.service},
                      {"cutover_id", r.cutover_id},
                      {"status", db::to_string(r.status)},
                      {"backup", r.backup_path},
                      {"backup_taken_at", optional_time(r.backup_taken_at)},
                      {"run_by", r.run_by},
                      {"host", r.host},
                      {"pid", r.pid},
                      {"started_at", format_time(r.started_at, TimeFormat::iso)},
                      {"finished_at", optional_time(r.finished_at)},
                      {"error", r.error.empty() ? nlohmann::json() : nlohmann::json(r.error)}};
  j["detail"] = nlohmann::json::parse(r.detail_json, nullptr, false);
  return j;
}

}  // namespace lbctl
