#pragma once
// `new_pool.server_options` reaches HAProxy inside `add server`: every
// keyword is checked against an allow-list, and every value against a
// conservative alphabet, before any byte is sent.

#include <chrono>
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

  // HAProxy's values when the options leave them out (2 s, 2, 3).
  std::chrono::milliseconds inter() const { return std::chrono::milliseconds(inter_ms.value_or(2000)); }
  int rise_count() const { return rise.value_or(2); }
  int fall_count() const { return fall.value_or(3); }
  // The options as text, as they go on a line ("check inter 1s rise 2").
  std::string text() const;
};

// A persistence cookie value lbctl may send (`cookie VALUE` on `add
// server`): 1 to 64 of [A-Za-z0-9._-], a cookie value in HTTP and one word on
// a HAProxy line.
bool is_cookie_value(std::string_view value);

// A server line's options as lbctl wrote them ("check inter 1s ... cookie
// v2-1"), apart: what parse_server_options takes, and the cookie (the value
// after the last `cookie`; "" without). Nothing is checked here.
struct LineOptions {
  std::string options;
  std::string cookie;
};
LineOptions split_line_cookie(std::string_view text);

// How often to read HAProxy while waiting on its checks: a quarter of the
// check interval, between 50 ms and 500 ms (a check result changes no
// faster, and a thousand servers' stats are not read more than twice a second).
std::chrono::milliseconds check_poll(std::chrono::milliseconds inter);

// Parses and checks `text`; on failure returns the problem in words
// ("'enabled' is not allowed: ..."), never echoing anything unprintable.
std::optional<ServerOptions> parse_server_options(std::string_view text, std::string* problem);

}  // namespace lbctl::pools
