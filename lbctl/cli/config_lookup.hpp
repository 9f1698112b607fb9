#pragma once
// Which config file a command reads when -c is not given: $LBCTL_CONFIG,
// then ./lbctl.yaml (as Kamal looks for config/deploy.yml). Every command's
// -c goes through here, so the rule and its wording live in one place.

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace lbctl {

inline constexpr const char* k_config_env = "LBCTL_CONFIG";
inline constexpr const char* k_config_default_file = "lbctl.yaml";

struct ConfigChoice {
  std::filesystem::path path;
  std::string why;  // "from LBCTL_CONFIG", "found in the current folder"
};

// The file to use without -c: `env_value` (LBCTL_CONFIG's value, nullptr or
// empty when unset) even if it names no file, so the error says what the
// variable held; else lbctl.yaml in `folder` when it exists; else nullopt.
std::optional<ConfigChoice> choose_default_config(const char* env_value, const std::filesystem::path& folder);

// Before parsing: every command's -c/--config becomes optional, and its help
// says where the file comes from instead.
void make_config_options_optional(CLI::App& app);

// After parsing: when the chosen command's -c was not given, sets it to the
// default config and says which file on `err` (stdout stays the command's,
// e.g. its JSON). Throws ConfigError when there is none.
void apply_default_config(CLI::App& app, std::ostream& err);

// For commands that take a service per -c (agent, serve): a -c that names a
// folder stands for its *.yaml and *.yml files, sorted (how /etc/lbctl/
// services/ is given to a systemd unit). Throws ConfigError for a folder
// with none.
std::vector<std::string> expand_config_folders(const std::vector<std::string>& given);

}  // namespace lbctl
