#pragma once
// How load_config walks the YAML tree: every value goes through these helpers,
// so every error carries FILE:LINE:COLUMN and the dotted key, and no value is
// read without its type and range being checked.

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/duration.hpp"

namespace lbctl::config_detail {

// One value in the file: its node, where it is, and its dotted key
// ("load_balancers[1].runtime_api"; "" for the whole document).
struct Value {
  YAML::Node node;
  YAML::Mark mark;
  std::string key;
};

// Builds the errors, and remembers where each key was so that checks spanning
// several sections can point at the right line.
class Reader {
 public:
  explicit Reader(std::string file) : m_file(std::move(file)) {}

  // Throws ConfigError "FILE:LINE:COLUMN: KEY: PROBLEM" (no "KEY: " when key is empty).
  [[noreturn]] void fail(const YAML::Mark& mark, std::string_view key, std::string_view problem) const;
  [[noreturn]] void fail(const Value& value, std::string_view problem) const {
    fail(value.mark, value.key, problem);
  }
  // Fails at the remembered position of `key` (or of its nearest remembered parent).
  [[noreturn]] void fail_at(std::string_view key, std::string_view problem) const;

  void remember(const std::string& key, const YAML::Mark& mark) { m_marks.emplace(key, mark); }
  YAML::Mark where(std::string_view key) const;

 private:
  std::string m_file;
  std::map<std::string, YAML::Mark, std::less<>> m_marks;
};

// A map in the file. Constructing it fails unless the value is a map, and on
// a key given twice.
class Section {
 public:
  Section(Reader& reader, const Value& value);

  // Fails on the first key not in `allowed`, naming the closest allowed one;
  // `what` qualifies the message ("a local provider").
  void allow(std::initializer_list<std::string_view> allowed, std::string_view what = {}) const;

  // A key given without a value ("key:" or "key: ~") counts as left out.
  bool has(std::string_view key) const { return get(key).has_value(); }
  std::optional<Value> get(std::string_view key) const;
  // Fails "missing" at this map's position when the key is absent; a key
  // without a value fails as the conversion sees it ("expected X, got nothing").
  Value require(std::string_view key, std::string_view expected) const;
  [[noreturn]] void missing(std::string_view key, std::string_view expected) const;

  const Value& self() const { return m_self; }
  std::string child_key(std::string_view key) const;

 private:

  struct Entry {
    std::string name;
    Value value;
    YAML::Mark key_mark;
  };
  const Entry* find_entry(std::string_view key) const;

  Reader& m_reader;
  Value m_self;
  std::vector<Entry> m_entries;
};

// "text", "a list", "a map" or "nothing": for "expected X, got Y".
std::string describe(const YAML::Node& node);
// A user's value made safe to print: quoted, escaped, cut at 60 bytes.
std::string show_value(std::string_view text);

// Conversions: each fails with the key and what was expected.
std::string text(Reader& reader, const Value& value);
std::string nonempty_text(Reader& reader, const Value& value);
// A secret (database or webhook URL): checked to be non-empty text; never echoed.
std::string secret_text(Reader& reader, const Value& value);
// [A-Za-z0-9._-]{1,64}
std::string name(Reader& reader, const Value& value);
long long integer(Reader& reader, const Value& value, long long min, long long max);
double number(Reader& reader, const Value& value, double min, double max);
bool boolean(Reader& reader, const Value& value);
// `allow_zero` false: 0s is refused (a timeout or an interval of nothing).
Duration duration(Reader& reader, const Value& value, bool allow_zero);
// A non-empty list of text: a program and its arguments, placeholders kept.
std::vector<std::string> argv(Reader& reader, const Value& value);
// The same, and every {placeholder} in it is one of `placeholders` (a typo
// fails here, at the item, instead of reaching the program as written).
std::vector<std::string> argv(Reader& reader, const Value& value, std::initializer_list<std::string_view> placeholders);
// The items of a list, keyed "KEY[0]", "KEY[1]", ...
std::vector<Value> list(Reader& reader, const Value& value);

}  // namespace lbctl::config_detail
