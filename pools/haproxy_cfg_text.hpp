#pragma once
// Internal to the haproxy_cfg / haproxy_map files: a text as lines that keep
// their own line ends, a writer that puts them back byte for byte, and
// HAProxy 2.6's way of cutting one configuration line into words.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace lbctl::pools::haproxy_text {

struct TextLine {
  std::string_view content;  // without its line end
  std::string_view eol;      // "\n" or "\r\n"; "" or "\r" on a last line without a newline

  bool has_newline() const { return !eol.empty() && eol.back() == '\n'; }
};

// A text that ends with a newline has no empty line after it.
std::vector<TextLine> split_lines(std::string_view text);

// "\r\n" when more lines end that way than with a bare "\n", else "\n".
std::string_view dominant_eol(const std::vector<TextLine>& lines);

// The 1-based line of the first NUL byte, or 0 when there is none.
std::size_t line_of_nul(std::string_view text);

// Puts lines back together. A line that ended the old text without a newline
// gets `eol` when another line follows it, so nothing is glued onto it.
class LineWriter {
 public:
  explicit LineWriter(std::string_view eol) : m_eol(eol) {}
  void write(std::string_view content, std::string_view eol);
  // The text; when `original` ended without a newline, so does the result,
  // unless its last line is now a blank one: without its newline that blank
  // line would be gone.
  std::string finish(const std::vector<TextLine>& original) &&;

 private:
  std::string m_text;
  std::string_view m_eol;
  std::size_t m_line_at = 0;                 // where the last written line starts
  std::size_t m_eol_at = std::string::npos;  // where the last written line's end starts
};

struct Word {
  std::size_t begin = 0;  // offsets in the line, quotes included
  std::size_t end = 0;
  std::string value;  // unquoted and unescaped, as HAProxy reads it
};

struct Words {
  std::vector<Word> words;
  std::size_t stop = 0;  // where HAProxy stops reading: an unquoted '#', a '\r', or the line's end
  bool open_quote = false;
};

// Cuts a line as HAProxy 2.6's parse_line does: blanks separate words, quotes
// group, a backslash escapes, an unquoted '#' starts a comment. "$VAR" is
// kept as written: lbctl does not know HAProxy's environment.
Words split_words(std::string_view line);
// The same for any line, one byte at a time; split_words takes it only for
// a line with a quote or a backslash before its end (the fuzz target checks
// that both cut every line alike).
Words split_words_quoted(std::string_view line);

// What the parameters of a `server` or `default-server` line say.
struct ServerParams {
  std::optional<std::size_t> weight_word;  // the value word of the last `weight`
  std::optional<unsigned> weight;
  std::optional<std::uint64_t> id;
  std::vector<std::size_t> state_words;  // every `disabled` and `enabled`
  std::optional<bool> disabled;          // what the last of them says
};

// Scans words[first..] knowing which keywords take a value, so the value of
// another keyword (`cookie disabled`) is never read as a keyword. Fails when
// `weight` or `id` has no value or a value that is not a number.
Result<ServerParams> scan_params(const Words& words, std::size_t first, std::size_t line_no);

// "line 12: what".
Error line_error(std::size_t line_no, std::string_view what);

}  // namespace lbctl::pools::haproxy_text
