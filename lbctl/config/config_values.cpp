#include "lbctl/config/config_values.hpp"

#include <algorithm>
#include <charconv>

namespace lbctl::config_detail {

namespace {

bool is_alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value < 1 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

bool is_valid_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    const std::string_view inside = host.substr(1, host.size() - 2);
    return !inside.empty() && std::all_of(inside.begin(), inside.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
    });
  }
  return !host.empty() && host.size() <= 253 &&
         std::all_of(host.begin(), host.end(), [](char c) { return is_alnum(c) || c == '.' || c == '-' || c == '_'; });
}

bool is_ssh_user(std::string_view user) {
  return !user.empty() && user.size() <= 32 && user.front() != '-' &&
         std::all_of(user.begin(), user.end(), [](char c) { return is_alnum(c) || c == '.' || c == '-' || c == '_'; });
}

// After "ssh://": [USER@]HOST[:PORT]/PATH, PATH the socket on the LB's host.
std::optional<RuntimeApiAddress> parse_ssh_address(std::string_view rest, std::string* problem) {
  const std::string_view expected = "; expected ssh://[USER@]HOST[:PORT]/PATH, PATH the socket on the LB's host";
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) {
    *problem = std::string("has no socket path") + std::string(expected);
    return std::nullopt;
  }
  RuntimeApiAddress address;
  address.kind = RuntimeApiAddress::Kind::ssh;
  std::string_view authority = rest.substr(0, slash);
  address.path = std::string(rest.substr(slash));
  if (const auto at = authority.find('@'); at != std::string_view::npos) {
    if (!is_ssh_user(authority.substr(0, at))) {
      *problem = std::string("has a bad user name (letters, digits, '.', '_', '-', not first)") +
                 std::string(expected);
      return std::nullopt;
    }
    address.user = std::string(authority.substr(0, at));
    authority.remove_prefix(at + 1);
  }
  // A port after the last ':' outside brackets.
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    const auto port = parse_port(authority.substr(colon + 1));
    if (!port) {
      *problem = std::string("has a bad port (1-65535)") + std::string(expected);
      return std::nullopt;
    }
    address.port = *port;
    authority = authority.substr(0, colon);
  }
  if (!is_valid_host(authority) || authority.front() == '-') {
    *problem = std::string("has a bad host (a name, an IPv4 address or a bracketed IPv6 one)") +
               std::string(expected);
    return std::nullopt;
  }
  address.host = std::string(authority);
  if (address.host.front() == '[') address.host = address.host.substr(1, address.host.size() - 2);
  // The path reaches the far side's shell inside the command: a plain path only.
  if (!is_haproxy_path(address.path)) {
    *problem = std::string("has a socket path with characters other than A-Z a-z 0-9 . _ / -") +
               std::string(expected);
    return std::nullopt;
  }
  return address;
}

}  // namespace

bool is_valid_address(std::string_view text, std::string* problem) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    *problem = "has no port; expected HOST:PORT";
    return false;
  }
  const std::string_view host = text.substr(0, colon);
  if (host.find(':') != std::string_view::npos && host.front() != '[') {
    *problem = "an IPv6 address needs brackets; expected HOST:PORT, like [::1]:8080";
    return false;
  }
  if (!is_valid_host(host)) {
    *problem = "has a bad host; expected HOST:PORT with a host name, an IPv4 address or a bracketed IPv6 one";
    return false;
  }
  if (!parse_port(text.substr(colon + 1))) {
    *problem = "has a bad port; expected HOST:PORT with a port 1-65535";
    return false;
  }
  return true;
}

std::optional<RuntimeApiAddress> parse_runtime_api(std::string_view text, std::string* problem) {
  RuntimeApiAddress address;
  if (text.starts_with("unix:")) {
    address.kind = RuntimeApiAddress::Kind::unix_socket;
    address.path = std::string(text.substr(5));
    if (address.path.empty() || !is_one_line(address.path)) {
      *problem = "has no usable socket path; expected unix:PATH";
      return std::nullopt;
    }
    return address;
  }
  if (text.starts_with("tcp:")) {
    const std::string_view rest = text.substr(4);
    std::string why;
    if (!is_valid_address(rest, &why)) {
      *problem = "is not tcp:HOST:PORT (the address " + why + ")";
      return std::nullopt;
    }
    const auto colon = rest.rfind(':');
    address.kind = RuntimeApiAddress::Kind::tcp;
    address.host = std::string(rest.substr(0, colon));
    address.port = *parse_port(rest.substr(colon + 1));
    return address;
  }
  if (text.starts_with("ssh://")) return parse_ssh_address(text.substr(6), problem);
  if (text.starts_with("tls://")) {
    const std::string_view rest = text.substr(6);
    std::string why;
    if (!is_valid_address(rest, &why)) {
      *problem = "is not tls://HOST:PORT (the address " + why + ")";
      return std::nullopt;
    }
    const auto colon = rest.rfind(':');
    address.kind = RuntimeApiAddress::Kind::tls;
    address.host = std::string(rest.substr(0, colon));
    address.port = *parse_port(rest.substr(colon + 1));
    return address;
  }
  *problem = "is none of unix:PATH, tcp:HOST:PORT, ssh://[USER@]HOST[:PORT]/PATH or tls://HOST:PORT";
  return std::nullopt;
}

std::optional<PortRange> parse_port_range(std::string_view text, std::string* problem) {
  const auto dash = text.find('-');
  const auto first = parse_port(text.substr(0, dash));
  const auto last = dash == std::string_view::npos ? first : parse_port(text.substr(dash + 1));
  if (!first || !last) {
    *problem = "is not a port range; expected \"A-B\" with ports 1-65535";
    return std::nullopt;
  }
  if (*first > *last) {
    *problem = "starts above where it ends; expected \"A-B\" with A <= B";
    return std::nullopt;
  }
  return PortRange{*first, *last};
}

bool is_http_url(std::string_view text) {
  std::string_view rest;
  if (text.starts_with("http://")) rest = text.substr(7);
  else if (text.starts_with("https://")) rest = text.substr(8);
  else return false;
  return !rest.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

bool is_http_path(std::string_view text) {
  return !text.empty() && text.front() == '/' &&
         std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

bool is_plain_file_name(std::string_view text) {
  return !text.empty() && text.size() <= 64 && text != "." && text != ".." &&
         std::all_of(text.begin(), text.end(), [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool is_one_line(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

bool is_haproxy_path(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return is_alnum(c) || c == '.' || c == '_' || c == '/' || c == '-';
  });
}

}  // namespace lbctl::config_detail
