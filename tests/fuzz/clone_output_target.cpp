// The exec provider's clone output (pools/clone_output.*): JSON lines printed
// by the user's program; the names and addresses go on to HAProxy's runtime
// API, so what is accepted must be exactly what was asked for, well formed.

#include "core/names.hpp"
#include "pools/clone_output.hpp"
#include "tests/fuzz/fuzz.hpp"

LBCTL_FUZZ_TARGET(clone_output) {
  using namespace lbctl::pools;
  const std::vector<std::string> wanted = {"v2-1", "v2-2"};
  if (auto servers = parse_clone_output(input, wanted)) {
    LBCTL_FUZZ_CHECK(servers->size() == wanted.size());
    for (std::size_t i = 0; i < servers->size(); ++i) {
      LBCTL_FUZZ_CHECK((*servers)[i].name == wanted[i]);
      LBCTL_FUZZ_CHECK(parse_address((*servers)[i].address).has_value());
    }
  }
  // Messages quote what the program printed: never a raw line end or
  // control character that could forge a log line.
  const auto quoted = quote_for_message(input);
  for (const char c : quoted) LBCTL_FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20);
}
