// `lbctl serve -c FILE [-c FILE ...] [--listen 127.0.0.1:8480]`: the live
// page, /metrics and /api/v1 for every service given. The pollers (one per
// service, each with its own fleet and journal connection) run on a thread
// of their own, so a slow journal never stalls a page; the HTTP side answers
// from what they last published. Actions (promote, abort, undo) only with
// --allow-actions and a token from a file or the environment.

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <fstream>
#include <future>
#include <optional>
#include <iostream>
#include <set>
#include <thread>

#include "core/duration.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/cli/config_lookup.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/serve_pollers.hpp"
#include "lbctl/cli/who.hpp"
#include "lbctl/cli/wiring.hpp"
#include "lbctl/cutover/step_table.hpp"
#include "lbctl/serve/http_server.hpp"
#include "lbctl/serve/log.hpp"
#include "lbctl/serve/poller.hpp"
#include "lbctl/serve/shared_reads.hpp"
#include "lbctl/serve/tls.hpp"

namespace lbctl::cli {

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr const char* k_token_env = "LBCTL_SERVE_TOKEN";
constexpr std::size_t k_min_token = 16;
constexpr std::chrono::milliseconds k_min_interval{200};

struct ServeArgs {
  std::vector<std::string> files;
  std::string listen = "127.0.0.1:8480";
  std::string interval = "1s";
  bool allow_actions = false;
  std::string token_file;
  std::string tls_cert;
  std::string tls_key;
  bool insecure_plain_http = false;
  std::vector<std::string> allow_hosts;
  serve::HttpLimits limits;
  std::string header_timeout = "10s";
  std::string write_timeout = "30s";
};

std::optional<asio::ip::tcp::endpoint> parse_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  unsigned port = 0;
  const std::string digits = text.substr(colon + 1);
  if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  port = static_cast<unsigned>(std::stoul(digits));
  if (port > 65535) return std::nullopt;
  return asio::ip::tcp::endpoint(address, static_cast<unsigned short>(port));
}

// The token from --token-file (its first line) or $LBCTL_SERVE_TOKEN;
// invalid when there is none, it is too short or not one word.
Result<std::string> read_token(const ServeArgs& args) {
  std::string token;
  std::string from;
  if (!args.token_file.empty()) {
    std::ifstream in(args.token_file);
    if (!in) return fail(ErrorKind::invalid, fmt::format("--token-file {}: cannot be read", args.token_file));
    std::getline(in, token);
    from = "--token-file " + args.token_file;
  } else if (const char* env = std::getenv(k_token_env); env != nullptr) {
    token = env;
    from = std::string("$") + k_token_env;
  } else {
    return fail(ErrorKind::invalid,
                fmt::format("--allow-actions needs a token: --token-file FILE or ${} (never on the command line)",
                            k_token_env));
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) token.pop_back();
  if (token.size() < k_min_token) {
    return fail(ErrorKind::invalid, fmt::format("{}: a token of at least {} characters is needed", from, k_min_token));
  }
  if (token.find_first_of(" \t\"") != std::string::npos) {
    return fail(ErrorKind::invalid, fmt::format("{}: the token must be one word (no blanks or quotes)", from));
  }
  return token;
}

// A DNS name as a Host header would carry it.
bool is_host_name(const std::string& name) {
  return !name.empty() && name.size() <= 253 && name.front() != '-' && name.front() != '.' &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == std::string::npos;
}

// What serve's network side is: TLS or not, the names it answers to, its
// limits; a message (exit 2) when the options do not make a safe whole.
std::optional<std::string> check_network(const ServeArgs& args, const asio::ip::tcp::endpoint& endpoint) {
  if (args.tls_cert.empty() != args.tls_key.empty()) return "--tls-cert and --tls-key go together";
  if (!endpoint.address().is_loopback() && args.tls_cert.empty() && !args.insecure_plain_http) {
    return fmt::format("--listen {}: not a loopback address, and without TLS the pages, the events (hook output "
                       "among them) and the actions' token would cross the network in clear; give --tls-cert and "
                       "--tls-key, or --insecure-plain-http to accept that",
                       args.listen);
  }
  for (const auto& name : args.allow_hosts) {
    if (!is_host_name(name)) return fmt::format("--allow-host {}: expected a host name (letters, digits, '.', '-')", name);
  }
  const auto& c = args.limits.connections;
  if (c.connections < 1 || c.connections_per_client < 1 || c.streams < 1 || c.streams_per_client < 1) {
    return "--max-connections, --max-connections-per-client, --max-streams and --max-streams-per-client must be at least 1";
  }
  return std::nullopt;
}

// SIGHUP: the certificate and key read again; the old ones stay when they fail.
void reload_tls_on_hangup(asio::signal_set& hangup, serve::HttpServer& server, const ServeArgs& args) {
  hangup.async_wait([&hangup, &server, &args](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (auto tls = serve::load_tls(args.tls_cert, args.tls_key)) {
      server.use_tls(std::move(*tls));
      serve::log_info("TLS certificate and key loaded again");
    } else {
      serve::log_warning("SIGHUP: " + tls.error().message + "; still using the previous ones");
    }
    reload_tls_on_hangup(hangup, server, args);
  });
}

// A duration option of at least 200ms.
Result<std::chrono::milliseconds> duration_option(std::string_view option, const std::string& text,
                                                  std::string_view example) {
  const auto value = parse_duration(text);
  if (!value || *value < k_min_interval) {
    return fail(ErrorKind::invalid,
                fmt::format("{} {}: expected a duration of at least 200ms, e.g. {}", option, text, example));
  }
  return *value;
}

// What the options say, checked: every error is a usage error (exit 2).
struct ServeSettings {
  asio::ip::tcp::endpoint endpoint;
  std::chrono::milliseconds interval{};
  serve::HttpLimits limits;
  std::shared_ptr<asio::ssl::context> tls;
  std::string token;
};

Result<ServeSettings> settle(const ServeArgs& args) {
  ServeSettings settings;
  const auto endpoint = parse_listen(args.listen);
  if (!endpoint) {
    return fail(ErrorKind::invalid,
                fmt::format("--listen {}: expected IP:PORT, e.g. 127.0.0.1:8480 or [::1]:8480", args.listen));
  }
  settings.endpoint = *endpoint;
  if (const auto problem = check_network(args, *endpoint)) return fail(ErrorKind::invalid, *problem);
  settings.limits = args.limits;
  auto header_timeout = duration_option("--header-timeout", args.header_timeout, "10s");
  if (!header_timeout) return std::unexpected(header_timeout.error());
  settings.limits.header_timeout = *header_timeout;
  auto write_timeout = duration_option("--write-timeout", args.write_timeout, "30s");
  if (!write_timeout) return std::unexpected(write_timeout.error());
  settings.limits.write_timeout = *write_timeout;
  auto interval = duration_option("--interval", args.interval, "1s");
  if (!interval) return std::unexpected(interval.error());
  settings.interval = *interval;
  if (!args.tls_cert.empty()) {
    auto tls = serve::load_tls(args.tls_cert, args.tls_key);
    if (!tls) return std::unexpected(tls.error());
    settings.tls = std::move(*tls);
  }
  if (args.allow_actions) {
    auto token = read_token(args);
    if (!token) return std::unexpected(token.error());
    settings.token = std::move(*token);
  } else if (!args.token_file.empty()) {
    return fail(ErrorKind::invalid, "--token-file is only used with --allow-actions");
  }
  return settings;
}

// Every file's config, each service once; a message when one is given twice.
Result<std::vector<Config>> load_configs(const std::vector<std::string>& files) {
  std::vector<Config> configs;
  std::set<std::string> names;
  for (const auto& file : files) {
    configs.push_back(load_config(file));
    if (!names.insert(configs.back().service).second) {
      return fail(ErrorKind::invalid, fmt::format("{}: service `{}` is already served (by another -c file)", file,
                                                  configs.back().service));
    }
  }
  return configs;
}

void announce(const asio::ip::tcp::endpoint& bound, std::size_t services, bool tls, bool actions) {
  const auto& address = bound.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  std::cout << fmt::format("lbctl serve: {} service{} on {}://{}:{}/ (actions {})", services, services == 1 ? "" : "s",
                           tls ? "https" : "http", host, bound.port(), actions ? "on" : "off")
            << std::endl;
}

int serve_services(const ServeArgs& args) {
  auto settings = settle(args);
  if (!settings) {
    serve::log_error(settings.error().message);
    return k_exit_usage;
  }
  auto configs = load_configs(expand_config_folders(args.files));
  if (!configs) {
    serve::log_error(configs.error().message);
    return k_exit_usage;
  }
  raise_open_file_limit();

  Pollers pollers;
  std::vector<std::unique_ptr<Service>> services;
  std::map<std::string, Service*> by_name;
  std::vector<std::string> order;
  for (auto& config : *configs) {
    services.push_back(std::make_unique<Service>(std::move(config), pollers.io(), pollers.reads()));
    by_name[services.back()->config.service] = services.back().get();
    order.push_back(services.back()->config.service);
  }
  asio::io_context http_io;
  serve::Hub hub(order, args.allow_actions);
  PollerBackend backend(pollers.io(), by_name);
  serve::Router router(hub, backend, settings->token, who_runs_this(),
                       serve::HostAllowList(settings->endpoint.address().is_loopback(), args.allow_hosts));
  serve::HttpServer server(http_io, router, hub, settings->limits);
  if (settings->tls) server.use_tls(settings->tls);
  const auto bound = server.listen(settings->endpoint);
  if (!bound) {
    serve::log_error(bound.error().message);
    return exit_code_for(bound.error());
  }
  announce(*bound, order.size(), settings->tls != nullptr, args.allow_actions);
  pollers.start(services, hub, http_io.get_executor(), settings->interval, args.allow_actions);

  // SIGINT/SIGTERM: no new connection, every open one closed, streams
  // ended; run() returns once the last connection's coroutine did.
  asio::signal_set signals(http_io, SIGINT, SIGTERM);
  asio::signal_set hangup(http_io);
  if (settings->tls) {
    hangup.add(SIGHUP);
    reload_tls_on_hangup(hangup, server, args);
  }
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    serve::log_info("stopping");
    hangup.cancel();
    server.stop();
  });
  asio::co_spawn(http_io, server.run(), asio::detached);
  http_io.run();
  pollers.stop();
  return k_exit_done;
}

}  // namespace

void add_serve_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("serve", "A live web page, Prometheus metrics and a JSON API for every service given");
  auto args = std::make_shared<ServeArgs>();
  command->add_option("-c,--config", args->files, "A config file (YAML), or a folder of them; repeat for every service to serve")->required();
  command->add_option("--listen", args->listen, "IP:PORT to listen on (default 127.0.0.1:8480; port 0 picks one)");
  command->add_option("--interval", args->interval,
                      "How often each service's journal and LBs are read, one `show stat` per LB (default 1s)");
  command->add_flag("--allow-actions", args->allow_actions,
                    "Let the page and POST /api/v1/services/NAME/{promote,abort,undo} act, with the token");
  command->add_option("--token-file", args->token_file,
                      "The actions' token: the file's first line (else $LBCTL_SERVE_TOKEN; never on the command line)");
  command->add_option("--tls-cert", args->tls_cert,
                      "Serve https: the certificate chain (PEM); SIGHUP loads it and the key again");
  command->add_option("--tls-key", args->tls_key, "Serve https: the certificate's private key (PEM)");
  command->add_flag("--insecure-plain-http", args->insecure_plain_http,
                    "Allow plain http on a non-loopback --listen (pages and the token then cross the network in clear)");
  command->add_option("--allow-host", args->allow_hosts,
                      "A Host name the page is reached by (repeat); loopback names and IP addresses need none");
  command->add_option("--max-connections", args->limits.connections.connections,
                      "Connections held at once (default 512); past it the oldest idle one goes, else 503");
  command->add_option("--max-connections-per-client", args->limits.connections.connections_per_client,
                      "Connections held at once from one address (default 64)");
  command->add_option("--max-streams", args->limits.connections.streams,
                      "Event streams at once (default 128); past it, 503");
  command->add_option("--max-streams-per-client", args->limits.connections.streams_per_client,
                      "Event streams at once from one address (default 16)");
  command->add_option("--header-timeout", args->header_timeout,
                      "How long a request's header may take to arrive, idle waits included (default 10s)");
  command->add_option("--write-timeout", args->write_timeout,
                      "How long one write may wait for a client that does not read, a stream's included (default 30s)");
  command->footer(
      "Pages: / and /services/NAME (live, server-sent events). API: /api/v1/services, /api/v1/services/NAME\n"
      "(status --json), .../live, .../history, .../events?since=ID, /api/v1/stream. Metrics: /metrics.\n"
      "Actions: POST with `Authorization: Bearer TOKEN`: 401 without it, 403 without --allow-actions, 429 after\n"
      "repeated wrong tokens from one address. A Host header serve does not answer to: 421.\n"
      "Exit codes: 0 stopped by SIGINT/SIGTERM; 2 config or usage error (a non-loopback --listen without TLS\n"
      "or --insecure-plain-http among them); 5 cannot listen.");
  command->callback([&action, args] { action = [args] { return serve_services(*args); }; });
}

}  // namespace lbctl::cli
