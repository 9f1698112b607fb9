#include "pools/placeholders.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "pools/clone_output.hpp"

namespace lbctl::pools {

namespace {

const std::string* find_value(std::string_view key, const Placeholders& values) {
  for (const auto& [k, v] : values) {
    if (k == key) return &v;
  }
  return nullptr;
}

}  // namespace

std::string expand_placeholders(std::string_view text, const Placeholders& values) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find('{', pos);
    if (open == std::string_view::npos) break;
    const auto close = text.find('}', open + 1);
    if (close == std::string_view::npos) break;
    // "{{name}" keeps its first brace: the key starts after the last '{'.
    const auto inner_open = text.rfind('{', close);
    out.append(text.substr(pos, inner_open - pos));
    const auto key = text.substr(inner_open + 1, close - inner_open - 1);
    if (const std::string* value = find_value(key, values)) {
      out += *value;
    } else {
      out.append(text.substr(inner_open, close - inner_open + 1));
    }
    pos = close + 1;
  }
  out.append(text.substr(pos));
  return out;
}

Result<std::vector<std::string>> expand_argv(const std::vector<std::string>& argv, const Placeholders& values) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (std::size_t i = 0; i < argv.size(); ++i) {
    out.push_back(expand_placeholders(argv[i], values));
    if (i == 0 || !out.back().starts_with('-') || argv[i].starts_with('-')) continue;
    // The '-' came from a value: the element started with a placeholder.
    const auto close = argv[i].find('}');
    const std::string key = close == std::string::npos ? std::string() : argv[i].substr(1, close - 1);
    const std::string* value = find_value(key, values);
    return fail(ErrorKind::invalid,
                fmt::format("argument {} of `{}` would be {} ({{{}}} is {}): a value that starts with '-' would reach "
                            "the program as an option; refused",
                            i, argv.front(), quote_for_message(out.back()), key,
                            value ? quote_for_message(*value) : std::string("empty")));
  }
  return out;
}

std::optional<UnknownPlaceholder> find_unknown_placeholder(const std::vector<std::string>& argv,
                                                           std::initializer_list<std::string_view> known) {
  const auto is_key_char = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string_view arg = argv[i];
    for (auto close = arg.find('}'); close != std::string_view::npos; close = arg.find('}', close + 1)) {
      const auto open = arg.rfind('{', close);
      if (open == std::string_view::npos) continue;
      const auto key = arg.substr(open + 1, close - open - 1);
      if (key.empty() || !std::all_of(key.begin(), key.end(), is_key_char)) continue;
      if (std::find(known.begin(), known.end(), key) == known.end()) return UnknownPlaceholder{i, std::string(key)};
    }
  }
  return std::nullopt;
}

bool uses_placeholder(const std::vector<std::string>& argv, std::string_view key) {
  const std::string token = "{" + std::string(key) + "}";
  for (const auto& arg : argv) {
    if (arg.find(token) != std::string::npos) return true;
  }
  return false;
}

}  // namespace lbctl::pools
