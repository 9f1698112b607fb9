#pragma once
// The command line of lbctl-app, the app server the demo and the tests run
// behind HAProxy.

#include <cstdint>
#include <expected>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace lbctl::demo_app {

struct AppOptions {
  std::uint16_t port = 0;
  std::filesystem::path dir;
  std::string bind = "127.0.0.1";
  std::string name = "lbctl-app";
  std::string version = "v1";
  std::string health_file = "health-check.html";
  std::string database_url;  // libpq conninfo; empty = no database configured
  unsigned status = 200;     // the answer on every path that is not an endpoint
  // PEM certificate chain and its private key: both set, --port speaks only
  // HTTPS; both empty, only plain HTTP.
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
};

// What the command line asked for: run with options, or print the usage and exit 0.
struct ParsedCommandLine {
  std::optional<AppOptions> options;  // empty when --help was given
};

// Parses argv (without the program name). `database_url_env` is the value of
// LBCTL_APP_DATABASE_URL (nullptr when unset); --db wins over it. On a bad
// argument, returns a message meant for stderr; it never contains the conninfo.
std::expected<ParsedCommandLine, std::string> parse_command_line(std::span<const std::string_view> args,
                                                                  const char* database_url_env);

std::string usage();

inline constexpr std::string_view k_database_url_env = "LBCTL_APP_DATABASE_URL";

}  // namespace lbctl::demo_app
