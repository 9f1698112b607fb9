#pragma once
// `new_pool.server_options` reaches HAProxy inside `add server`: every
// keyword is checked against an allow-list, and every value against a
// conservative alphabet, before any byte is sent.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lbctl::pools {

struct ServerOptions {
  std::vector<std::string> tokens;  // as they go on the `add server` line
  bool check = false;               // `check` is present
  std::optional<int> inter_ms;      // `inter`, when given
  std::optional<int> rise;
  std::optional<int> fall;
};

// Parses and checks `text`; on failure returns the problem in words
// ("'enabled' is not allowed: ..."), never echoing anything unprintable.
std::optional<ServerOptions> parse_server_options(std::string_view text, std::string* problem);

}  // namespace lbctl::pools
