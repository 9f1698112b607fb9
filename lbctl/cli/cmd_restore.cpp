// `lbctl restore -c FILE --cutover N [--yes] [--json]`: the application
// database back to the backup cutover N took before its migrations.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "core/run.hpp"
#include "db/pg_restore.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/cli/db_setup.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/fleet_setup.hpp"
#include "lbctl/cli/output.hpp"
#include "lbctl/cli/restore.hpp"
#include "lbctl/cli/restore_report.hpp"
#include "lbctl/cli/who.hpp"

namespace lbctl::cli {

namespace {

struct RestoreArgs {
  std::string file;
  std::int64_t cutover = 0;
  bool yes = false;
  bool json = false;
};

// The migrator's connection, migrations folder, retries and identity; the
// rest as RestoreOptions has them.
db::RestoreOptions restore_options(const Config& config) {
  const auto migrator = migrator_options(config, false);
  return db::RestoreOptions{.database_url = migrator.database_url,
                            .dir = migrator.dir,
                            .lock_timeout = migrator.lock_timeout,
                            .max_retries = migrator.max_retries,
                            .host = migrator.host,
                            .pid = migrator.pid};
}

int refuse(const RestoreArgs& args, int exit_code, const std::string& message) {
  if (args.json) {
    std::cout << nlohmann::json{{"event", "error"}, {"message", message}, {"exit_code", exit_code}}.dump() << "\n";
  }
  std::cerr << "error: " << message << "\n";
  return exit_code;
}

// The service lock goes whatever happens.
struct ReleaseOnExit {
  db::Journal& journal;
  ~ReleaseOnExit() { journal.release(); }
};

int restore(const RestoreArgs& args) {
  const Config config = load_config(args.file);
  if (!config.migrations) {
    return refuse(args, k_exit_usage,
                  args.file + ": no migrations section: lbctl restores the database migrations.database_url names");
  }
  boost::asio::io_context io;
  SteadyClock clock;
  PosixProcessRunner processes;
  auto journal = db::PgJournal::open(journal_options(config));
  if (!journal) return refuse(args, exit_code_for(journal.error()), "state database: " + journal.error().message);
  ReleaseOnExit release{**journal};
  auto fleet = make_fleet(config, clock, processes);
  db::PgRestore database(restore_options(config), processes, clock);
  const RestoreDeps deps{config, **journal, database, fleet, clock};
  const RestoreWho who{who_runs_this(), this_host(), static_cast<int>(::getpid())};

  auto prepared = run_to_end(io, prepare_restore(deps, args.cutover, who));
  if (!prepared) return refuse(args, prepared.error().exit_code, prepared.error().message);
  if (args.json) {
    nlohmann::json preview = {{"event", "preview"}, {"cutover_id", args.cutover}};
    preview.update(restore_json(prepared->preview, std::nullopt));
    std::cout << preview.dump() << "\n";
  } else {
    std::cout << describe_preview(*prepared, std::chrono::system_clock::now());
    if (!config.maintenance || config.maintenance->map.empty()) {
      std::cout << "  no maintenance page is configured: the site keeps serving during the restore\n";
    }
  }
  if (!args.yes && !(interactive() && !args.json && confirm("Restore?"))) {
    return refuse(args, k_exit_failed,
                  std::string("not restored; nothing changed") + (interactive() ? "" : " (give --yes)"));
  }
  const auto outcome = run_to_end(io, run_restore(deps, *prepared, who));
  if (outcome.exit_code != k_exit_done) return refuse(args, outcome.exit_code, outcome.message);
  if (args.json) {
    nlohmann::json done = {{"event", "restored"},
                           {"restore_id", outcome.restore_id},
                           {"cutover_id", args.cutover},
                           {"maintenance_page_on", outcome.page_on}};
    done.update(restore_json(prepared->preview, outcome.report));
    std::cout << done.dump() << "\n";
  } else {
    std::cout << describe_success(*prepared, outcome, args.file);
  }
  if (!outcome.message.empty()) std::cerr << "warning: " << outcome.message << "\n";
  return k_exit_done;
}

}  // namespace

void add_restore_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand(
      "restore", "Restore the application database from the backup a cutover took before its migrations");
  auto args = std::make_shared<RestoreArgs>();
  command->add_option("-c,--config", args->file, "The config file (YAML)")->required();
  command->add_option("--cutover", args->cutover, "The cutover whose backup to restore (see `lbctl history`)")
      ->required()
      ->check(CLI::PositiveNumber);
  command->add_flag("--yes,-y", args->yes, "Restore without asking (needed when not on a terminal)");
  command->add_flag("--json", args->json, "One JSON object per line: the preview, then the result");
  command->footer(
      "Shows the backup's time and what the restore loses (rows written since, per table where it can tell; the\n"
      "migrations applied since, which are pending again), then asks. With maintenance.map configured the page is\n"
      "on during the restore and stays on until the previous release serves. The restore is one transaction: a\n"
      "failed or corrupt one leaves the database as it was. lbctl's journal (schema lbctl) is never restored.\n"
      "Exit codes: 0 restored; 1 failed, or not confirmed (the database as it was); 2 config or usage (e.g. the\n"
      "cutover took no backup); 3 the connection broke mid-restore, or the page could not be turned off: check;\n"
      "4 a cutover or a migration run holds the lock; 5 a database or LB was unreachable before any change.");
  command->callback([&action, args] { action = [args] { return restore(*args); }; });
}

}  // namespace lbctl::cli
