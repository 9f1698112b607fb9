#pragma once
// What the cookie and sticky-session end-to-end tests read of a reply.

#include <regex>
#include <string>

#include "tests/support/child_process.hpp"

namespace lbctl::test {

// The value of the SRV cookie a reply sets ("" when it sets none).
inline std::string set_cookie(const HttpReply& reply) {
  std::smatch m;
  static const std::regex srv(R"(Set-Cookie: SRV=([^;\r\n]*))", std::regex::icase);
  return std::regex_search(reply.headers, m, srv) ? m[1].str() : std::string();
}

// The server that answered ("v2-1 v2" -> "v2-1").
inline std::string served_by(const HttpReply& reply) { return reply.body.substr(0, reply.body.find(' ')); }

}  // namespace lbctl::test
