#include "lbctl/cli/config_lookup.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>
#include <ostream>

#include "lbctl/config/config.hpp"

namespace lbctl {

namespace {

constexpr const char* k_config_option = "--config";

// The deepest command chosen on the command line ("maintenance on").
CLI::App* chosen_command(CLI::App& app) {
  CLI::App* command = &app;
  for (;;) {
    const auto chosen = command->get_subcommands();
    if (chosen.empty()) return command;
    command = chosen.front();
  }
}

void relax(CLI::App& command) {
  if (auto* option = command.get_option_no_throw(k_config_option)) {
    option->required(false);
    option->description(fmt::format("{}; without -c: ${}, then ./{}", option->get_description(), k_config_env,
                                    k_config_default_file));
  }
  for (auto* sub : command.get_subcommands([](CLI::App*) { return true; })) relax(*sub);
}

}  // namespace

std::optional<ConfigChoice> choose_default_config(const char* env_value, const std::filesystem::path& folder) {
  if (env_value != nullptr && *env_value != '\0') {
    return ConfigChoice{env_value, fmt::format("from {}", k_config_env)};
  }
  std::error_code ec;
  const auto local = folder / k_config_default_file;
  if (std::filesystem::is_regular_file(local, ec)) {
    return ConfigChoice{std::filesystem::path(".") / k_config_default_file, "found in the current folder"};
  }
  return std::nullopt;
}

void make_config_options_optional(CLI::App& app) { relax(app); }

void apply_default_config(CLI::App& app, std::ostream& err) {
  CLI::App* command = chosen_command(app);
  auto* option = command->get_option_no_throw(k_config_option);
  if (option == nullptr || option->count() > 0) return;
  std::error_code ec;
  const auto choice = choose_default_config(std::getenv(k_config_env), std::filesystem::current_path(ec));
  if (!choice) {
    throw ConfigError(fmt::format("lbctl {}: no config file: give -c FILE, set {}, or put {} in the current folder",
                                  command->get_name(), k_config_env, k_config_default_file));
  }
  err << fmt::format("lbctl: using config {} ({})\n", choice->path.string(), choice->why);
  option->add_result(choice->path.string());
  option->run_callback();
}

}  // namespace lbctl

namespace lbctl {

std::vector<std::string> expand_config_folders(const std::vector<std::string>& given) {
  std::vector<std::string> files;
  for (const auto& entry : given) {
    std::error_code ec;
    if (!std::filesystem::is_directory(entry, ec)) {
      files.push_back(entry);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& file : std::filesystem::directory_iterator(entry, ec)) {
      const auto extension = file.path().extension();
      if ((extension == ".yaml" || extension == ".yml") && file.is_regular_file(ec)) found.push_back(file.path().string());
    }
    if (ec) throw ConfigError(fmt::format("{}: cannot list the folder: {}", entry, ec.message()));
    if (found.empty()) throw ConfigError(fmt::format("{}: a folder with no *.yaml or *.yml config in it", entry));
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

}  // namespace lbctl
