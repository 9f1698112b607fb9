#pragma once
// Shell completion for lbctl's commands, subcommands, options and the
// values some of them take (a file after -c, pre/post after migrate),
// written from the same definitions --help prints.

#include <string>
#include <vector>

#include "docgen/command_tree.hpp"

namespace lbctl::docgen {

// A bash script for /usr/share/bash-completion/completions/lbctl; it needs
// nothing from the bash-completion package.
std::string render_bash_completion(const std::vector<CommandDoc>& commands);

// A zsh `#compdef lbctl` function file, _lbctl.
std::string render_zsh_completion(const std::vector<CommandDoc>& commands);

}  // namespace lbctl::docgen
