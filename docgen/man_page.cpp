#include "docgen/man_page.hpp"

#include <fmt/format.h>

#include "lbctl/cli/config_lookup.hpp"

namespace lbctl::docgen {

namespace {

// --help footers are wrapped for an 80-column terminal; man fills its own
// lines, so the text becomes one paragraph (a line per sentence group would
// leave ragged short lines on a wide terminal).
std::string paragraph(const std::string& text) {
  std::string out;
  for (const char c : text) out += c == '\n' ? ' ' : c;
  return roff_escape(out);
}

// `with_help`: the top level lists -h,--help; every command has it too, and
// saying so under each would only repeat it.
void options_section(std::string& page, const CommandDoc& command, bool with_help) {
  for (const auto& option : command.options) {
    if (!with_help && option.label.find("--help") != std::string::npos) continue;
    page += fmt::format(".TP\n\\fB{}\\fR\n{}\n", roff_escape(option.label), paragraph(option.description));
  }
}

std::string without_program_prefix(const std::string& description) {
  const std::string prefix = "lbctl: ";
  return description.starts_with(prefix) ? description.substr(prefix.size()) : description;
}

}  // namespace

std::string roff_escape(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (const char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
    line_start = c == '\n';
  }
  return out;
}

std::string render_man_page(const std::vector<CommandDoc>& commands, const std::string& version,
                            const std::string& examples_dir) {
  const CommandDoc& top = commands.front();
  std::string page = fmt::format(".TH LBCTL 1 \"\" \"{}\" \"User Commands\"\n", roff_escape(version));
  // Paths, flags and config keys read badly when hyphenated or stretched.
  page += ".nh\n.ad l\n";
  page += fmt::format(".SH NAME\nlbctl \\- {}\n", roff_escape(without_program_prefix(top.description)));
  page += ".SH SYNOPSIS\n.B lbctl\n.I COMMAND\n.RI [ OPTIONS ]\n";
  page += fmt::format(".SH DESCRIPTION\n{}\n", paragraph(top.footer));
  page += ".SH OPTIONS\n";
  options_section(page, top, true);
  page += ".SH COMMANDS\n";
  for (std::size_t i = 1; i < commands.size(); ++i) {
    const auto& command = commands[i];
    page += fmt::format(".SS \"lbctl {}\"\n{}\n", roff_escape(command.path), paragraph(command.description));
    for (const auto& alias : command.aliases) page += fmt::format("Also: \\fBlbctl {}\\fR.\n", roff_escape(alias));
    page += fmt::format(".PP\n{}\n", roff_escape(command.usage));
    options_section(page, command, false);
    // A command without a footer of its own shows its parent's in --help:
    // the top level's is on the page once, under DESCRIPTION.
    if (!command.footer.empty() && command.footer != top.footer) {
      page += fmt::format(".PP\n{}\n", paragraph(command.footer));
    }
  }
  page += fmt::format(
      ".SH ENVIRONMENT\n"
      ".TP\n.B {0}\nThe config file of a command run without \\fB\\-c\\fR; then \\fB./{1}\\fR. "
      "lbctl says on standard error which file it used.\n"
      ".TP\n.B NO_COLOR\nWhen set and not empty, no colour or other text attributes; "
      "output that is not a terminal never has them.\n"
      ".TP\n.B LBCTL_STATE_DATABASE_URL\\fR, \\fBLBCTL_MIGRATIONS_DATABASE_URL\n"
      "The databases' URLs, in place of the config's; never printed, and not passed on to hooks, providers or "
      "the backup command.\n",
      k_config_env, k_config_default_file);
  page += fmt::format(
      ".SH FILES\n.TP\n.I {0}/example.yaml\nEvery config key, commented.\n"
      ".TP\n.I {0}/haproxy.cfg\nA reference HAProxy configuration for a backend lbctl manages.\n",
      roff_escape(examples_dir));
  page += ".SH SEE ALSO\n.BR haproxy (1)\n";
  return page;
}

}  // namespace lbctl::docgen
