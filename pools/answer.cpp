#include "pools/answer.hpp"

namespace lbctl::pools {

namespace {

// "[3]: text" -> level 3 and "text"; -1 when the line has no level.
int severity_of(std::string_view line, std::string_view* rest) {
  if (line.size() >= 5 && line[0] == '[' && line[1] >= '0' && line[1] <= '9' && line[2] == ']' && line[3] == ':' &&
      line[4] == ' ') {
    *rest = line.substr(5);
    return line[1] - '0';
  }
  *rest = line;
  return -1;
}

template <class F>
void for_each_line(std::string_view text, F f) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    f(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
}

}  // namespace

std::optional<std::string> answer_error(std::string_view answer) {
  bool error = false;
  for_each_line(answer, [&](std::string_view line) {
    std::string_view rest;
    const int level = severity_of(line, &rest);
    if ((level >= 0 && level <= 3) || rest.starts_with("Unknown command") || rest.starts_with("Permission denied") ||
        rest.starts_with("No such proxy") || rest.starts_with("No such backend") || rest.starts_with("No such server")) {
      error = true;
    }
  });
  if (!error) return std::nullopt;
  return answer_text(answer);
}

bool says_no_such_server(std::string_view answer) {
  bool gone = false;
  for_each_line(answer, [&](std::string_view line) {
    std::string_view rest;
    severity_of(line, &rest);
    if (rest.starts_with("No such server")) gone = true;
  });
  return gone;
}

std::string answer_text(std::string_view answer) {
  std::string text;
  for_each_line(answer, [&](std::string_view line) {
    std::string_view rest;
    severity_of(line, &rest);
    if (!text.empty()) text += '\n';
    text += rest;
  });
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

bool is_still_connected(std::string_view answer) {
  return answer.find("still has connections attached") != std::string_view::npos;
}

}  // namespace lbctl::pools
