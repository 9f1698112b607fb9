// `lbctl-fuzz-replay TARGET DIR...`: runs one fuzz target over every file in
// the folders (its seeds and the crashes found so far), without libFuzzer, in
// the normal sanitizer build. A crash or a failed property aborts, which
// fails the CTest test; an empty folder list fails too, so a mistyped path
// cannot pass by replaying nothing.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "tests/fuzz/fuzz.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: lbctl-fuzz-replay TARGET DIR...\n";
    return 2;
  }
  const auto& all = lbctl::fuzz::targets();
  const auto target = all.find(std::string_view(argv[1]));
  if (target == all.end()) {
    std::cerr << "lbctl-fuzz-replay: no target " << argv[1] << "\n";
    return 2;
  }
  std::vector<std::filesystem::path> files;
  for (int i = 2; i < argc; ++i) {
    std::error_code ec;
    if (!std::filesystem::is_directory(argv[i], ec)) continue;  // no crash found yet: no regressions folder
    for (const auto& entry : std::filesystem::directory_iterator(argv[i])) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  if (files.empty()) {
    std::cerr << "lbctl-fuzz-replay: no inputs for " << argv[1] << "\n";
    return 1;
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    std::cerr << "replaying " << file.string() << "\n";
    target->second(bytes.str());
  }
  std::cout << argv[1] << ": " << files.size() << " inputs replayed\n";
  return 0;
}
