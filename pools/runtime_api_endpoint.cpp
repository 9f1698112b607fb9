#include "pools/runtime_api_endpoint.hpp"

#include <fmt/format.h>

namespace lbctl::pools {

std::string RuntimeApiEndpoint::to_string() const {
  switch (kind) {
    case Kind::unix_socket: return "unix:" + path;
    case Kind::tcp: return fmt::format("tcp:{}:{}", host, port);
    case Kind::ssh:
      return fmt::format("ssh://{}{}{}{}", user.empty() ? "" : user + "@", host,
                         port == 0 ? "" : fmt::format(":{}", port), path);
    case Kind::tls: return fmt::format("tls://{}:{}", host, port);
  }
  return {};
}

bool RuntimeApiEndpoint::is_loopback() const {
  if (kind == Kind::unix_socket) return true;
  if (host == "localhost" || host == "[::1]" || host == "::1") return true;
  // 127.0.0.0/8, written as four numbers
  if (!host.starts_with("127.")) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') ++dots;
    else if (c < '0' || c > '9') return false;
  }
  return dots == 3;
}

}  // namespace lbctl::pools
