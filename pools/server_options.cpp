#include "pools/server_options.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fmt/format.h>

#include "core/duration.hpp"

namespace lbctl::pools {

namespace {

enum class Value { none, number, duration, word };

struct Keyword {
  std::string_view name;
  Value value;
};

// What `add server` may carry. Left out on purpose: `enabled`/`disabled`
// (HAProxy issue 2497; lbctl drives the state), `id` (lbctl assigns it),
// `cookie` (one value for every server would keep no user on one: the
// cutover gives each its own, from 3.0 on), `track`, `backup` (not a
// blue-green pool), and `on-marked-down`/`on-marked-up` (shutdown-sessions
// there defeats a graceful drain).
constexpr std::array k_keywords = {
    Keyword{"check", Value::none},         Keyword{"inter", Value::duration},
    Keyword{"fastinter", Value::duration}, Keyword{"downinter", Value::duration},
    Keyword{"rise", Value::number},        Keyword{"fall", Value::number},
    Keyword{"weight", Value::number},      Keyword{"maxconn", Value::number},
    Keyword{"minconn", Value::number},     Keyword{"maxqueue", Value::number},
    Keyword{"slowstart", Value::duration}, Keyword{"port", Value::number},
    Keyword{"observe", Value::word},       Keyword{"on-error", Value::word},
    Keyword{"error-limit", Value::number}, Keyword{"check-ssl", Value::none},
    Keyword{"ssl", Value::none},           Keyword{"verify", Value::word},
    Keyword{"check-send-proxy", Value::none}, Keyword{"send-proxy", Value::none},
    Keyword{"send-proxy-v2", Value::none}, Keyword{"pool-max-conn", Value::number},
    Keyword{"pool-purge-delay", Value::duration}, Keyword{"proto", Value::word},
    Keyword{"alpn", Value::word},          Keyword{"check-alpn", Value::word},
    Keyword{"agent-check", Value::none},   Keyword{"agent-port", Value::number},
    Keyword{"agent-inter", Value::duration},
};

bool is_word(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == ',';
  });
}

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// HAProxy takes a bare number as milliseconds, or a number with a unit.
std::optional<int> parse_haproxy_duration(std::string_view text) {
  if (auto plain = parse_int(text)) return plain;
  if (auto d = parse_duration(text)) {
    if (d->count() <= 24LL * 3600 * 1000) return static_cast<int>(d->count());
  }
  return std::nullopt;
}

std::vector<std::string_view> split_spaces(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') ++pos;
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] != ' ') ++pos;
    if (pos > start) out.push_back(text.substr(start, pos - start));
  }
  return out;
}

}  // namespace

std::optional<ServerOptions> parse_server_options(std::string_view text, std::string* problem) {
  auto refuse = [&](std::string why) -> std::optional<ServerOptions> {
    if (problem) *problem = std::move(why);
    return std::nullopt;
  };
  for (char c : text) {
    if (c == ' ') continue;
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e || c == ';' || c == '\\' ||
        c == '#' || c == '"' || c == '\'') {
      return refuse("only printable ASCII words separated by spaces are allowed (no ';', '\\', '#', quotes, tabs or newlines)");
    }
  }
  ServerOptions options;
  const auto words = split_spaces(text);
  bool has_maxconn = false;
  bool has_minconn = false;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto word = words[i];
    const auto* keyword = std::find_if(k_keywords.begin(), k_keywords.end(),
                                       [&](const Keyword& k) { return k.name == word; });
    if (keyword == k_keywords.end()) {
      if (is_word(word)) {
        return refuse(fmt::format("'{}' is not an allowed server option (allowed: check, inter, rise, fall, weight, "
                                  "maxconn with minconn, slowstart, ssl, ...; never enabled, disabled, id, cookie "
                                  "(new_pool.cookie gives each server its own), track, backup, on-marked-down)",
                                  word));
      }
      return refuse("an option is not a plain word");
    }
    options.tokens.emplace_back(word);
    if (keyword->value == Value::none) {
      if (word == "check") options.check = true;
      continue;
    }
    if (i + 1 >= words.size()) return refuse(fmt::format("'{}' needs a value", word));
    const auto value = words[++i];
    std::optional<int> number;
    switch (keyword->value) {
      case Value::number:
        number = parse_int(value);
        if (!number) return refuse(fmt::format("'{}' needs a whole number, not '{}'", word, is_word(value) ? value : "?"));
        break;
      case Value::duration:
        number = parse_haproxy_duration(value);
        if (!number) return refuse(fmt::format("'{}' needs a duration (e.g. 500ms, 1s), not '{}'", word, is_word(value) ? value : "?"));
        break;
      case Value::word:
        if (!is_word(value)) return refuse(fmt::format("'{}' has a value that is not a plain word", word));
        break;
      case Value::none:
        break;
    }
    options.tokens.emplace_back(value);
    if (word == "inter") options.inter_ms = number;
    if (word == "rise") options.rise = number;
    if (word == "fall") options.fall = number;
    if (word == "maxconn") has_maxconn = true;
    if (word == "minconn") has_minconn = true;
  }
  if (has_maxconn && !has_minconn) {
    return refuse("'maxconn' without 'minconn' is refused for dynamic servers: give both");
  }
  if (!options.check) {
    return refuse("'check' is required: lbctl waits for HAProxy's own health check (L7OK) before sending traffic");
  }
  if (options.rise && *options.rise < 1) return refuse("'rise' must be at least 1");
  if (options.fall && *options.fall < 1) return refuse("'fall' must be at least 1");
  // In a config file `ssl` carries over to the checks (when they keep the
  // server's port); HAProxy 2.6's `add server` does not: tried, the check
  // spoke plain HTTP to a TLS-only server (L7RSP) and it never came UP. So
  // lbctl asks for what the file would have done.
  auto has = [&](std::string_view token) {
    return std::find(options.tokens.begin(), options.tokens.end(), token) != options.tokens.end();
  };
  if (has("ssl") && !has("check-ssl") && !has("port")) options.tokens.emplace_back("check-ssl");
  return options;
}

bool is_cookie_value(std::string_view value) {
  return !value.empty() && value.size() <= 64 && std::all_of(value.begin(), value.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

LineOptions split_line_cookie(std::string_view text) {
  LineOptions out;
  std::vector<std::string_view> kept;
  const auto words = split_spaces(text);
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "cookie" && i + 1 < words.size()) {
      out.cookie = std::string(words[++i]);
      continue;
    }
    kept.push_back(words[i]);
  }
  out.options = fmt::format("{}", fmt::join(kept, " "));
  return out;
}

std::string ServerOptions::text() const { return fmt::format("{}", fmt::join(tokens, " ")); }

std::chrono::milliseconds check_poll(std::chrono::milliseconds inter) {
  return std::clamp(inter / 4, std::chrono::milliseconds(50), std::chrono::milliseconds(500));
}

}  // namespace lbctl::pools
