#include "pools/haproxy_cfg_text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fmt/format.h>

namespace lbctl::pools::haproxy_text {

namespace {

// Server keywords that take one value (HAProxy 2.6 `srv_kws`, plus a few the
// brief did not list: verify, verifyhost, max-reuse, interface, hash-key,
// pool-conn-name, init-state). Reading their value as a keyword would turn
// `cookie disabled` into a server in maintenance.
// clang-format off
constexpr auto k_keywords_with_value = std::to_array<std::string_view>({
    "addr", "agent-addr", "agent-inter", "agent-port", "agent-send", "ca-file", "check-sni", "cookie",
    "crl-file", "crt", "downinter", "error-limit", "fall", "fastinter", "id", "init-addr", "inter", "log-proto",
    "maxconn", "maxqueue", "minconn", "namespace", "observe", "on-error", "on-marked-down", "on-marked-up",
    "pool-low-conn", "pool-max-conn", "pool-purge-delay", "port", "proto", "proxy-v2-options", "redir",
    "resolve-net", "resolve-opts", "resolve-prefer", "resolvers", "rise", "sni", "slowstart", "source",
    "ssl-max-ver", "ssl-min-ver", "ciphers", "ciphersuites", "curves", "sigalgs", "client-sigalgs", "alpn",
    "npn", "track", "usesrc", "weight", "tcp-ut", "socks4", "set-proxy-v2-tlv-fmt", "check-alpn",
    "check-proto", "ws", "shard", "verify", "verifyhost", "max-reuse", "interface", "hash-key",
    "pool-conn-name", "init-state"});
// clang-format on

bool takes_value(std::string_view keyword) {
  // Every word of every server line is looked up: sorted once, then halved.
  static const auto sorted = [] {
    auto words = k_keywords_with_value;
    std::sort(words.begin(), words.end());
    return words;
  }();
  return std::binary_search(sorted.begin(), sorted.end(), keyword);
}

// isspace() without the line ends, which never reach a line's content.
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads the backslash at line[at] (outside single quotes) into `out`; returns
// how many bytes it used. Like HAProxy, an unknown escape keeps the backslash.
std::size_t unescape(std::string_view line, std::size_t at, bool dquote, std::string& out) {
  const char next = at + 1 < line.size() ? line[at + 1] : '\0';
  switch (next) {
    case ' ':
    case '\\':
    case '#':
    case '\'':
    case '"': out.push_back(next); return 2;
    case 't': out.push_back('\t'); return 2;
    case 'n': out.push_back('\n'); return 2;
    case 'r': out.push_back('\r'); return 2;
    case '$':
      if (!dquote) break;
      out.push_back('$');
      return 2;
    case 'x': {
      const int high = at + 2 < line.size() ? hex_digit(line[at + 2]) : -1;
      const int low = at + 3 < line.size() ? hex_digit(line[at + 3]) : -1;
      if (high < 0 || low < 0) break;
      out.push_back(static_cast<char>(high * 16 + low));
      return 4;
    }
    default: break;
  }
  out.push_back('\\');
  return 1;
}

template <class Number>
std::optional<Number> to_number(std::string_view text) {
  Number value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::vector<TextLine> split_lines(std::string_view text) {
  std::vector<TextLine> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::size_t stop = nl == std::string_view::npos ? text.size() : nl;
    std::size_t content_end = stop;
    if (content_end > pos && text[content_end - 1] == '\r') --content_end;
    const std::size_t next = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back({text.substr(pos, content_end - pos), text.substr(content_end, next - content_end)});
    pos = next;
  }
  return lines;
}

std::string_view dominant_eol(const std::vector<TextLine>& lines) {
  std::size_t crlf = 0, lf = 0;
  for (const auto& line : lines) {
    if (line.eol == "\r\n")
      ++crlf;
    else if (line.eol == "\n")
      ++lf;
  }
  return crlf > lf ? "\r\n" : "\n";
}

std::size_t line_of_nul(std::string_view text) {
  const std::size_t at = text.find('\0');
  if (at == std::string_view::npos) return 0;
  return static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n')) + 1;
}

void LineWriter::write(std::string_view content, std::string_view eol) {
  if (m_eol_at != std::string::npos && (m_text.empty() || m_text.back() != '\n')) {
    // The line before ended the old text without a newline. A lone '\r' it
    // ended with stays (found by fuzzing: replacing it dropped a byte of a
    // line that should not change); a newline after it makes it "\r\n".
    if (m_text.size() > m_eol_at && m_text.back() == '\r') {
      m_text += '\n';
    } else {
      m_text.resize(m_eol_at);
      m_text += m_eol;
    }
  }
  m_line_at = m_text.size();
  m_text += content;
  m_eol_at = m_text.size();
  m_text += eol;
}

std::string LineWriter::finish(const std::vector<TextLine>& original) && {
  if (!original.empty() && !original.back().has_newline() && m_eol_at != std::string::npos && m_eol_at != m_line_at) {
    m_text.resize(m_eol_at);
    m_text += original.back().eol;
  }
  return std::move(m_text);
}

Words split_words(std::string_view line) {
  // Nearly every line of a large file (20,000 `server` lines) has no quote
  // and no backslash: its words are cut at blanks, each copied once.
  const std::size_t stop = std::min(line.find_first_of("#\r"), line.size());
  if (line.substr(0, stop).find_first_of("\"'\\") != std::string_view::npos) return split_words_quoted(line);
  Words out;
  out.words.reserve(16);
  std::size_t i = 0;
  while (i < stop) {
    while (i < stop && is_blank(line[i])) ++i;
    if (i == stop) break;
    const std::size_t begin = i;
    while (i < stop && !is_blank(line[i])) ++i;
    out.words.push_back(Word{begin, i, std::string(line.substr(begin, i - begin))});
  }
  out.stop = stop;
  return out;
}

Words split_words_quoted(std::string_view line) {
  Words out;
  bool squote = false, dquote = false, in_word = false;
  Word word;
  std::size_t i = 0;
  while (i < line.size()) {
    const char c = line[i];
    // HAProxy ends a line at '\r' even inside quotes.
    if (c == '\r' || (c == '#' && !squote && !dquote)) break;
    if (is_blank(c) && !squote && !dquote) {
      if (in_word) {
        word.end = i;
        out.words.push_back(std::move(word));
        in_word = false;
      }
      ++i;
      continue;
    }
    if (!in_word) {
      word = Word{i, i, {}};
      in_word = true;
    }
    if (c == '"' && !squote)
      dquote = !dquote, ++i;
    else if (c == '\'' && !dquote)
      squote = !squote, ++i;
    else if (c == '\\' && !squote)
      i += unescape(line, i, dquote, word.value);
    else
      word.value.push_back(c), ++i;
  }
  out.stop = i;
  if (in_word) {
    word.end = i;
    out.words.push_back(std::move(word));
  }
  out.open_quote = squote || dquote;
  return out;
}

Result<ServerParams> scan_params(const Words& words, std::size_t first, std::size_t line_no) {
  ServerParams params;
  const auto& list = words.words;
  for (std::size_t i = first; i < list.size(); ++i) {
    const std::string& keyword = list[i].value;
    if (keyword == "disabled" || keyword == "enabled") {
      params.state_words.push_back(i);
      params.disabled = keyword == "disabled";
      continue;
    }
    if (!takes_value(keyword)) continue;
    const bool ours = keyword == "weight" || keyword == "id";
    if (i + 1 >= list.size()) {
      if (ours) return std::unexpected(line_error(line_no, fmt::format("`{}` needs a value", keyword)));
      break;
    }
    ++i;
    if (!ours) continue;
    const std::string& value = list[i].value;
    if (keyword == "weight") {
      params.weight = to_number<unsigned>(value);
      params.weight_word = i;
      if (!params.weight) {
        return std::unexpected(line_error(line_no, fmt::format("weight `{}` is not a number", value)));
      }
    } else {
      params.id = to_number<std::uint64_t>(value);
      if (!params.id) return std::unexpected(line_error(line_no, fmt::format("id `{}` is not a number", value)));
    }
  }
  return params;
}

Error line_error(std::size_t line_no, std::string_view what) {
  return Error{ErrorKind::invalid, fmt::format("line {}: {}", line_no, what)};
}

}  // namespace lbctl::pools::haproxy_text
