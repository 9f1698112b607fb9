#pragma once
// What an exec provider's clone command prints: one JSON object per line and
// server, {"name": "v2-1", "address": "10.0.0.21:8080"}. The names and
// addresses reach HAProxy's runtime API later, so they are checked here,
// where the user's program hands them over.

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "pools/server.hpp"

namespace lbctl::pools {

// Returns the servers named in `wanted`, in that order. Blank lines are
// skipped. Fails (invalid, the message naming the line) on a line that is not
// such an object, a name that is_valid_name refuses or that was not asked
// for, an address parse_address refuses, a name given twice with different
// addresses, or a name asked for that does not come back.
Result<std::vector<Server>> parse_clone_output(std::string_view out, const std::vector<std::string>& wanted);

// `text` as a short JSON string literal for messages: control characters
// escaped, cut after `max` bytes, so a hostile value cannot forge log lines.
std::string quote_for_message(std::string_view text, std::size_t max = 80);

}  // namespace lbctl::pools
