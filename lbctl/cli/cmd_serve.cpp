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
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/who.hpp"
#include "lbctl/cli/wiring.hpp"
#include "lbctl/cutover/step_table.hpp"
#include "lbctl/serve/http_server.hpp"
#include "lbctl/serve/poller.hpp"

namespace lbctl::cli {

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr const char* k_token_env = "LBCTL_SERVE_TOKEN";
constexpr std::size_t k_min_token = 16;
constexpr std::chrono::milliseconds k_min_interval{200};
constexpr std::chrono::seconds k_poller_grace{10};

struct ServeArgs {
  std::vector<std::string> files;
  std::string listen = "127.0.0.1:8480";
  std::string interval = "1s";
  bool allow_actions = false;
  std::string token_file;
};

// One service: its config, its adapters on the pollers' io_context, what it
// knows. Touched on the pollers' thread only.
struct Service {
  Service(Config c, asio::io_context& io)
      : config(std::move(c)), wiring(config, io), live(config.service, flow_step_names(config)) {}

  Config config;
  Wiring wiring;
  serve::ServiceLive live;
  bool journal_open = false;
  // Between polls; cancelled when serve stops.
  std::optional<asio::steady_timer> timer;
};

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The journal's reads and writes the routes need, run on the pollers' thread.
asio::awaitable<Result<std::vector<db::Event>>> read_events(Service* service, std::int64_t cutover, std::int64_t after,
                                                            std::size_t limit) {
  if (!service->journal_open) co_return fail(ErrorKind::unreachable, "the state database has not answered yet");
  co_return service->wiring.journal().events(cutover, after, limit);
}

asio::awaitable<CutoverOutcome> record(Service* service, Request what, std::string by) {
  if (!service->journal_open) {
    co_return CutoverOutcome{Outcome::unreachable, 0, "the state database has not answered yet"};
  }
  co_return record_request(service->wiring.journal(), service->config.service, what, by, wall_ms());
}

class PollerBackend final : public serve::Backend {
 public:
  PollerBackend(asio::io_context& poll_io, std::map<std::string, Service*> services)
      : m_poll_io(poll_io), m_services(std::move(services)) {}

  asio::awaitable<Result<std::vector<db::Event>>> events(const std::string& service, std::int64_t cutover,
                                                         std::int64_t after, std::size_t limit) override {
    co_return co_await asio::co_spawn(m_poll_io, read_events(m_services.at(service), cutover, after, limit),
                                      asio::use_awaitable);
  }

  asio::awaitable<CutoverOutcome> request(const std::string& service, Request what, const std::string& by) override {
    co_return co_await asio::co_spawn(m_poll_io, record(m_services.at(service), what, by), asio::use_awaitable);
  }

 private:
  asio::io_context& m_poll_io;
  std::map<std::string, Service*> m_services;
};

// Polls `service` every `interval` and hands each result to the hub, until
// `stopping` (set, and the timer cancelled, on the pollers' thread).
asio::awaitable<void> poll_forever(Service* service, serve::Hub* hub, asio::any_io_executor http,
                                   std::chrono::milliseconds interval, bool actions, const bool* stopping) {
  service->timer.emplace(co_await asio::this_coro::executor);
  while (!*stopping) {
    const auto started = std::chrono::steady_clock::now();
    if (!service->journal_open) {
      auto opened = service->wiring.open_journal();
      service->journal_open = opened.has_value();
      if (!opened) {
        auto status = co_await gather_fleet_status(service->config, service->wiring.fleet(), opened.error().message);
        service->live.update(std::move(status), wall_ms());
      }
    }
    if (service->journal_open) {
      co_await serve::poll_service(service->config, service->wiring.fleet(), service->wiring.journal(), service->live,
                                   wall_ms());
      if (!service->live.status().error.empty()) {
        // The journal did not answer (Postgres restarted, failed over): a new connection at the next poll.
        service->wiring.close_journal();
        service->journal_open = false;
      }
    }
    auto snapshot = serve::make_snapshot(service->live, actions);
    asio::post(http, [hub, name = service->config.service, snapshot = std::move(snapshot)]() mutable {
      hub->publish(name, std::move(snapshot));
    });
    if (*stopping) break;
    service->timer->expires_at(started + interval);
    boost::system::error_code ec;
    co_await service->timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

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

// The token from --token-file (its first line) or $LBCTL_SERVE_TOKEN; an
// error message when there is none or it is too short.
std::variant<std::string, std::string> read_token(const ServeArgs& args) {
  using Out = std::variant<std::string, std::string>;
  std::string token;
  std::string from;
  if (!args.token_file.empty()) {
    std::ifstream in(args.token_file);
    if (!in) return Out(std::in_place_index<1>, fmt::format("--token-file {}: cannot be read", args.token_file));
    std::getline(in, token);
    from = "--token-file " + args.token_file;
  } else if (const char* env = std::getenv(k_token_env); env != nullptr) {
    token = env;
    from = std::string("$") + k_token_env;
  } else {
    return Out(std::in_place_index<1>,
               fmt::format("--allow-actions needs a token: --token-file FILE or ${} (never on the command line)",
                           k_token_env));
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) token.pop_back();
  if (token.size() < k_min_token) {
    return Out(std::in_place_index<1>, fmt::format("{}: a token of at least {} characters is needed", from, k_min_token));
  }
  if (token.find_first_of(" \t\"") != std::string::npos) {
    return Out(std::in_place_index<1>, fmt::format("{}: the token must be one word (no blanks or quotes)", from));
  }
  return Out(std::in_place_index<0>, std::move(token));
}

int serve_services(const ServeArgs& args) {
  const auto endpoint = parse_listen(args.listen);
  if (!endpoint) {
    std::cerr << "lbctl serve: --listen " << args.listen << ": expected IP:PORT, e.g. 127.0.0.1:8480 or [::1]:8480\n";
    return k_exit_usage;
  }
  const auto interval = parse_duration(args.interval);
  if (!interval || *interval < k_min_interval) {
    std::cerr << "lbctl serve: --interval " << args.interval << ": expected a duration of at least 200ms, e.g. 1s\n";
    return k_exit_usage;
  }
  std::string token;
  if (args.allow_actions) {
    auto read = read_token(args);
    if (read.index() == 1) {
      std::cerr << "lbctl serve: " << std::get<1>(read) << "\n";
      return k_exit_usage;
    }
    token = std::move(std::get<0>(read));
  } else if (!args.token_file.empty()) {
    std::cerr << "lbctl serve: --token-file is only used with --allow-actions\n";
    return k_exit_usage;
  }
  std::vector<Config> configs;
  std::set<std::string> names;
  for (const auto& file : args.files) {
    configs.push_back(load_config(file));
    if (!names.insert(configs.back().service).second) {
      std::cerr << fmt::format("lbctl serve: {}: service `{}` is already served (by another -c file)\n", file,
                               configs.back().service);
      return k_exit_usage;
    }
  }
  raise_open_file_limit();

  asio::io_context poll_io;
  std::vector<std::unique_ptr<Service>> services;
  std::map<std::string, Service*> by_name;
  std::vector<std::string> order;
  for (auto& config : configs) {
    services.push_back(std::make_unique<Service>(std::move(config), poll_io));
    by_name[services.back()->config.service] = services.back().get();
    order.push_back(services.back()->config.service);
  }

  asio::io_context http_io;
  serve::Hub hub(order, args.allow_actions);
  PollerBackend backend(poll_io, by_name);
  serve::Router router(hub, backend, token, who_runs_this());
  serve::HttpServer server(http_io, router, hub);
  const auto bound = server.listen(*endpoint);
  if (!bound) {
    std::cerr << "lbctl serve: " << bound.error().message << "\n";
    return exit_code_for(bound.error());
  }
  const std::string host = bound->address().is_v6() ? "[" + bound->address().to_string() + "]" : bound->address().to_string();
  std::cout << fmt::format("lbctl serve: {} service{} on http://{}:{}/ (actions {})", order.size(),
                           order.size() == 1 ? "" : "s", host, bound->port(), args.allow_actions ? "on" : "off")
            << std::endl;

  auto work = asio::make_work_guard(poll_io);
  bool stopping = false;  // the pollers' thread reads and writes it
  for (auto& service : services) {
    asio::co_spawn(poll_io,
                   poll_forever(service.get(), &hub, http_io.get_executor(), *interval, args.allow_actions, &stopping),
                   asio::detached);
  }
  std::promise<void> pollers_done;
  auto pollers_ended = pollers_done.get_future();
  std::thread pollers([&poll_io, &pollers_done] {
    poll_io.run();
    pollers_done.set_value();
  });

  // SIGINT/SIGTERM: no new connection, every open one closed, streams
  // ended; run() returns once the last connection's coroutine did.
  asio::signal_set signals(http_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    std::cerr << "lbctl serve: stopping\n";
    server.stop();
  });
  asio::co_spawn(http_io, server.run(), asio::detached);
  http_io.run();
  // The pollers end their poll in flight (an LB's timeout at most), then stop.
  asio::post(poll_io, [&] {
    stopping = true;
    for (auto& service : services) {
      if (service->timer) service->timer->cancel();
    }
  });
  work.reset();
  if (pollers_ended.wait_for(k_poller_grace) != std::future_status::ready) poll_io.stop();
  pollers.join();
  return k_exit_done;
}

}  // namespace

void add_serve_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("serve", "A live web page, Prometheus metrics and a JSON API for every service given");
  auto args = std::make_shared<ServeArgs>();
  command->add_option("-c,--config", args->files, "A config file (YAML); repeat for every service to serve")->required();
  command->add_option("--listen", args->listen, "IP:PORT to listen on (default 127.0.0.1:8480; port 0 picks one)");
  command->add_option("--interval", args->interval,
                      "How often each service's journal and LBs are read, one `show stat` per LB (default 1s)");
  command->add_flag("--allow-actions", args->allow_actions,
                    "Let the page and POST /api/v1/services/NAME/{promote,abort,undo} act, with the token");
  command->add_option("--token-file", args->token_file,
                      "The actions' token: the file's first line (else $LBCTL_SERVE_TOKEN; never on the command line)");
  command->footer(
      "Pages: / and /services/NAME (live, server-sent events). API: /api/v1/services, /api/v1/services/NAME\n"
      "(status --json), .../live, .../history, .../events?since=ID, /api/v1/stream. Metrics: /metrics.\n"
      "Actions: POST with `Authorization: Bearer TOKEN`: 401 without it, 403 without --allow-actions.\n"
      "Exit codes: 0 stopped by SIGINT/SIGTERM; 2 config or usage error; 5 cannot listen.");
  command->callback([&action, args] { action = [args] { return serve_services(*args); }; });
}

}  // namespace lbctl::cli
