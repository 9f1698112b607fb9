// The libFuzzer entry points of `lbctl-fuzz`: LBCTL_FUZZ_TARGET=NAME picks the
// target (scripts/fuzz sets it), so one binary serves them all.

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/fuzz.hpp"

namespace {

const lbctl::fuzz::Target* g_target = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* name = std::getenv("LBCTL_FUZZ_TARGET");
  const auto& all = lbctl::fuzz::targets();
  const auto it = name == nullptr ? all.end() : all.find(name);
  if (it == all.end()) {
    std::fprintf(stderr, "lbctl-fuzz: set LBCTL_FUZZ_TARGET to one of:");
    for (const auto& [known, _] : all) std::fprintf(stderr, " %s", known.c_str());
    std::fprintf(stderr, "\n");
    std::exit(2);
  }
  g_target = &it->second;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (*g_target)(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
