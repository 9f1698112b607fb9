#pragma once
// lbctl's commands and options as the renderers need them, read from the
// CLI11 definitions with CLI11's own formatter, so each piece of text is the
// one --help prints.

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace lbctl::docgen {

struct OptionDoc {
  std::vector<std::string> flags;  // "-c", "--config"; empty for a positional
  std::string positional;          // "phase"
  std::string label;               // as --help shows it: "-c,--config TEXT"
  std::string description;
  bool takes_value = false;
  std::vector<std::string> choices;  // a positional's allowed values ({pre,post})
};

struct CommandDoc {
  std::string path;                  // "maintenance on"
  std::vector<std::string> aliases;  // "rollback"
  std::string description;
  std::string usage;   // "lbctl maintenance on [OPTIONS]"
  std::string footer;  // the text below the options in --help
  std::vector<OptionDoc> options;
  std::vector<std::string> subcommands;  // names of the commands below this one
};

// The top level first, then every command depth-first, in definition order.
std::vector<CommandDoc> command_tree(const CLI::App& root);

}  // namespace lbctl::docgen
