#include "db/sql_scanner.hpp"

#include <cctype>

namespace lbctl::db {

namespace {

bool is_ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

bool is_ident_char(char c) { return is_ident_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$'; }

std::string upper(std::string_view word) {
  std::string out(word);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return std::string(text);
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : m_text(text) {}

  ScannedSql run() {
    while (m_pos < m_text.size() && !m_out.error) step();
    finish_statement(m_text.size());
    return std::move(m_out);
  }

 private:
  char at(std::size_t i) const { return i < m_text.size() ? m_text[i] : '\0'; }

  // Moves to `end`, counting the newlines passed.
  void advance_to(std::size_t end) {
    for (; m_pos < end && m_pos < m_text.size(); ++m_pos) {
      if (m_text[m_pos] == '\n') ++m_line;
    }
  }

  void mark_token() {
    if (!m_start) {
      m_start = m_pos;
      m_start_line = m_line;
    }
  }

  void step() {
    const char c = m_text[m_pos];
    if (c == '-' && at(m_pos + 1) == '-') return line_comment();
    if (c == '/' && at(m_pos + 1) == '*') return block_comment();
    if (std::isspace(static_cast<unsigned char>(c))) return advance_to(m_pos + 1);
    mark_token();
    if (c == '\'') return quoted('\'', false, "string");
    if ((c == 'E' || c == 'e') && at(m_pos + 1) == '\'') {
      advance_to(m_pos + 1);
      return quoted('\'', true, "string");
    }
    if (c == '"') return quoted_identifier();
    if (c == '$' && dollar_quote()) return;
    if (is_ident_start(c)) return word();
    if (c == '(') ++m_parens;
    if (c == ')' && m_parens > 0) --m_parens;
    if (c == ';' && m_parens == 0 && m_begin_depth == 0) {
      advance_to(m_pos + 1);
      finish_statement(m_pos);
      return;
    }
    advance_to(m_pos + 1);
  }

  void line_comment() {
    const std::size_t end = m_text.find('\n', m_pos);
    const std::size_t stop = end == std::string_view::npos ? m_text.size() : end;
    m_out.comments.push_back({trim(m_text.substr(m_pos + 2, stop - m_pos - 2)), m_line, true});
    advance_to(stop);
  }

  // Block comments nest in Postgres.
  void block_comment() {
    const int line = m_line;
    const std::size_t body = m_pos + 2;
    int depth = 0;
    std::size_t i = m_pos;
    while (i < m_text.size()) {
      if (m_text[i] == '/' && at(i + 1) == '*') {
        ++depth;
        i += 2;
      } else if (m_text[i] == '*' && at(i + 1) == '/') {
        i += 2;
        if (--depth == 0) break;
      } else {
        ++i;
      }
    }
    if (depth != 0) {
      m_out.error = "unterminated /* comment starting on line " + std::to_string(line);
      return;
    }
    m_out.comments.push_back({trim(m_text.substr(body, i - 2 - body)), line, false});
    advance_to(i);
  }

  // A literal closed by `quote`; a doubled quote stays inside; with
  // `backslashes`, \x escapes the next character (E'' strings).
  void quoted(char quote, bool backslashes, const char* what) {
    const int line = m_line;
    std::size_t i = m_pos + 1;
    for (;;) {
      if (i >= m_text.size()) {
        m_out.error = std::string("unterminated ") + what + " starting on line " + std::to_string(line);
        return;
      }
      if (backslashes && m_text[i] == '\\') {
        i += 2;
        continue;
      }
      if (m_text[i] == quote) {
        if (at(i + 1) == quote) {
          i += 2;
          continue;
        }
        break;
      }
      ++i;
    }
    advance_to(i + 1);
  }

  void quoted_identifier() {
    const std::size_t begin = m_pos;
    const int line = m_line;
    quoted('"', false, "quoted identifier");
    if (!m_out.error) m_words.push_back({std::string(m_text.substr(begin, m_pos - begin)), line});
  }

  // $tag$ ... $tag$; false when the '$' starts no tag ($1 parameters).
  bool dollar_quote() {
    std::size_t i = m_pos + 1;
    if (at(i) != '$' && !is_ident_start(at(i))) return false;
    while (at(i) != '$') {
      if (!is_ident_char(at(i)) || at(i) == '$') return false;
      ++i;
    }
    const std::string_view tag = m_text.substr(m_pos, i + 1 - m_pos);
    const std::size_t close = m_text.find(tag, i + 1);
    if (close == std::string_view::npos) {
      m_out.error = "unterminated dollar-quoted string starting on line " + std::to_string(m_line);
      return true;
    }
    advance_to(close + tag.size());
    return true;
  }

  void word() {
    std::size_t i = m_pos;
    while (i < m_text.size() && is_ident_char(m_text[i])) ++i;
    SqlWord w{upper(m_text.substr(m_pos, i - m_pos)), m_line};
    advance_to(i);
    track_routine_body(w.text);
    m_words.push_back(std::move(w));
  }

  bool in_routine_definition() const {
    auto is = [&](std::size_t i, const char* word) { return i < m_words.size() && m_words[i].text == word; };
    if (!is(0, "CREATE")) return false;
    if (is(1, "FUNCTION") || is(1, "PROCEDURE")) return true;
    return is(1, "OR") && is(2, "REPLACE") && (is(3, "FUNCTION") || is(3, "PROCEDURE"));
  }

  // BEGIN ATOMIC ... END bodies hold semicolons; CASE ... END nests inside.
  void track_routine_body(const std::string& w) {
    if (m_parens != 0 || !in_routine_definition()) return;
    if (w == "BEGIN" || (w == "CASE" && m_begin_depth > 0)) {
      ++m_begin_depth;
    } else if (w == "END" && m_begin_depth > 0) {
      --m_begin_depth;
    }
  }

  void finish_statement(std::size_t end) {
    if (m_start && !m_words.empty()) {
      m_out.statements.push_back(
          {std::string(m_text.substr(*m_start, end - *m_start)), m_start_line, std::move(m_words)});
    } else if (m_start) {
      // Tokens but no words (e.g. a stray "(1)"): keep it so Postgres reports it.
      const std::string text = trim(m_text.substr(*m_start, end - *m_start));
      if (text != ";") {
        m_out.statements.push_back({std::string(m_text.substr(*m_start, end - *m_start)), m_start_line, {}});
      }
    }
    m_words.clear();
    m_start.reset();
    m_parens = 0;
    m_begin_depth = 0;
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
  int m_line = 1;
  std::optional<std::size_t> m_start;
  int m_start_line = 1;
  int m_parens = 0;
  int m_begin_depth = 0;
  std::vector<SqlWord> m_words;
  ScannedSql m_out;
};

}  // namespace

ScannedSql scan_sql(std::string_view text) { return Scanner(text).run(); }

}  // namespace lbctl::db
