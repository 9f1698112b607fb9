#pragma once
// The text formats a config value may take, checked without YAML: each
// parser returns nullopt with the problem in words (never echoing the input,
// so a caller decides whether it may be shown).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lbctl/config/config.hpp"

namespace lbctl::config_detail {

// "unix:PATH", "tcp:HOST:PORT", "ssh://[USER@]HOST[:PORT]/PATH" or
// "tls://HOST:PORT"; a unix path is kept as written (not resolved).
std::optional<RuntimeApiAddress> parse_runtime_api(std::string_view text, std::string* problem);

// "HOST:PORT": a host name, an IPv4 address or a bracketed IPv6 one, and a port 1-65535.
bool is_valid_address(std::string_view text, std::string* problem);

struct PortRange {
  std::uint16_t min = 0;
  std::uint16_t max = 0;
};
// "A-B" with 1 <= A <= B <= 65535, or one port "A".
std::optional<PortRange> parse_port_range(std::string_view text, std::string* problem);

// http:// or https://, something after it, and no space or control character.
bool is_http_url(std::string_view text);

// An HTTP request path: starts with '/', printable ASCII without spaces.
bool is_http_path(std::string_view text);

// A file name with no folder: [A-Za-z0-9._-]{1,64}, not "." or "..".
bool is_plain_file_name(std::string_view text);

// Printable text on one line (no control characters): safe inside one
// runtime API command once HAProxy's own escaping is applied.
bool is_one_line(std::string_view text);

// A path as HAProxy knows it, written into runtime API commands: [A-Za-z0-9._/-]+.
bool is_haproxy_path(std::string_view text);

}  // namespace lbctl::config_detail
