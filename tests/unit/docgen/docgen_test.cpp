#include "tests/support/catch.hpp"

#include <CLI/CLI.hpp>

#include "docgen/command_tree.hpp"
#include "docgen/completion.hpp"
#include "docgen/man_page.hpp"
#include "lbctl/cli/cli.hpp"

using namespace lbctl;
using namespace lbctl::docgen;
using Catch::Contains;

namespace {

std::vector<CommandDoc> lbctl_commands() {
  CLI::App app{k_cli_description, "lbctl"};
  cli::Action action;
  build_cli(app, action);
  return command_tree(app);
}

const CommandDoc& command(const std::vector<CommandDoc>& commands, std::string_view path) {
  for (const auto& c : commands) {
    if (c.path == path) return c;
  }
  FAIL("no command " << path);
  throw;
}

}  // namespace

TEST_CASE("the command tree holds every command, nested ones and aliases, in definition order", "[docgen]") {
  const auto commands = lbctl_commands();
  REQUIRE(commands.front().path.empty());
  CHECK(commands.front().subcommands.front() == "validate");
  CHECK(command(commands, "maintenance").subcommands == std::vector<std::string>{"on", "off"});
  CHECK(command(commands, "abort").aliases == std::vector<std::string>{"rollback"});
  const auto& migrate = command(commands, "migrate");
  const auto phase = std::find_if(migrate.options.begin(), migrate.options.end(),
                                  [](const OptionDoc& o) { return o.positional == "phase"; });
  REQUIRE(phase != migrate.options.end());
  CHECK(phase->choices == std::vector<std::string>{"pre", "post"});
  for (const auto& option : migrate.options) {
    const bool is_flag = option.label.starts_with("--dry-run") || option.label.starts_with("--json");
    if (is_flag) CHECK_FALSE(option.takes_value);
    if (option.label.starts_with("-c,--config")) CHECK(option.takes_value);
  }
}

TEST_CASE("option labels are the ones --help prints", "[docgen]") {
  CLI::App app{k_cli_description, "lbctl"};
  cli::Action action;
  build_cli(app, action);
  const auto commands = command_tree(app);
  const std::string help = app.get_subcommand("cutover")->help();
  for (const auto& option : command(commands, "cutover").options) {
    CHECK_THAT(help, Contains(option.label));
    CHECK_THAT(help, Contains(option.description));
  }
}

TEST_CASE("roff text keeps backslashes, hyphens and leading dots literal", "[docgen]") {
  CHECK(roff_escape("a-b") == "a\\-b");
  CHECK(roff_escape("C:\\dir") == "C:\\edir");
  CHECK(roff_escape(".hidden\n'quoted' and .not") == "\\&.hidden\n\\&'quoted' and .not");
}

TEST_CASE("the man page has a section per command with its options and footer", "[docgen]") {
  const auto commands = lbctl_commands();
  const auto page = render_man_page(commands, "lbctl 9.9.9 (git abc)", "/usr/share/doc/lbctl/examples");
  CHECK(page.starts_with(".TH LBCTL 1 \"\" \"lbctl 9.9.9 (git abc)\" \"User Commands\"\n"));
  for (std::size_t i = 1; i < commands.size(); ++i) {
    CHECK_THAT(page, Contains(".SS \"lbctl " + roff_escape(commands[i].path) + "\"\n"));
  }
  CHECK_THAT(page, Contains(".TP\n\\fB\\-\\-no\\-backup\\fR\n"));
  CHECK_THAT(page, Contains("Also: \\fBlbctl rollback\\fR."));
  CHECK_THAT(page, Contains("LBCTL_CONFIG"));
  CHECK_THAT(page, Contains("NO_COLOR"));
  CHECK_THAT(page, Contains("/usr/share/doc/lbctl/examples/example.yaml"));
}

TEST_CASE("bash completion knows each command path, alias and the file after -c", "[docgen]") {
  const auto script = render_bash_completion(lbctl_commands());
  CHECK_THAT(script, Contains("\"maintenance on\") path=\"maintenance on\" ;;"));
  CHECK_THAT(script, Contains("\"rollback\") path=\"abort\" ;;"));
  CHECK_THAT(script, Contains("-c|--config) COMPREPLY=($(compgen -f -- \"$cur\")); return 0 ;;"));
  CHECK_THAT(script, Contains("complete -F _lbctl lbctl"));
}

TEST_CASE("zsh completion has a function per command and dispatches subcommands", "[docgen]") {
  const auto commands = lbctl_commands();
  const auto script = render_zsh_completion(commands);
  CHECK(script.starts_with("#compdef lbctl\n"));
  CHECK_THAT(script, Contains("_lbctl_maintenance_on() {"));
  CHECK_THAT(script, Contains("    abort|rollback) shift words; (( CURRENT-- )); _lbctl_abort ;;"));
  CHECK_THAT(script, Contains("'(-c --config)'{-c,--config}'["));
  CHECK_THAT(script, Contains("]:file:_files'"));
  CHECK_THAT(script, Contains("'--json[One JSON object per line]'"));
  CHECK_THAT(script, Contains("':phase:(pre post)'"));
}
