#pragma once
// Where a command's events go: JSON lines with --json, a live display on a
// terminal, plain lines when piped.

#include <iosfwd>
#include <memory>

#include "lbctl/events.hpp"

namespace lbctl {

std::unique_ptr<EventSink> make_output_sink(bool json, std::ostream& out);

// Asks on the terminal; true for "y" or "yes".
bool confirm(const std::string& question);

// True when both stdin and stdout are terminals.
bool interactive();

}  // namespace lbctl
