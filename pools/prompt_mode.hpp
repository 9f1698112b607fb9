#pragma once
// HAProxy's prompt mode as text, apart from the socket: which commands can be
// sent in it, and how its stream of answers is cut.

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace lbctl::pools {

// True for one line, or a payload command ("... <<" then non-empty lines).
bool is_well_formed(std::string_view command);
// Fails (invalid) unless every command is well formed: checked before any is sent.
Result<void> check_commands(const std::vector<std::string>& commands);

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

// One batch in prompt mode, whatever carries it (a socket, an ssh session):
// the request (prompt mode and severity numbers first, `quit` last, each
// payload ended by its empty line), the answers cut as the stream comes,
// and the commands' own answers once all have come.
class PromptBatch {
 public:
  // whole: one connection for the batch (settings first, `quit` last);
  // opening: a session's first batch, kept open (settings, no quit);
  // in_session: a later batch on that session (neither).
  enum class Framing { whole, opening, in_session };
  explicit PromptBatch(const std::vector<std::string>& commands, Framing framing = Framing::whole);
  const std::string& request() const { return m_request; }
  // Takes what was read; true once every answer has come.
  bool feed(std::string_view data);
  bool complete() const { return m_answers.size() >= m_commands + m_settings; }
  // How many of the commands have been answered so far.
  std::size_t answered() const { return m_answers.size() < m_settings ? 0 : m_answers.size() - m_settings; }
  // The commands' answers, in order, without the "+ " HAProxy prompts for
  // each payload line; once complete().
  std::vector<std::string> take_answers();

 private:
  std::size_t m_settings = 0;  // answers to `prompt`, `set severity-output number` (2, or 0 in a session)
  std::string m_request;
  std::size_t m_commands = 0;
  std::vector<std::string> m_answers;
  PromptStream m_stream;
};

}  // namespace lbctl::pools
