#pragma once
// The command line of lbctl-app, the app server the demo and the tests run
// behind HAProxy.

#include <chrono>
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
  // Faults on those same ordinary paths (never on the endpoints, so HAProxy's
  // health check keeps passing). --error-percent, in millionths of a percent
  // (2.5 -> 2'500'000): exact, so that share of them is answered 500.
  std::uint32_t error_percent_millionths = 0;
  std::chrono::milliseconds delay{0};  // --delay-ms: held this long before the answer
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

inline constexpr std::uint32_t k_error_percent_scale = 1'000'000;  // units of error_percent_millionths per percent
inline constexpr int k_error_percent_decimals = 6;                 // so at most 6 decimals
inline constexpr std::chrono::milliseconds k_max_delay{60'000};

inline constexpr std::string_view k_database_url_env = "LBCTL_APP_DATABASE_URL";

}  // namespace lbctl::demo_app
