#pragma once
// HAProxy's prompt mode as text, apart from the socket: which commands can be
// sent in it, and how its stream of answers is cut.

#include <string>
#include <string_view>
#include <vector>

namespace lbctl::pools {

// True for one line, or a payload command ("... <<" then non-empty lines).
bool is_well_formed(std::string_view command);

// The text that sends `commands` in prompt mode (each payload command
// followed by the empty line that ends it).
std::string prompt_request(const std::vector<std::string>& commands);

// HAProxy prompts "+ " for every payload line it reads: removed from the
// front of each answer.
void strip_payload_prompts(std::vector<std::string>& answers);

// The prompt-mode stream cut into answers: each answer ends with "\n> ".
// Fed as the socket reads, it looks at each byte once, so an answer of
// megabytes (`show stat` of 10,000 servers) read in 16 KiB pieces costs its
// length, not its length squared.
class PromptStream {
 public:
  // Appends what was read and moves every answer it completes to `answers`.
  void feed(std::string_view data, std::vector<std::string>& answers);
  // The unfinished tail.
  const std::string& rest() const { return m_stream; }

 private:
  std::string m_stream;
  std::size_t m_scanned = 0;  // no "\n> " starts before this offset
};

}  // namespace lbctl::pools
