#include "demo_app/options.hpp"

#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <system_error>
#include <unistd.h>

#include "demo_app/database_check.hpp"

namespace lbctl::demo_app {

namespace {

using Failure = std::unexpected<std::string>;

std::optional<unsigned long> parse_number(std::string_view text) {
  unsigned long value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// A percentage from 0 to 100 in millionths of a percent: "2.5" -> 2'500'000. Decimal
// digits read exactly (no double), so --error-percent 0.1 fails exactly 1 in 1000.
std::optional<std::uint32_t> parse_percent(std::string_view text) {
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && fraction.empty()) ||
      fraction.size() > static_cast<std::size_t>(k_error_percent_decimals) ||
      fraction.find_first_not_of("0123456789") != std::string_view::npos || whole.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  const auto percent = parse_number(whole);
  if (!percent || *percent > 100) return std::nullopt;
  std::uint64_t millionths = *percent * std::uint64_t{k_error_percent_scale};
  std::uint64_t unit = k_error_percent_scale;
  for (const char digit : fraction) {
    unit /= 10;
    millionths += static_cast<std::uint64_t>(digit - '0') * unit;
  }
  if (millionths > 100 * std::uint64_t{k_error_percent_scale}) return std::nullopt;
  return static_cast<std::uint32_t>(millionths);
}

// Why `path` cannot be read as a file, or nothing when it can. Checked here so that a
// wrong --tls-cert stops the app at the start, not at its first client.
std::optional<std::string> why_unreadable(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) return ec.message();
  if (!std::filesystem::is_regular_file(status)) return "not a regular file";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::strerror(errno);
  ::close(fd);
  return std::nullopt;
}

// Options that take a value, as given on the command line.
const std::map<std::string_view, std::string_view> k_value_options = {
    {"--port", "N"},          {"--dir", "DIR"},       {"--bind", "ADDRESS"}, {"--name", "NAME"},
    {"--version", "TEXT"},    {"--health-file", "FILE"}, {"--db", "CONNINFO"}, {"--status", "CODE"},
    {"--tls-cert", "FILE"},   {"--tls-key", "FILE"},    {"--error-percent", "N"}, {"--delay-ms", "N"},
};

std::expected<void, std::string> apply(AppOptions& options, std::string_view flag, std::string_view value) {
  if (flag == "--port") {
    const auto port = parse_number(value);
    if (!port || *port < 1 || *port > 65535) return Failure("--port must be a number from 1 to 65535, not '" + std::string(value) + "'");
    options.port = static_cast<std::uint16_t>(*port);
  } else if (flag == "--dir") {
    std::error_code ec;
    if (value.empty() || !std::filesystem::is_directory(value, ec)) return Failure("--dir '" + std::string(value) + "' is not a directory");
    options.dir = value;
  } else if (flag == "--bind") {
    boost::system::error_code ec;
    boost::asio::ip::make_address(std::string(value), ec);
    if (ec) return Failure("--bind must be an IP address, not '" + std::string(value) + "'");
    options.bind = value;
  } else if (flag == "--name") {
    if (value.empty()) return Failure("--name must not be empty");
    options.name = value;
  } else if (flag == "--version") {
    options.version = value;
  } else if (flag == "--health-file") {
    // A bare file name: the server must never serve anything outside its directory.
    if (value.empty() || value == "." || value == ".." || value.find('/') != std::string_view::npos || value.find('\0') != std::string_view::npos)
      return Failure("--health-file must be a file name inside --dir, not '" + std::string(value) + "'");
    options.health_file = value;
  } else if (flag == "--db") {
    options.database_url = value;
  } else if (flag == "--status") {
    const auto status = parse_number(value);
    if (!status || *status < 200 || *status > 599) return Failure("--status must be an HTTP status from 200 to 599, not '" + std::string(value) + "'");
    options.status = static_cast<unsigned>(*status);
  } else if (flag == "--error-percent") {
    const auto millionths = parse_percent(value);
    if (!millionths)
      return Failure("--error-percent must be a percentage from 0 to 100 (like 5 or 2.5, at most " +
                     std::to_string(k_error_percent_decimals) + " decimals), not '" + std::string(value) + "'");
    options.error_percent_millionths = *millionths;
  } else if (flag == "--delay-ms") {
    const auto delay = parse_number(value);
    if (!delay || *delay > static_cast<unsigned long>(k_max_delay.count()))
      return Failure("--delay-ms must be a number of milliseconds from 0 to " + std::to_string(k_max_delay.count()) + ", not '" +
                     std::string(value) + "'");
    options.delay = std::chrono::milliseconds(*delay);
  } else if (flag == "--tls-cert" || flag == "--tls-key") {
    if (const auto problem = why_unreadable(std::string(value)))
      return Failure(std::string(flag) + " '" + std::string(value) + "' cannot be read: " + *problem);
    (flag == "--tls-cert" ? options.tls_cert : options.tls_key) = value;
  }
  return {};
}

}  // namespace

std::string usage() {
  return "usage: lbctl-app --port N --dir DIR [--bind 127.0.0.1] [--name NAME] [--version TEXT]\n"
         "                 [--health-file health-check.html] [--db CONNINFO] [--status CODE]\n"
         "                 [--error-percent N] [--delay-ms N] [--tls-cert FILE --tls-key FILE]\n"
         "\n"
         "Serves GET /<health-file> from DIR (404 when absent), /version, /health/db,\n"
         "/slow?ms=N, and answers --status (default 200) on every other path.\n"
         "On those other paths only (never the health file, /version, /health/db, /slow):\n"
         "  --error-percent N  answer 500 to N% of the requests (0 to 100, default 0; may be\n"
         "                     fractional, like 2.5), spread evenly, not at random: the\n"
         "                     n-th request fails when floor(n*N/100) goes up\n"
         "  --delay-ms N       hold every answer N ms (0 to 60000, default 0) without\n"
         "                     holding up other connections\n"
         "With --tls-cert and --tls-key (PEM certificate chain and its private key),\n"
         "it speaks only HTTPS on --port.\n"
         "The database conninfo may also come from the environment variable LBCTL_APP_DATABASE_URL.\n";
}

std::expected<ParsedCommandLine, std::string> parse_command_line(std::span<const std::string_view> args,
                                                                  const char* database_url_env) {
  AppOptions options;
  std::map<std::string_view, bool> seen;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") return ParsedCommandLine{};
    std::string_view flag = arg;
    std::optional<std::string_view> value;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (!k_value_options.contains(flag)) return Failure("unknown argument '" + std::string(arg) + "'");
    if (!value) {
      if (i + 1 == args.size()) return Failure(std::string(flag) + " needs a value (" + std::string(k_value_options.at(flag)) + ")");
      value = args[++i];
    }
    if (seen[flag]) return Failure(std::string(flag) + " is given twice");
    seen[flag] = true;
    if (auto applied = apply(options, flag, *value); !applied) return Failure(applied.error());
  }
  if (!seen["--port"]) return Failure("--port is required");
  if (!seen["--dir"]) return Failure("--dir is required");
  if (seen["--tls-cert"] != seen["--tls-key"]) return Failure("--tls-cert and --tls-key go together: give both or neither");
  if (!seen["--db"] && database_url_env != nullptr) options.database_url = database_url_env;
  // libpq's parse errors quote pieces of the string, which may hold a password: say only where it came from.
  if (!options.database_url.empty() && !is_valid_conninfo(options.database_url)) {
    return Failure(std::string("the database conninfo from ") + (seen["--db"] ? "--db" : std::string(k_database_url_env)) +
                   " is not a valid libpq connection string (not shown: it may hold a password)");
  }
  return ParsedCommandLine{std::move(options)};
}

}  // namespace lbctl::demo_app
