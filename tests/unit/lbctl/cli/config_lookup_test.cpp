#include "tests/support/catch.hpp"

#include <CLI/CLI.hpp>
#include <sstream>

#include "lbctl/cli/cli.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cli/config_lookup.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/lbctl/config/config_test_support.hpp"

using namespace lbctl;
using namespace lbctl::test;

namespace {

// lbctl's real command line, parsed: the chosen command's --config after
// apply_default_config, and what it said on stderr.
struct Parsed {
  std::string config;
  std::string said;
};

Parsed parse(std::vector<std::string> args) {
  CLI::App app{k_cli_description, "lbctl"};
  cli::Action action;
  build_cli(app, action);
  std::vector<const char*> argv = {"lbctl"};
  for (const auto& arg : args) argv.push_back(arg.c_str());
  app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
  std::ostringstream err;
  apply_default_config(app, err);
  CLI::App* command = &app;
  while (!command->get_subcommands().empty()) command = command->get_subcommands().front();
  return {command->get_option("--config")->as<std::string>(), err.str()};
}

}  // namespace

TEST_CASE("LBCTL_CONFIG names the config even when the file is missing, so the error names it", "[config_lookup]") {
  TempDir folder;
  folder.write("lbctl.yaml", "service: here\n");
  const auto choice = choose_default_config("/etc/lbctl/shop.yaml", folder.path());
  REQUIRE(choice);
  CHECK(choice->path == "/etc/lbctl/shop.yaml");
  CHECK(choice->why == "from LBCTL_CONFIG");
}

TEST_CASE("without LBCTL_CONFIG, lbctl.yaml in the folder is the config", "[config_lookup]") {
  TempDir folder;
  folder.write("lbctl.yaml", "service: here\n");
  for (const char* unset : {static_cast<const char*>(nullptr), ""}) {
    const auto choice = choose_default_config(unset, folder.path());
    REQUIRE(choice);
    CHECK(choice->path == "./lbctl.yaml");
    CHECK(choice->why == "found in the current folder");
  }
}

TEST_CASE("with neither, there is no default config", "[config_lookup]") {
  TempDir folder;
  folder.write("lbctl.yml", "service: not this spelling\n");
  CHECK_FALSE(choose_default_config(nullptr, folder.path()));
}

TEST_CASE("every command's -c is optional and its help names the fallbacks", "[config_lookup]") {
  CLI::App app{k_cli_description, "lbctl"};
  cli::Action action;
  build_cli(app, action);
  int commands_with_config = 0;
  std::vector<CLI::App*> todo = app.get_subcommands([](CLI::App*) { return true; });
  while (!todo.empty()) {
    CLI::App* command = todo.back();
    todo.pop_back();
    for (auto* sub : command->get_subcommands([](CLI::App*) { return true; })) todo.push_back(sub);
    auto* option = command->get_option_no_throw("--config");
    if (option == nullptr) continue;
    ++commands_with_config;
    CHECK_FALSE(option->get_required());
    CHECK_THAT(option->get_description(), Catch::Contains("$LBCTL_CONFIG, then ./lbctl.yaml"));
  }
  CHECK(commands_with_config >= 12);
}

TEST_CASE("a command without -c takes LBCTL_CONFIG and says so on stderr", "[config_lookup]") {
  ScopedEnv env{"LBCTL_CONFIG", std::string("/srv/shop.yaml")};
  const auto parsed = parse({"validate", "--json"});
  CHECK(parsed.config == "/srv/shop.yaml");
  CHECK(parsed.said == "lbctl: using config /srv/shop.yaml (from LBCTL_CONFIG)\n");
}

TEST_CASE("a nested command without -c takes the default config too", "[config_lookup]") {
  ScopedEnv env{"LBCTL_CONFIG", std::string("/srv/shop.yaml")};
  CHECK(parse({"maintenance", "on", "--message", "back soon"}).config == "/srv/shop.yaml");
}

TEST_CASE("a given -c wins over LBCTL_CONFIG and nothing is said", "[config_lookup]") {
  ScopedEnv env{"LBCTL_CONFIG", std::string("/srv/shop.yaml")};
  const auto parsed = parse({"plan", "-c", "mine.yaml"});
  CHECK(parsed.config == "mine.yaml");
  CHECK(parsed.said.empty());
}

TEST_CASE("no -c, no LBCTL_CONFIG and no ./lbctl.yaml is a config error naming all three", "[config_lookup]") {
  ScopedEnv env{"LBCTL_CONFIG", std::nullopt};
  TempDir folder;
  const auto old = std::filesystem::current_path();
  std::filesystem::current_path(folder.path());
  std::string message;
  try {
    parse({"status"});
  } catch (const ConfigError& e) {
    message = e.what();
  }
  std::filesystem::current_path(old);
  CHECK(message == "lbctl status: no config file: give -c FILE, set LBCTL_CONFIG, or put lbctl.yaml in the current folder");
}
