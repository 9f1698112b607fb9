#include "pools/prompt_mode.hpp"

#include <algorithm>
#include <iterator>

namespace lbctl::pools {

void PromptStream::feed(std::string_view data, std::vector<std::string>& answers) {
  m_stream.append(data);
  constexpr std::string_view prompt = "\n> ";
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = m_stream.find(prompt, m_scanned);
    if (end == std::string::npos) break;
    if (start == 0 && end + prompt.size() == m_stream.size()) {
      // All that was read is one answer (a `show stat` of megabytes): moved
      // out whole, not copied next to itself.
      m_stream.resize(end);
      answers.push_back(std::move(m_stream));
      m_stream.clear();
      m_scanned = 0;
      return;
    }
    answers.emplace_back(m_stream, start, end - start);
    start = end + prompt.size();
    m_scanned = start;
  }
  m_stream.erase(0, start);
  m_scanned -= start;
  // A prompt may begin in the last bytes and end in the next read.
  if (m_stream.size() >= prompt.size()) m_scanned = std::max(m_scanned, m_stream.size() - (prompt.size() - 1));
}

bool is_well_formed(std::string_view command) {
  if (command.find('\r') != std::string_view::npos) return false;
  const auto first_newline = command.find('\n');
  if (first_newline == std::string_view::npos) return true;
  if (!command.substr(0, first_newline).ends_with(" <<")) return false;
  // No empty payload line: it would end the payload early.
  return command.find("\n\n") == std::string_view::npos && !command.ends_with('\n');
}

Result<void> check_commands(const std::vector<std::string>& commands) {
  for (const auto& command : commands) {
    if (!is_well_formed(command)) {
      return fail(ErrorKind::invalid,
                  "a runtime API command must be one line, or a payload command (\"... <<\" and non-empty lines)");
    }
  }
  return {};
}

PromptBatch::PromptBatch(const std::vector<std::string>& commands, Framing framing) : m_commands(commands.size()) {
  if (framing != Framing::in_session) {
    m_settings = 2;
    m_request = "prompt\nset severity-output number\n";
  }
  for (const auto& command : commands) {
    m_request += command;
    m_request += '\n';
    if (command.find('\n') != std::string::npos) m_request += '\n';  // the empty line ends a payload
  }
  if (framing == Framing::whole) m_request += "quit\n";
  m_answers.reserve(m_commands + m_settings);
}

bool PromptBatch::feed(std::string_view data) {
  m_stream.feed(data, m_answers);
  return complete();
}

std::vector<std::string> PromptBatch::take_answers() {
  const auto first = m_answers.begin() + static_cast<std::ptrdiff_t>(m_settings);
  std::vector<std::string> answers(std::make_move_iterator(first),
                                   std::make_move_iterator(first + static_cast<std::ptrdiff_t>(m_commands)));
  for (auto& answer : answers) {
    std::size_t skip = 0;
    while (answer.compare(skip, 2, "+ ") == 0) skip += 2;
    answer.erase(0, skip);
  }
  return answers;
}

}  // namespace lbctl::pools
