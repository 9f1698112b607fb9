#pragma once
// The command line: `lbctl <command> -c CONFIG [--json] ...`.

#include <functional>

namespace CLI {
class App;
}

namespace lbctl {

// Parses argv, runs the chosen command, returns the process exit code.
int run_cli(int argc, char** argv);

namespace cli {

// Each command adds its subcommand to `app`; when chosen, its callback stores
// the work to run in `action`, which returns the exit code.
using Action = std::function<int()>;

}  // namespace cli

inline constexpr const char* k_cli_description = "lbctl: blue-green cutovers for application servers behind HAProxy";

// Every command, option and help text of `app` (constructed with
// k_cli_description): run_cli parses with it, and docgen/ writes the man page
// and shell completions from it, so --help and those never disagree.
void build_cli(CLI::App& app, cli::Action& action);

namespace cli {

// One per command, each defined in lbctl/cmd_<name>.cpp.
void add_validate_command(CLI::App& app, Action& action);
void add_servers_command(CLI::App& app, Action& action);
void add_check_command(CLI::App& app, Action& action);
void add_migrate_command(CLI::App& app, Action& action);
void add_migrate_history_commands(CLI::App& migrate, Action& action);  // migrate baseline, migrate repair
void add_history_command(CLI::App& app, Action& action);
void add_cutover_command(CLI::App& app, Action& action);  // cutover and resume
void add_plan_command(CLI::App& app, Action& action);
void add_status_command(CLI::App& app, Action& action);
void add_abort_command(CLI::App& app, Action& action);
void add_promote_command(CLI::App& app, Action& action);  // cmd_promote.cpp
void add_undo_command(CLI::App& app, Action& action);     // cmd_promote.cpp
void add_maintenance_command(CLI::App& app, Action& action);
void add_reconcile_command(CLI::App& app, Action& action);
void add_restore_command(CLI::App& app, Action& action);
void add_serve_command(CLI::App& app, Action& action);
void add_agent_command(CLI::App& app, Action& action);
void add_submit_command(CLI::App& app, Action& action);

}  // namespace cli
}  // namespace lbctl
