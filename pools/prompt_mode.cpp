#include "pools/prompt_mode.hpp"

#include <algorithm>

namespace lbctl::pools {

void PromptStream::feed(std::string_view data, std::vector<std::string>& answers) {
  m_stream.append(data);
  constexpr std::string_view prompt = "\n> ";
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = m_stream.find(prompt, m_scanned);
    if (end == std::string::npos) break;
    answers.emplace_back(m_stream, start, end - start);
    start = end + prompt.size();
    m_scanned = start;
  }
  m_stream.erase(0, start);
  m_scanned -= start;
  // A prompt may begin in the last bytes and end in the next read.
  if (m_stream.size() >= prompt.size()) m_scanned = std::max(m_scanned, m_stream.size() - (prompt.size() - 1));
}

std::string prompt_request(const std::vector<std::string>& commands) {
  std::string request;
  for (const auto& command : commands) {
    request += command;
    request += '\n';
    if (command.find('\n') != std::string::npos) request += '\n';  // the empty line ends a payload
  }
  return request;
}

void strip_payload_prompts(std::vector<std::string>& answers) {
  for (auto& answer : answers) {
    std::size_t skip = 0;
    while (answer.compare(skip, 2, "+ ") == 0) skip += 2;
    answer.erase(0, skip);
  }
}

bool is_well_formed(std::string_view command) {
  if (command.find('\r') != std::string_view::npos) return false;
  const auto first_newline = command.find('\n');
  if (first_newline == std::string_view::npos) return true;
  if (!command.substr(0, first_newline).ends_with(" <<")) return false;
  // No empty payload line: it would end the payload early.
  return command.find("\n\n") == std::string_view::npos && !command.ends_with('\n');
}

}  // namespace lbctl::pools
