// Map files: one key of the file HAProxy loads a map from at start, written
// to match what `add map` / `set map` / `del map` did at runtime.

#include <fmt/format.h>

#include "pools/haproxy_cfg.hpp"
#include "pools/haproxy_cfg_text.hpp"

namespace lbctl::pools {

namespace {

struct MapEntry {
  std::string_view key;
  std::string_view value;
};

// One line as HAProxy 2.6's map loader reads it (pat_ref_read_from_file_smp):
// a '#' only in the first column is a comment, blanks around the key are
// skipped, the value runs to the line end (a '\r' ends it too), trailing
// blanks included. nullopt for comments and blank lines.
std::optional<MapEntry> read_map_line(std::string_view line) {
  if (!line.empty() && line.front() == '#') return std::nullopt;
  const std::size_t key_begin = line.find_first_not_of(" \t");
  if (key_begin == std::string_view::npos || line[key_begin] == '\r') return std::nullopt;
  std::size_t key_end = line.find_first_of(" \t\r", key_begin);
  if (key_end == std::string_view::npos) key_end = line.size();
  std::size_t value_begin = line.find_first_not_of(" \t", key_end);
  if (value_begin == std::string_view::npos) value_begin = line.size();
  std::size_t value_end = line.find('\r', value_begin);
  if (value_end == std::string_view::npos) value_end = line.size();
  return MapEntry{line.substr(key_begin, key_end - key_begin), line.substr(value_begin, value_end - value_begin)};
}

// Refuses what HAProxy would not read back as written.
std::optional<Error> check_entry(std::string_view key, const std::optional<std::string>& value) {
  if (key.empty() || key.front() == '#' ||
      key.find_first_of(std::string_view(" \t\r\n\0", 5)) != std::string_view::npos) {
    return Error{ErrorKind::invalid, "a map key is one word, without blanks or line ends, not starting with '#'"};
  }
  if (!value) return std::nullopt;
  if (value->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    return Error{ErrorKind::invalid, fmt::format("the value of map key `{}` must be one line", key)};
  }
  if (!value->empty() && (value->front() == ' ' || value->front() == '\t')) {
    return Error{
        ErrorKind::invalid,
        fmt::format("the value of map key `{}` starts with a blank, which HAProxy skips when it reads the file", key)};
  }
  return std::nullopt;
}

}  // namespace

Result<std::string> rewrite_map_key(std::string_view text, std::string_view key,
                                    const std::optional<std::string>& value) {
  if (const auto nul = haproxy_text::line_of_nul(text))
    return std::unexpected(haproxy_text::line_error(nul, "a NUL byte"));
  if (auto problem = check_entry(key, value)) return std::unexpected(*problem);
  const auto lines = haproxy_text::split_lines(text);
  const std::string_view eol = haproxy_text::dominant_eol(lines);
  // An empty value is the key alone: HAProxy reads that as "".
  const std::string entry = !value || value->empty() ? std::string(key) : fmt::format("{} {}", key, *value);
  haproxy_text::LineWriter writer(eol);
  bool written = false, changed = false;
  for (const auto& line : lines) {
    const auto read = read_map_line(line.content);
    if (!read || read->key != key) {
      writer.write(line.content, line.eol);
    } else if (value && !written) {
      // Kept as written when it already says so: spacing is the owner's.
      const bool same = read->value == *value;
      writer.write(same ? line.content : std::string_view(entry), line.eol);
      changed = changed || !same;
      written = true;
    } else {
      changed = true;  // a later duplicate, or every line of a removed key
    }
  }
  if (value && !written) {
    writer.write(entry, eol);
    changed = true;
  }
  if (!changed) return std::string(text);
  return std::move(writer).finish(lines);
}

std::optional<std::string> map_file_value(std::string_view text, std::string_view key) {
  for (const auto& line : haproxy_text::split_lines(text)) {
    const auto read = read_map_line(line.content);
    if (read && read->key == key) return std::string(read->value);
  }
  return std::nullopt;
}

}  // namespace lbctl::pools
