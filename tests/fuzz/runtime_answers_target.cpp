// The runtime API's answers: the prompt-mode stream cut into answers
// (pools/prompt_mode.*), each answer read for errors (pools/answer.*), and
// `show info` / the master CLI's `show proc` (pools/reload_answers.*).

#include <vector>

#include "pools/answer.hpp"
#include "pools/prompt_mode.hpp"
#include "pools/reload_answers.hpp"
#include "tests/fuzz/fuzz.hpp"

LBCTL_FUZZ_TARGET(runtime_answers) {
  using namespace lbctl::pools;
  const auto [text, control] = lbctl::fuzz::split_at_last_nul(input);

  // The socket delivers the stream in pieces of any size: cutting it anywhere
  // must give the same answers and the same unfinished tail as reading it whole.
  PromptStream whole;
  std::vector<std::string> all_at_once;
  whole.feed(text, all_at_once);
  lbctl::fuzz::ControlBytes cuts(control);
  PromptStream stream;
  std::vector<std::string> in_pieces;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t piece = cuts.empty() ? text.size() - at : std::min<std::size_t>(cuts.next() + 1, text.size() - at);
    stream.feed(text.substr(at, piece), in_pieces);
    at += piece;
  }
  LBCTL_FUZZ_CHECK(in_pieces == all_at_once);
  LBCTL_FUZZ_CHECK(stream.rest() == whole.rest());

  for (const auto& answer : all_at_once) {
    LBCTL_FUZZ_CHECK(answer.find("\n> ") == std::string::npos);
    if (auto error = answer_error(answer)) (void)error->size();
    const auto shown = answer_text(answer);
    LBCTL_FUZZ_CHECK(shown.empty() || shown.back() != '\n');
    (void)is_still_connected(answer);
  }
  (void)is_well_formed(text);
  (void)parse_identity(text);
  for (const auto& worker : parse_old_workers(text)) LBCTL_FUZZ_CHECK(worker.pid != 0);
}
