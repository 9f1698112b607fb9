#include "lbctl/cli/release.hpp"

#include <fmt/format.h>

#include "core/names.hpp"

namespace lbctl::cli {

namespace {

// The flag as typed when it is plain text (too long, a space, a slash...),
// never control characters.
std::string printable(const std::string& text) {
  std::string out;
  for (char c : text.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

}  // namespace

Result<std::string> given_release(const std::string& flag, const Config& config) {
  if (flag.empty()) return config.release;
  if (!is_valid_name(flag)) {
    return fail(ErrorKind::invalid,
                fmt::format("--release: '{}' is not a release name; expected 1-64 characters from [A-Za-z0-9._-]",
                            printable(flag)));
  }
  return flag;
}

Result<std::string> planned_release(const std::string& flag, const Config& config, db::Journal& journal) {
  auto given = given_release(flag, config);
  if (!given || !given->empty()) return given;
  auto latest = journal.latest(config.service);
  if (!latest) return std::unexpected(latest.error());
  return fmt::format("r{}", *latest ? (*latest)->id + 1 : 1);
}

}  // namespace lbctl::cli
