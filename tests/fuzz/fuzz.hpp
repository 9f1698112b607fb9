#pragma once
// Fuzz targets: one per parser of input from outside the process. Every
// target is a function of the raw bytes; it must not crash, leak or trip a
// sanitizer on any input, and where the parser promises something checkable
// (a rewrite reads back as asked), it checks that and aborts when it fails.
//
// The same sources build twice: with clang and libFuzzer into `lbctl-fuzz`
// (scripts/fuzz), and with the normal build into `lbctl-fuzz-replay`, which
// replays each target's seeds and every crash ever found (a CTest test per
// target), so a crash found once stays a test case.

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace lbctl::fuzz {

using Target = std::function<void(std::string_view input)>;

// Every target, by name; filled before main by LBCTL_FUZZ_TARGET.
std::map<std::string, Target, std::less<>>& targets();

struct Registration {
  Registration(const char* name, Target target) { targets().emplace(name, std::move(target)); }
};

// A property a target checks did not hold: print it and abort, which both
// libFuzzer and the replay test report as a failure with the input.
[[noreturn]] inline void property_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: property failed: %s\n", file, line, what);
  std::abort();
}

}  // namespace lbctl::fuzz

#define LBCTL_FUZZ_CHECK(condition) \
  ((condition) ? void(0) : ::lbctl::fuzz::property_failed(#condition, __FILE__, __LINE__))

#define LBCTL_FUZZ_TARGET(name)                                                                   \
  static void lbctl_fuzz_##name(std::string_view input);                                          \
  static const ::lbctl::fuzz::Registration lbctl_fuzz_registration_##name(#name, lbctl_fuzz_##name); \
  static void lbctl_fuzz_##name(std::string_view input)

namespace lbctl::fuzz {

// Splits an input at its last NUL byte into the text a parser reads and the
// bytes that steer the target (which servers to ask for, which key to set).
// Texts the parsers under test refuse when they hold a NUL stay reachable:
// only the last NUL is the separator.
struct Split {
  std::string_view text;
  std::string_view control;
};
inline Split split_at_last_nul(std::string_view input) {
  const auto nul = input.rfind('\0');
  if (nul == std::string_view::npos) return {input, {}};
  return {input.substr(0, nul), input.substr(nul + 1)};
}

// The control bytes, one at a time; zeros once they run out.
class ControlBytes {
 public:
  explicit ControlBytes(std::string_view bytes) : m_bytes(bytes) {}
  unsigned char next() { return m_at < m_bytes.size() ? static_cast<unsigned char>(m_bytes[m_at++]) : 0; }
  bool empty() const { return m_at >= m_bytes.size(); }

 private:
  std::string_view m_bytes;
  std::size_t m_at = 0;
};

}  // namespace lbctl::fuzz
