// `lbctl migrate baseline -c FILE --through VERSION [--yes] [--dry-run]` and
// `lbctl migrate repair -c FILE [--yes] [--done FILE | --undo FILE | --accept
// FILE]`: the migration history for a database that already has its schema,
// and what an operator found by hand. Each change is recorded with who made
// it and when (lbctl_schema_history_edits).

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "db/pg_migrator.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cli/db_setup.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/migrate_output.hpp"
#include "lbctl/cli/output.hpp"
#include "lbctl/cli/who.hpp"

namespace lbctl::cli {

namespace {

struct MigrateHistoryArgs {
  std::string file;
  std::string through;
  std::string done;
  std::string undo;
  std::string accept;
  bool yes = false;
  bool dry_run = false;
  bool json = false;
};

// Asks on a terminal; elsewhere --yes is needed.
bool confirmed(const MigrateHistoryArgs& args, const MigrateOutput& out, const std::string& question) {
  if (args.yes || (interactive() && !args.json && confirm(question))) return true;
  out.error(
      Error{ErrorKind::refused, std::string("nothing changed") + (interactive() && !args.json ? "" : " (give --yes)")},
      k_exit_failed);
  return false;
}

// Runs `body` with the config's migrator; exit 2 when it has no migrations.
int with_migrator(const MigrateHistoryArgs& args, const MigrateOutput& out,
                  const std::function<int(db::PgMigrator&)>& body) {
  const Config config = load_config(args.file);
  if (!config.migrations)
    return out.error(Error{ErrorKind::invalid, args.file + ": no migrations section"}, k_exit_usage);
  SteadyClock clock;
  db::PgMigrator migrator(migrator_options(config, false), clock);
  return body(migrator);
}

int baseline(const MigrateHistoryArgs& args, const MigrateOutput& out, db::PgMigrator& migrator) {
  const std::string by = who_runs_this();
  auto files = migrator.baseline(args.through, true, by);
  if (!files) return out.error(files.error(), exit_code_for(files.error()));
  auto listed = nlohmann::json::array();
  for (const auto& f : *files)
    listed.push_back({{"file", f.label()}, {"version", f.version.text()}, {"sha256", f.sha256}});
  out.line("baseline through " + args.through + (args.dry_run || !args.yes ? ": would record " : ": records ") +
               std::to_string(files->size()) + " file(s) as applied without running them:",
           {{"event", "baseline_plan"}, {"through", args.through}, {"files", listed}, {"dry_run", args.dry_run}});
  for (const auto& f : *files) out.line("  " + f.label() + "  sha256 " + f.sha256, nullptr);
  if (args.dry_run) return k_exit_done;
  if (!confirmed(args, out, "Record them as applied?")) return k_exit_failed;
  auto recorded = migrator.baseline(args.through, false, by);
  if (!recorded) return out.error(recorded.error(), exit_code_for(recorded.error()));
  out.line("recorded " + std::to_string(recorded->size()) + " file(s) as applied (origin baseline) by " + by +
               "; `lbctl migrate pre` applies the newer ones",
           {{"event", "baseline"}, {"through", args.through}, {"recorded", recorded->size()}, {"by", by}});
  return k_exit_done;
}

int list_repairs(db::PgMigrator& migrator, const MigrateOutput& out) {
  auto list = migrator.repairs();
  if (!list) return out.error(list.error(), exit_code_for(list.error()));
  auto items = nlohmann::json::array();
  for (const auto& item : list->items) {
    items.push_back({{"kind", db::to_string(item.kind)}, {"file", item.label()}, {"advice", item.advice()}});
  }
  nlohmann::json event = {{"event", "repairs"}, {"items", items}, {"invalid_indexes", list->invalid_indexes}};
  if (list->run_lock_holder) event["run_lock_holder"] = *list->run_lock_holder;
  out.line(list->items.empty() ? "nothing needs repair" : "needs repair:", event);
  for (const auto& item : list->items) {
    out.line("  " + std::string(db::to_string(item.kind)) + " " + item.label() + ": " + item.advice(), nullptr);
  }
  const bool unfinished = std::any_of(list->items.begin(), list->items.end(), [](const db::RepairItem& i) {
    return i.kind == db::RepairItem::Kind::unfinished;
  });
  if (unfinished && !list->invalid_indexes.empty()) {
    out.line("  INVALID indexes in the database now (a CREATE INDEX CONCURRENTLY that died leaves one): " +
                 fmt::format("{}", fmt::join(list->invalid_indexes, ", ")),
             nullptr);
  }
  if (unfinished && list->run_lock_holder) {
    out.line("  a migration run holds the run lock right now (" + *list->run_lock_holder +
                 "): an unfinished file may still be running",
             nullptr);
  }
  return list->items.empty() ? k_exit_done : k_exit_operator;
}

std::string what_it_does(const db::RepairDone& r) {
  const std::string label = r.repair.label();
  switch (r.repair.action) {
    case db::RepairAction::done: return "mark " + label + " done (its change took effect)";
    case db::RepairAction::undo: return "forget " + label + " (the next run applies it again)";
    case db::RepairAction::accept:
      return "accept " + r.repair.file->label() + " as applied: sha256 " + r.repair.recorded.sha256 + " (applied) -> " +
             r.repair.file->sha256 + " (now)" +
             (r.repair.file->name != r.repair.recorded.name ? "; applied as " + label : "");
  }
  return label;
}

int repair(const MigrateHistoryArgs& args, const MigrateOutput& out, db::PgMigrator& migrator) {
  const auto action = !args.done.empty()   ? db::RepairAction::done
                      : !args.undo.empty() ? db::RepairAction::undo
                                           : db::RepairAction::accept;
  const std::string file = !args.done.empty() ? args.done : !args.undo.empty() ? args.undo : args.accept;
  if (file.empty()) return list_repairs(migrator, out);
  const std::string by = who_runs_this();
  auto planned = migrator.repair(action, file, by, true);
  if (!planned) return out.error(planned.error(), exit_code_for(planned.error()));
  out.line("repair: " + what_it_does(*planned), nullptr);
  if (args.dry_run) return k_exit_done;
  if (!confirmed(args, out, "Repair?")) return k_exit_failed;
  auto done = migrator.repair(action, file, by, false);
  if (!done) return out.error(done.error(), exit_code_for(done.error()));
  nlohmann::json event = {{"event", "repaired"},
                          {"action", db::to_string(action)},
                          {"file", done->repair.label()},
                          {"old_sha256", done->repair.recorded.sha256},
                          {"by", by}};
  if (done->repair.file) event["new_sha256"] = done->repair.file->sha256;
  out.line("repaired: " + what_it_does(*done) + "; recorded by " + by, event);
  return k_exit_done;
}

// --yes ("<verb> without asking"), --dry-run ("<listing>; change nothing") and --json.
void add_change_flags(CLI::App& command, MigrateHistoryArgs& args, const std::string& verb, const std::string& listing) {
  command.add_flag("--yes,-y", args.yes, verb + " without asking (needed when not on a terminal)");
  command.add_flag("--dry-run", args.dry_run, listing + "; change nothing");
  command.add_flag("--json", args.json, "One JSON object per line");
}

}  // namespace

void add_migrate_history_commands(CLI::App& migrate, Action& action) {
  auto args = std::make_shared<MigrateHistoryArgs>();
  auto* base = migrate.add_subcommand(
      "baseline", "Record the files up to VERSION as applied without running them (a database that has them)");
  base->add_option("-c,--config", args->file, "The config file (YAML)")->required();
  base->add_option("--through", args->through, "The newest file's version the database already has (e.g. 03)")
      ->type_name("VERSION")
      ->required();
  add_change_flags(*base, *args, "Record", "List what it would record");
  base->footer(
      "Both phases' files up to and including VERSION are recorded applied (origin baseline, with their checksums);\n"
      "refused when the history already has rows. Exit codes: 0 recorded (or listed); 1 not confirmed; 2 config,\n"
      "usage, invalid files or a history that is not empty; 4 a migration run holds the run lock; 5 unreachable.");
  base->callback([&action, args] {
    action = [args] {
      const MigrateOutput out(args->json);
      return with_migrator(*args, out, [&](db::PgMigrator& migrator) { return baseline(*args, out, migrator); });
    };
  });

  auto* fix = migrate.add_subcommand("repair", "List what stops `lbctl migrate`, or record what an operator found");
  fix->add_option("-c,--config", args->file, "The config file (YAML)")->required();
  auto* done = fix->add_option("--done", args->done, "An unfinished no-transaction file took effect: record it done");
  auto* undo = fix->add_option("--undo", args->undo, "It did not (drop what it left first): the next run applies it");
  auto* accept = fix->add_option("--accept", args->accept, "An applied file changed on purpose: record its new sha256");
  for (auto* option : {done, undo, accept}) option->type_name("FILE");
  done->excludes(undo)->excludes(accept);
  undo->excludes(accept);
  add_change_flags(*fix, *args, "Repair", "Say what the repair would do");
  fix->footer(
      "FILE is pre/NAME.sql or post/NAME.sql (or NAME.sql when only one phase has it). Each repair is recorded\n"
      "with who ran it and when, in lbctl_schema_history_edits. Exit codes: 0 repaired, or nothing needs repair;\n"
      "1 not confirmed; 2 config, usage or a FILE that does not fit; 3 something needs repair (listed); 4 a\n"
      "migration run holds the run lock (the unfinished file may be running); 5 unreachable.");
  fix->callback([&action, args] {
    action = [args] {
      const MigrateOutput out(args->json);
      return with_migrator(*args, out, [&](db::PgMigrator& migrator) { return repair(*args, out, migrator); });
    };
  });
}

}  // namespace lbctl::cli
