#pragma once
// Reading HAProxy's answers. lbctl turns on `set severity-output number`, so
// feedback lines start with "[N]: " and N <= 3 is an error; a few errors come
// without a level ("Unknown command", "Permission denied").

#include <optional>
#include <string>
#include <string_view>

namespace lbctl::pools {

// HAProxy's error text, as it wrote it minus the "[N]: " prefix, when the
// answer is an error; nullopt otherwise.
std::optional<std::string> answer_error(std::string_view answer);
// True when the answer says the server is not there ("No such server."):
// for a command whose aim is that it be gone, that aim is met.
bool says_no_such_server(std::string_view answer);

// The answer without "[N]: " prefixes and trailing newlines.
std::string answer_text(std::string_view answer);

// `del server` refused because sessions remain (HAProxy issue 2323): retry.
bool is_still_connected(std::string_view answer);

}  // namespace lbctl::pools
