#pragma once
// lbctl(1): one page, every command, from the same definitions --help prints.

#include <string>
#include <vector>

#include "docgen/command_tree.hpp"

namespace lbctl::docgen {

// `commands` as command_tree returns them (the top level first); `version`
// goes in the page's footer ("lbctl 0.1.0 (git ...)"); `examples_dir` is
// where the example configs are installed.
std::string render_man_page(const std::vector<CommandDoc>& commands, const std::string& version,
                            const std::string& examples_dir);

// Text as roff reads it literally: backslashes and hyphens escaped, a
// leading '.' or '\'' kept from being read as a request.
std::string roff_escape(const std::string& text);

}  // namespace lbctl::docgen
