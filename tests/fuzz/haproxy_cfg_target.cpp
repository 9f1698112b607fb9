// The haproxy.cfg rewriter (pools/haproxy_cfg*.cpp): the user's file, read
// for the backend's server lines and rewritten after each runtime change.
// The input is the file's text, then after its last NUL the bytes that say
// what the backend should hold. The properties: a rewrite reads back as
// asked, a second rewrite changes nothing, and every line that is not one of
// the backend's server lines stays as it was, in order.

#include <fmt/format.h>

#include "pools/haproxy_cfg.hpp"
#include "pools/haproxy_cfg_text.hpp"
#include "tests/fuzz/fuzz.hpp"

namespace {

using namespace lbctl::pools;

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  return lines;
}

// The file's lines without the backend's server lines, each without the
// '\r's that end it (haproxy_map_target.cpp says why).
std::vector<std::string_view> other_lines(std::string_view text, const CfgBackend& backend) {
  auto lines = lines_of(text);
  std::vector<std::string_view> kept;
  std::size_t next_server = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (next_server < backend.servers.size() && backend.servers[next_server].line == i + 1) {
      ++next_server;
      continue;
    }
    auto line = lines[i];
    while (line.ends_with('\r')) line.remove_suffix(1);
    kept.push_back(line);
  }
  return kept;
}

// What the control bytes ask for: each existing server kept (maybe with
// another weight or state) or dropped, then up to three new ones.
std::vector<DesiredServer> desired_from(const CfgBackend& backend, lbctl::fuzz::ControlBytes& control) {
  std::vector<DesiredServer> servers;
  for (const auto& line : backend.servers) {
    const unsigned char how = control.next();
    if (how % 4 == 0) continue;  // deleted
    DesiredServer server{line.name, line.address, 0, "", line.disabled, line.effective_weight()};
    if (how % 4 == 2) server.maint = !server.maint;
    if (how % 4 == 3) server.weight = control.next();
    servers.push_back(std::move(server));
  }
  const unsigned added = control.next() % 4;
  for (unsigned i = 0; i < added; ++i) {
    const unsigned char how = control.next();
    servers.push_back(DesiredServer{fmt::format("fz-{}", i), fmt::format("127.0.0.{}:{}", i + 1, 8000 + how), how,
                                    how % 2 == 0 ? "check" : "", how % 3 == 0, static_cast<unsigned>(how % 7)});
  }
  return servers;
}

}  // namespace

LBCTL_FUZZ_TARGET(haproxy_cfg) {
  const auto [text, control_bytes] = lbctl::fuzz::split_at_last_nul(input);
  // split_words' fast path cuts every line as the byte-at-a-time reader does.
  for (const auto line : lines_of(text)) {
    const auto fast = haproxy_text::split_words(line);
    const auto general = haproxy_text::split_words_quoted(line);
    LBCTL_FUZZ_CHECK(fast.stop == general.stop && fast.open_quote == general.open_quote);
    LBCTL_FUZZ_CHECK(fast.words.size() == general.words.size());
    for (std::size_t i = 0; i < fast.words.size(); ++i) {
      LBCTL_FUZZ_CHECK(fast.words[i].begin == general.words[i].begin && fast.words[i].end == general.words[i].end &&
                       fast.words[i].value == general.words[i].value);
    }
  }
  const auto before = find_backend(text, "app");
  if (!before) return;
  LBCTL_FUZZ_CHECK(before->header_line >= 1 && before->header_line <= before->last_line);
  for (const auto& server : before->servers) {
    LBCTL_FUZZ_CHECK(server.line > before->header_line && server.line <= before->last_line);
  }
  lbctl::fuzz::ControlBytes control(control_bytes);
  const auto servers = desired_from(*before, control);
  const auto rewritten = rewrite_backend_servers(text, "app", servers);
  if (!rewritten) return;  // refusing is allowed; writing something else is not

  const auto after = find_backend(*rewritten, "app");
  LBCTL_FUZZ_CHECK(after.has_value());
  LBCTL_FUZZ_CHECK(after->servers.size() == servers.size());
  for (const auto& want : servers) {
    const auto got = std::find_if(after->servers.begin(), after->servers.end(),
                                  [&](const CfgServerLine& line) { return line.name == want.name; });
    LBCTL_FUZZ_CHECK(got != after->servers.end());
    LBCTL_FUZZ_CHECK(got->disabled == want.maint);
    LBCTL_FUZZ_CHECK(got->effective_weight() == want.weight);
    // A line that was there keeps its address as written (a host name HAProxy
    // resolved stays a name); only a new line is written with the address asked.
    const auto had = std::find_if(before->servers.begin(), before->servers.end(),
                                  [&](const CfgServerLine& line) { return line.name == want.name; });
    LBCTL_FUZZ_CHECK(got->address == (had == before->servers.end() ? want.address : had->address));
  }
  LBCTL_FUZZ_CHECK(other_lines(text, *before) == other_lines(*rewritten, *after));

  const auto again = rewrite_backend_servers(*rewritten, "app", servers);
  LBCTL_FUZZ_CHECK(again.has_value() && *again == *rewritten);
  // What `lbctl plan` shows of the change.
  const auto diff = line_diff(text, *rewritten, "haproxy.cfg");
  LBCTL_FUZZ_CHECK(diff.empty() == (text == *rewritten));
}
