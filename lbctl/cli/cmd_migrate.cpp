// `lbctl migrate pre|post -c FILE [--dry-run] [--json] [--no-backup]
// [--allow-out-of-order]`: one migration phase outside a cutover. `migrate
// baseline` and `migrate repair` live in cmd_migrate_history.cpp.

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/run.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cli/db_setup.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/migrate_output.hpp"

namespace lbctl::cli {

namespace {

struct MigrateArgs {
  std::string file;
  std::string phase;
  bool dry_run = false;
  bool json = false;
  bool no_backup = false;
  bool allow_out_of_order = false;
};

using Output = MigrateOutput;

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

void show_plan(Output& out, const db::PhasePlan& plan, bool dry_run) {
  const std::string phase(db::to_string(plan.phase));
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : plan.pending) {
    files.push_back(
        {{"file", f.label()}, {"version", f.version.text()}, {"sha256", f.sha256}, {"transaction", !f.no_transaction}});
  }
  const std::string summary = plan.pending.empty()
                                  ? phase + ": nothing pending (" + std::to_string(plan.applied) + " applied)"
                                  : phase + ": " + std::to_string(plan.pending.size()) + " pending (" +
                                        std::to_string(plan.applied) + " applied)" + (dry_run ? ", dry run:" : ":");
  out.line(summary,
           {{"event", "plan"}, {"phase", phase}, {"pending", files}, {"applied", plan.applied}, {"dry_run", dry_run}});
  for (const auto& f : plan.pending) {
    out.line("  " + f.label() + "  sha256 " + f.sha256 + (f.no_transaction ? "  (no-transaction)" : ""), nullptr);
  }
}

int run_migrate(const MigrateArgs& args) {
  Output out(args.json);
  const Config config = load_config(args.file);
  const db::Phase phase = *db::parse_phase(args.phase);
  if (!config.migrations) {
    return out.error(Error{ErrorKind::invalid, args.file + ": no migrations section"}, k_exit_usage);
  }
  SteadyClock clock;
  db::PgMigrator migrator(migrator_options(config, args.allow_out_of_order), clock);

  auto plan = migrator.plan(phase);
  if (!plan) return out.error(plan.error(), exit_code_for(plan.error()));
  if (args.json || args.dry_run || !plan->pending.empty()) show_plan(out, *plan, args.dry_run);
  if (!plan->unfinished.empty()) {
    const auto& m = plan->unfinished.front();
    const std::string label = std::string(db::to_string(phase)) + "/" + m.name;
    if (plan->run_lock_holder) {
      return out.error(Error{ErrorKind::conflict, label + " is being applied right now by " + *plan->run_lock_holder},
                       k_exit_locked);
    }
    return out.error(
        Error{ErrorKind::conflict, label + " was recorded running at " + db::format_utc(m.applied_at) +
                                       " and never finished: check whether its change took effect, then `lbctl migrate "
                                       "repair --done " +
                                       label + "`, or undo it and `lbctl migrate repair --undo " + label +
                                       "` (`lbctl migrate repair` lists what needs repair)"},
        k_exit_operator);
  }
  if (args.dry_run) return k_exit_done;
  if (plan->pending.empty()) {
    out.line(std::string(db::to_string(phase)) + ": nothing to apply",
             {{"event", "done"}, {"phase", args.phase}, {"applied", 0}});
    return k_exit_done;
  }

  boost::asio::io_context io;
  PosixProcessRunner runner;
  if (args.no_backup) {
    out.line("backup: skipped (--no-backup)", {{"event", "backup_skipped"}, {"reason", "--no-backup"}});
  } else if (auto backup_opts = backup_options(config); !backup_opts) {
    out.line("backup: none taken (no migrations.backup in the config)",
             {{"event", "backup_skipped"}, {"reason", "not configured"}});
  } else {
    db::CommandBackup backup(*backup_opts, runner, clock);
    auto taken = run_to_end(io, backup.run({config.service, std::nullopt, config.migrations->database_url, ""}));
    if (!taken) return out.error(taken.error().with_context("backup"), exit_code_for(taken.error()));
    out.line("backup: " + taken->file.string() + " (" + std::to_string(taken->bytes) + " bytes" +
                 (taken->custom_format ? ", pg_restore --list reads it" : "") + ") in " + ms(taken->elapsed),
             {{"event", "backup"},
              {"file", taken->file.string()},
              {"bytes", taken->bytes},
              {"custom_format", taken->custom_format},
              {"ms", taken->elapsed.count()}});
  }

  auto report = run_to_end(io, migrator.apply(phase, std::nullopt));
  if (!report) return out.error(report.error(), exit_code_for(report.error()));
  for (const auto& f : report->applied) {
    out.line("applied " + f.label + " in " + ms(f.duration), {{"event", "applied"},
                                                              {"file", f.label},
                                                              {"version", f.version},
                                                              {"sha256", f.sha256},
                                                              {"transaction", !f.no_transaction},
                                                              {"ms", f.duration.count()}});
  }
  const std::string phase_name(db::to_string(phase));
  const std::string summary =
      report->applied.empty() ? phase_name + ": nothing left to apply (another run applied it while this one waited " +
                                    ms(report->lock_wait) + " for the run lock)"
                              : phase_name + ": applied " + std::to_string(report->applied.size()) + " file(s) in " +
                                    ms(report->elapsed) + " (" + std::to_string(report->attempts) + " attempt(s), " +
                                    ms(report->lock_wait) + " waiting for the run lock)";
  out.line(summary, {{"event", "done"},
                     {"phase", phase_name},
                     {"applied", report->applied.size()},
                     {"attempts", report->attempts},
                     {"lock_wait_ms", report->lock_wait.count()},
                     {"ms", report->elapsed.count()}});
  return k_exit_done;
}

}  // namespace

void add_migrate_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand(
      "migrate", "Apply one migration phase (pre or post) outside a cutover; or baseline, or repair, its history");
  auto args = std::make_shared<MigrateArgs>();
  command->add_option("phase", args->phase, "pre (additive, before new code) or post (after old servers are gone)")
      ->check(CLI::IsMember({"pre", "post"}));
  command->add_option("-c,--config", args->file, "The config file (YAML)");
  command->add_flag("--dry-run", args->dry_run, "List the pending files and their checksums; change nothing");
  command->add_flag("--json", args->json, "One JSON object per line");
  command->add_flag("--no-backup", args->no_backup, "Skip migrations.backup (says so)");
  command->add_flag("--allow-out-of-order", args->allow_out_of_order, "Apply a pending file older than an applied one");
  command->footer(
      "Exit codes: 0 applied (or nothing to do); 1 a migration failed and its phase was rolled back, or the backup "
      "failed; 2 config, usage or invalid migration files; 3 a no-transaction file never finished: check it; 4 "
      "another run holds the run lock; 5 the database was unreachable.\n`lbctl migrate baseline --help`: a database "
      "that already has the files' schema; `lbctl migrate repair --help`: after an operator checked by hand.");
  add_migrate_history_commands(*command, action);
  // CLI11 runs a chosen subcommand's callback first: baseline and repair set the action then.
  command->callback([&action, args, command] {
    if (!command->get_subcommands().empty()) return;
    if (args->phase.empty()) throw CLI::RequiredError("phase (pre or post), or baseline or repair");
    if (args->file.empty()) throw CLI::RequiredError("--config");
    action = [args] { return run_migrate(*args); };
  });
}

}  // namespace lbctl::cli
