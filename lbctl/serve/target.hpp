#pragma once
// A request's target as serve reads it: "/a/b?x=1&y=2" -> the path "/a/b"
// and the query's pairs, percent-decoded ('+' is a space in the query).
// Parsed once per request.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lbctl::serve {

struct Target {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  // The first value of `key` in the query; nullopt when absent.
  std::optional<std::string> param(std::string_view key) const;
};

// nullopt: not an origin-form target (no leading '/'), or a bad escape.
std::optional<Target> parse_target(std::string_view target);

// A whole non-negative number ("12"), as ids and limits in a query are.
std::optional<std::int64_t> query_number(std::string_view text);

}  // namespace lbctl::serve
