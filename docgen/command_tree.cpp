#include "docgen/command_tree.hpp"

#include <CLI/CLI.hpp>

namespace lbctl::docgen {

namespace {

// "TEXT:{pre,post}" -> {"pre", "post"}: what CLI11's IsMember check adds to
// the type name.
std::vector<std::string> choices_in(const std::string& type_name) {
  const auto open = type_name.find('{');
  const auto close = type_name.find('}', open);
  if (open == std::string::npos || close == std::string::npos) return {};
  std::vector<std::string> choices;
  std::string current;
  for (const char c : type_name.substr(open + 1, close - open - 1)) {
    if (c == ',') {
      choices.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  choices.push_back(current);
  return choices;
}

OptionDoc option_doc(const CLI::Formatter& formatter, const CLI::Option& option) {
  OptionDoc doc;
  for (const auto& name : option.get_snames()) doc.flags.push_back("-" + name);
  for (const auto& name : option.get_lnames()) doc.flags.push_back("--" + name);
  if (doc.flags.empty()) {
    doc.positional = option.get_name(true, false);
    doc.label = formatter.make_option_usage(&option);
    doc.choices = choices_in(option.get_type_name());
  } else {
    doc.label = formatter.make_option_name(&option, false) + formatter.make_option_opts(&option);
  }
  doc.description = formatter.make_option_desc(&option);
  // A flag expects no items; get_type_size() is 1 for flags too.
  doc.takes_value = option.get_items_expected_max() != 0;
  return doc;
}

void add_command(const CLI::Formatter& formatter, const CLI::App& app, const std::string& path,
                 std::vector<CommandDoc>& out) {
  CommandDoc doc;
  doc.path = path;
  doc.aliases = app.get_aliases();
  doc.description = app.get_description();
  doc.usage = formatter.make_usage(&app, path.empty() ? app.get_name() : "lbctl " + path);
  while (!doc.usage.empty() && doc.usage.back() == '\n') doc.usage.pop_back();
  doc.footer = app.get_footer();
  for (const auto* option : app.get_options()) doc.options.push_back(option_doc(formatter, *option));
  const auto subcommands = app.get_subcommands([](const CLI::App* sub) { return !sub->get_name().empty(); });
  for (const auto* sub : subcommands) doc.subcommands.push_back(sub->get_name());
  out.push_back(std::move(doc));
  for (const auto* sub : subcommands) {
    add_command(formatter, *sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
  }
}

}  // namespace

std::vector<CommandDoc> command_tree(const CLI::App& root) {
  const CLI::Formatter formatter;
  std::vector<CommandDoc> commands;
  add_command(formatter, root, "", commands);
  return commands;
}

}  // namespace lbctl::docgen
