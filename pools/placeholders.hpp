#pragma once
// Placeholders in the argv lists users give lbctl ({name}, {port}, ...). Each
// argv element is expanded on its own and handed to posix_spawn as one
// argument, so a value holding spaces or ';' stays one argument and no shell
// ever sees it.

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace lbctl::pools {

// Key (without braces) and value, e.g. {"name", "v2-1"}.
using Placeholders = std::vector<std::pair<std::string, std::string>>;

// Replaces every "{key}" whose key is in `values`; anything else ("{}", an
// unknown "{key}", a lone brace) is kept as written. One pass: a value that
// itself reads "{name}" is not expanded again.
std::string expand_placeholders(std::string_view text, const Placeholders& values);

// expand_placeholders on each element; the result has as many elements.
// Refused (invalid) when a value that starts with '-' would start an
// element: a host, name or address from outside must never reach a program
// as an option (`ssh {host}` with host `-oProxyCommand=...`).
Result<std::vector<std::string>> expand_argv(const std::vector<std::string>& argv, const Placeholders& values);

// The first "{key}" in `argv` that looks like a placeholder (a key of
// [a-z_]) but is not one of `known`: a typo that would reach the program as
// written. Braces around anything else ("{}", "{\"a\": 1}", "{print $1}") are
// not placeholders.
struct UnknownPlaceholder {
  std::size_t index = 0;  // the argv element
  std::string key;
};
std::optional<UnknownPlaceholder> find_unknown_placeholder(const std::vector<std::string>& argv,
                                                           std::initializer_list<std::string_view> known);

// True when some element of `argv` holds "{key}".
bool uses_placeholder(const std::vector<std::string>& argv, std::string_view key);

}  // namespace lbctl::pools
