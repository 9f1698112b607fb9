#pragma once
// HAProxy's prompt mode as text, apart from the socket: which commands can be
// sent in it, and how its stream of answers is cut.

#include <string>
#include <string_view>
#include <vector>

namespace lbctl::pools {

// True for one line, or a payload command ("... <<" then non-empty lines).
bool is_well_formed(std::string_view command);

// Splits the prompt-mode stream into answers: each answer ends with "\n> ".
// Returns the answers complete so far; `rest` keeps the unfinished tail.
std::vector<std::string> split_prompt_answers(std::string& stream);

}  // namespace lbctl::pools
