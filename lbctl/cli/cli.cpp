#include "lbctl/cli/cli.hpp"

#include <CLI/CLI.hpp>
#include <csignal>
#include <fmt/format.h>
#include <iostream>

#include "core/process.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cli/exit_codes.hpp"

namespace lbctl {

int run_cli(int argc, char** argv) {
  // A program that exits before reading its stdin (a persist `write`
  // command) must fail that command, not kill lbctl.
  std::signal(SIGPIPE, SIG_IGN);
  // Hooks, providers and the backup get lbctl's environment without its secrets.
  withhold_from_children({"LBCTL_STATE_DATABASE_URL", "LBCTL_MIGRATIONS_DATABASE_URL"});
  CLI::App app{"lbctl: blue-green cutovers for application servers behind HAProxy", "lbctl"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lbctl 0.1.0");
  app.footer("Every command takes -c CONFIG (configs/example.yaml documents every key) and --json.\n"
             "Exit codes: 0 done; 1 failed and rolled back cleanly; 2 usage or config error; 3 stopped and needs\n"
             "an operator; 4 another cutover holds the lock; 5 a dependency was unreachable before any change.\n"
             "`lbctl COMMAND --help` for each command.");
  cli::Action action;
  cli::add_validate_command(app, action);
  cli::add_servers_command(app, action);
  cli::add_check_command(app, action);
  cli::add_migrate_command(app, action);
  cli::add_history_command(app, action);
  cli::add_cutover_command(app, action);
  cli::add_plan_command(app, action);
  cli::add_status_command(app, action);
  cli::add_abort_command(app, action);
  cli::add_maintenance_command(app, action);
  cli::add_reconcile_command(app, action);
  cli::add_restore_command(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return k_exit_usage;
  }
  try {
    return action ? action() : k_exit_usage;
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return k_exit_usage;
  }
}

}  // namespace lbctl
