// Map files (pools/haproxy_map.cpp): the maintenance map HAProxy loads at
// start. The input is the file's text, then after its last NUL the key, a
// TAB and the value (no TAB: remove the key). The properties: the file then
// maps the key as asked, a second rewrite changes nothing, and every line of
// another key (or comment) stays, in order.

#include "pools/haproxy_cfg.hpp"
#include "tests/fuzz/fuzz.hpp"

namespace {

using namespace lbctl::pools;

// The lines that are not `key`'s, each without the '\r's that end it: where
// a line's end changes (the new last line of a file that ended without a
// newline), which '\r' belonged to the line end is a matter of reading, and
// HAProxy stops reading a line at its first '\r' anyway.
std::vector<std::string_view> other_lines(std::string_view text, std::string_view key) {
  std::vector<std::string_view> kept;
  while (!text.empty()) {
    const auto end = text.find('\n');
    auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (map_file_value(line, key)) continue;
    while (line.ends_with('\r')) line.remove_suffix(1);
    kept.push_back(line);
  }
  return kept;
}

}  // namespace

LBCTL_FUZZ_TARGET(haproxy_map) {
  const auto [text, control] = lbctl::fuzz::split_at_last_nul(input);
  const auto tab = control.find('\t');
  const std::string key(control.substr(0, tab));
  const std::optional<std::string> value =
      tab == std::string_view::npos ? std::nullopt : std::optional<std::string>(control.substr(tab + 1));

  (void)map_file_value(text, key);
  const auto rewritten = rewrite_map_key(text, key, value);
  if (!rewritten) return;
  LBCTL_FUZZ_CHECK(map_file_value(*rewritten, key) == value);
  LBCTL_FUZZ_CHECK(other_lines(text, key) == other_lines(*rewritten, key));
  const auto again = rewrite_map_key(*rewritten, key, value);
  LBCTL_FUZZ_CHECK(again.has_value() && *again == *rewritten);
}
