#pragma once
// Names of backends, servers and load balancers reach HAProxy's runtime API,
// where ';' separates commands and '\' escapes: a name is only ever one of
// [A-Za-z0-9._-]{1,64}, checked before any byte is sent, and never starts
// with '-' (where a name reaches a program's argv it must not read as an option).

#include <string_view>

namespace lbctl {

inline constexpr std::size_t k_max_name_length = 64;

// True when `name` is 1-64 characters from [A-Za-z0-9._-], the first not '-'.
bool is_valid_name(std::string_view name);

// True when `prefix` may start a name: the same alphabet, 0-64 characters
// (empty is allowed only where the caller says so).
bool is_valid_name_chars(std::string_view text);

}  // namespace lbctl
