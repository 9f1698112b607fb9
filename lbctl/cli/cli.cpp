#include "lbctl/cli/cli.hpp"

#include <CLI/CLI.hpp>
#include <csignal>
#include <fmt/format.h>
#include <iostream>

#include "core/process.hpp"
#include "lbctl/cli/build_info.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cli/config_lookup.hpp"
#include "lbctl/cli/exit_codes.hpp"

namespace lbctl {

void build_cli(CLI::App& app, cli::Action& action) {
  app.require_subcommand(1);
  app.set_version_flag("--version", build_info::version_line());
  app.footer("Every command takes -c CONFIG (without it: $LBCTL_CONFIG, then ./lbctl.yaml; configs/example.yaml,\n"
             "installed in share/doc/lbctl/examples/, documents every key) and --json.\n"
             "Colour only on a terminal, and not when NO_COLOR is set.\n" +
             cutover_exit_codes_folded() + "\n`lbctl COMMAND --help` for each command.");
  cli::add_validate_command(app, action);
  cli::add_servers_command(app, action);
  cli::add_check_command(app, action);
  cli::add_migrate_command(app, action);
  cli::add_history_command(app, action);
  cli::add_cutover_command(app, action);
  cli::add_plan_command(app, action);
  cli::add_status_command(app, action);
  cli::add_abort_command(app, action);
  cli::add_promote_command(app, action);
  cli::add_undo_command(app, action);
  cli::add_maintenance_command(app, action);
  cli::add_reconcile_command(app, action);
  cli::add_restore_command(app, action);
  cli::add_serve_command(app, action);
  cli::add_submit_command(app, action);
  cli::add_agent_command(app, action);
  make_config_options_optional(app);
}

int run_cli(int argc, char** argv) {
  // A program that exits before reading its stdin (a persist `write`
  // command) must fail that command, not kill lbctl.
  std::signal(SIGPIPE, SIG_IGN);
  // Hooks, providers and checks get lbctl's environment without its secrets;
  // the programs that connect to the database for lbctl (pg_dump, psql) are
  // handed libpq's back explicitly.
  withhold_from_children({"LBCTL_STATE_DATABASE_URL", "LBCTL_MIGRATIONS_DATABASE_URL", "LBCTL_SERVE_TOKEN",
                          "PGPASSWORD", "PGPASSFILE"});
  CLI::App app{k_cli_description, "lbctl"};
  cli::Action action;
  build_cli(app, action);
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
    apply_default_config(app, std::cerr);
    return action ? action() : k_exit_usage;
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return k_exit_usage;
  }
}

}  // namespace lbctl
