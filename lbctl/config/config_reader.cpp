#include "lbctl/config/config_reader.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <cmath>
#include <fmt/format.h>

#include "core/names.hpp"
#include "lbctl/config/config.hpp"
#include "pools/placeholders.hpp"

namespace lbctl::config_detail {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string join(std::initializer_list<std::string_view> words) {
  std::string out;
  for (auto word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

// What a bad scalar was, for "got ...": its quoted text.
std::string got(const YAML::Node& node) {
  return node.IsScalar() ? show_value(node.Scalar()) : describe(node);
}

}  // namespace

void Reader::fail(const YAML::Mark& mark, std::string_view key, std::string_view problem) const {
  // yaml-cpp counts from 0; a null mark (no position known) reads as the file's start.
  const int line = mark.is_null() ? 1 : mark.line + 1;
  const int column = mark.is_null() ? 1 : mark.column + 1;
  if (key.empty()) throw ConfigError(fmt::format("{}:{}:{}: {}", m_file, line, column, problem));
  throw ConfigError(fmt::format("{}:{}:{}: {}: {}", m_file, line, column, key, problem));
}

void Reader::fail_at(std::string_view key, std::string_view problem) const { fail(where(key), key, problem); }

YAML::Mark Reader::where(std::string_view key) const {
  std::string_view probe = key;
  while (true) {
    if (auto it = m_marks.find(probe); it != m_marks.end()) return it->second;
    const auto cut = probe.find_last_of(".[");
    if (cut == std::string_view::npos) break;
    probe = probe.substr(0, cut);
  }
  if (auto it = m_marks.find(std::string_view{}); it != m_marks.end()) return it->second;
  return YAML::Mark::null_mark();
}

Section::Section(Reader& reader, const Value& value) : m_reader(reader), m_self(value) {
  if (!value.node.IsMap()) {
    reader.fail(value, fmt::format("expected a map of keys, got {}", describe(value.node)));
  }
  for (const auto& pair : value.node) {
    // Copies: yaml-cpp's iterator hands out a temporary proxy.
    const YAML::Node key_node = pair.first;
    const YAML::Node child = pair.second;
    if (!key_node.IsScalar()) reader.fail(key_node.Mark(), value.key, "a key must be text");
    const std::string key = key_node.Scalar();
    if (const Entry* earlier = find_entry(key)) {
      reader.fail(key_node.Mark(), child_key(key), fmt::format("given twice (first on line {})", earlier->key_mark.line + 1));
    }
    // A key with nothing after it has no position of its own: point at the key.
    const YAML::Mark mark = child.IsNull() ? key_node.Mark() : child.Mark();
    m_entries.push_back(Entry{key, Value{child, mark, child_key(key)}, key_node.Mark()});
    reader.remember(child_key(key), mark);
  }
}

void Section::allow(std::initializer_list<std::string_view> allowed, std::string_view what) const {
  for (const Entry& entry : m_entries) {
    const std::string& key = entry.name;
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string_view closest;
    std::size_t best = 3;
    for (auto candidate : allowed) {
      const std::size_t distance = edit_distance(key, candidate);
      if (distance < best) best = distance, closest = candidate;
    }
    const std::string shown = is_valid_name(key) ? key : show_value(key);
    std::string problem = what.empty() ? std::string("unknown key") : fmt::format("not a key of {}", what);
    if (!closest.empty()) problem += fmt::format("; did you mean {}?", closest);
    problem += fmt::format(" (expected one of: {})", join(allowed));
    m_reader.fail(entry.key_mark, m_self.key.empty() ? shown : m_self.key + "." + shown, problem);
  }
}

const Section::Entry* Section::find_entry(std::string_view key) const {
  for (const Entry& entry : m_entries) {
    if (entry.name == key) return &entry;
  }
  return nullptr;
}

std::optional<Value> Section::get(std::string_view key) const {
  const Entry* entry = find_entry(key);
  if (!entry || entry->value.node.IsNull()) return std::nullopt;
  return entry->value;
}

Value Section::require(std::string_view key, std::string_view expected) const {
  if (const Entry* entry = find_entry(key)) return entry->value;
  missing(key, expected);
}

void Section::missing(std::string_view key, std::string_view expected) const {
  m_reader.fail(m_self.mark, child_key(key), fmt::format("missing; expected {}", expected));
}

std::string Section::child_key(std::string_view key) const {
  return m_self.key.empty() ? std::string(key) : m_self.key + "." + std::string(key);
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: return "text";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    default: return "nothing";
  }
}

std::string show_value(std::string_view text) {
  constexpr std::size_t k_max_shown = 60;
  std::string out = "\"";
  std::size_t shown = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    // Never cut a UTF-8 sequence in two.
    if (shown >= k_max_shown && (c & 0xC0) != 0x80) {
      out += "...";
      break;
    }
    ++shown;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string text(Reader& reader, const Value& value) {
  if (!value.node.IsScalar()) reader.fail(value, fmt::format("expected text, got {}", describe(value.node)));
  return value.node.Scalar();
}

std::string nonempty_text(Reader& reader, const Value& value) {
  std::string result = text(reader, value);
  if (result.empty()) reader.fail(value, "must not be empty");
  return result;
}

std::string secret_text(Reader& reader, const Value& value) {
  if (!value.node.IsScalar()) {
    reader.fail(value, fmt::format("expected a connection string, got {}", describe(value.node)));
  }
  if (value.node.Scalar().empty()) reader.fail(value, "must not be empty");
  return value.node.Scalar();
}

std::string name(Reader& reader, const Value& value) {
  if (!value.node.IsScalar()) {
    reader.fail(value, fmt::format("expected a name of 1-64 characters from [A-Za-z0-9._-], got {}",
                                   describe(value.node)));
  }
  const std::string result = value.node.Scalar();
  if (!is_valid_name(result)) {
    reader.fail(value, fmt::format("{} is not a valid name; expected 1-64 characters from [A-Za-z0-9._-]{}",
                                   show_value(result), result.starts_with('-') ? ", the first not '-'" : ""));
  }
  return result;
}

long long integer(Reader& reader, const Value& value, long long min, long long max) {
  const std::string range = max >= std::numeric_limits<int>::max() ? fmt::format("an integer >= {}", min)
                                                                    : fmt::format("an integer {}-{}", min, max);
  if (!value.node.IsScalar()) reader.fail(value, fmt::format("expected {}, got {}", range, describe(value.node)));
  const std::string& scalar = value.node.Scalar();
  long long result = 0;
  const auto [end, ec] = std::from_chars(scalar.data(), scalar.data() + scalar.size(), result);
  if (scalar.empty() || ec != std::errc() || end != scalar.data() + scalar.size()) {
    reader.fail(value, fmt::format("expected {}, got {}", range, show_value(scalar)));
  }
  if (result < min || result > max) reader.fail(value, fmt::format("{} is out of range; expected {}", result, range));
  return result;
}

double number(Reader& reader, const Value& value, double min, double max) {
  const std::string range = fmt::format("a number from {} to {}", min, max);
  if (!value.node.IsScalar()) reader.fail(value, fmt::format("expected {}, got {}", range, describe(value.node)));
  const std::string& scalar = value.node.Scalar();
  double result = 0;
  const auto [end, ec] = std::from_chars(scalar.data(), scalar.data() + scalar.size(), result);
  if (scalar.empty() || ec != std::errc() || end != scalar.data() + scalar.size() || !std::isfinite(result)) {
    reader.fail(value, fmt::format("expected {}, got {}", range, show_value(scalar)));
  }
  if (result < min || result > max) reader.fail(value, fmt::format("{} is out of range; expected {}", scalar, range));
  return result;
}

bool boolean(Reader& reader, const Value& value) {
  if (value.node.IsScalar()) {
    const std::string& scalar = value.node.Scalar();
    if (scalar == "true" || scalar == "True" || scalar == "TRUE") return true;
    if (scalar == "false" || scalar == "False" || scalar == "FALSE") return false;
  }
  reader.fail(value, fmt::format("expected true or false, got {}", got(value.node)));
}

Duration duration(Reader& reader, const Value& value, bool allow_zero) {
  constexpr std::string_view expected = "a duration like 100ms, 2s, 5m or 1h";
  if (!value.node.IsScalar()) reader.fail(value, fmt::format("expected {}, got {}", expected, describe(value.node)));
  const std::string& scalar = value.node.Scalar();
  const auto result = parse_duration(scalar);
  if (!result) {
    const bool bare_number = !scalar.empty() && scalar.find_first_not_of("0123456789") == std::string::npos;
    reader.fail(value, fmt::format("expected {}, got {}{}", expected, show_value(scalar),
                                   bare_number ? " (a number needs a unit: ms, s, m or h)" : ""));
  }
  if (!allow_zero && result->count() == 0) reader.fail(value, fmt::format("must be more than 0; expected {}", expected));
  return *result;
}

std::vector<std::string> argv(Reader& reader, const Value& value) {
  constexpr std::string_view expected = "a list of text: a program and its arguments, like [\"prog\", \"--flag\"]";
  if (!value.node.IsSequence()) reader.fail(value, fmt::format("expected {}, got {}", expected, describe(value.node)));
  std::vector<std::string> result;
  for (const Value& item : list(reader, value)) {
    if (!item.node.IsScalar()) reader.fail(item, fmt::format("expected text, got {}", describe(item.node)));
    result.push_back(item.node.Scalar());
  }
  if (result.empty()) reader.fail(value, fmt::format("must not be empty; expected {}", expected));
  if (result.front().empty()) reader.fail(value, "the program (first item) must not be empty");
  return result;
}

std::vector<std::string> argv(Reader& reader, const Value& value,
                              std::initializer_list<std::string_view> placeholders) {
  auto result = argv(reader, value);
  if (const auto unknown = pools::find_unknown_placeholder(result, placeholders)) {
    std::vector<std::string> known;
    for (const auto& key : placeholders) known.push_back("{" + std::string(key) + "}");
    reader.fail(list(reader, value).at(unknown->index),
                fmt::format("unknown placeholder {{{}}}; expected {}", unknown->key,
                            known.empty() ? std::string("none here") : fmt::format("one of {}", fmt::join(known, " "))));
  }
  return result;
}

std::vector<Value> list(Reader& reader, const Value& value) {
  if (!value.node.IsSequence()) reader.fail(value, fmt::format("expected a list, got {}", describe(value.node)));
  std::vector<Value> items;
  std::size_t index = 0;
  for (const YAML::Node& item : value.node) {
    // An empty item ("- " alone) has no position of its own: point at the list.
    const YAML::Mark mark = item.IsNull() ? value.mark : item.Mark();
    items.push_back(Value{item, mark, fmt::format("{}[{}]", value.key, index++)});
    reader.remember(items.back().key, mark);
  }
  return items;
}

}  // namespace lbctl::config_detail
