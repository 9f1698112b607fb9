// `lbctl check -c FILE [--server NAME=HOST:PORT ...] [--json]`: health-checks
// servers the way the cutover's verify step does, until each has passed
// `rise` rounds in a row or `health.deadline` runs out.

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/duration.hpp"
#include "core/names.hpp"
#include "core/run.hpp"
#include "health/address.hpp"
#include "health/curl_prober.hpp"
#include "health/verify.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/fleet_setup.hpp"
#include "lbctl/cli/table.hpp"

namespace lbctl::cli {

namespace {

namespace asio = boost::asio;
using health::Target;
using health::Verdict;

struct CheckOptions {
  std::string file;
  std::vector<std::string> servers;  // NAME=HOST:PORT
  bool json = false;
};

// "web-1=127.0.0.1:8001"; nullopt unless the name is [A-Za-z0-9._-]{1,64}
// and the address is HOST:PORT.
std::optional<Target> parse_server_flag(const std::string& text) {
  const auto equals = text.find('=');
  if (equals == std::string::npos) return std::nullopt;
  Target target{text.substr(0, equals), text.substr(equals + 1)};
  if (!is_valid_name(target.name) || !health::split_host_port(target.address)) return std::nullopt;
  return target;
}

// The old pool: from the config, or the backend's servers on the first LB.
Result<std::vector<Target>> old_pool(const Config& config, asio::io_context& io, Clock& clock) {
  std::vector<Target> targets;
  if (!config.old_pool.discover) {
    for (const auto& server : config.old_pool.servers) targets.push_back({server.name, server.address});
    return targets;
  }
  PosixProcessRunner processes;
  auto fleet = make_fleet(config, clock, processes);
  if (fleet.size() == 0) return fail(ErrorKind::invalid, "no load balancer to discover the old pool from");
  auto stats = run_to_end(io, fleet.at(0).stats());
  if (!stats) return std::unexpected(stats.error());
  for (const auto& server : *stats) targets.push_back({server.name, server.address});
  return targets;
}

// verify(), ended early (every target "stopped") once `stop` is set. The
// signal set lives outside the coroutine, so its handler never outlives it.
asio::awaitable<std::vector<Verdict>> verify_until_stopped(std::vector<Target> targets, health::CheckPolicy policy,
                                                           health::HttpProber& prober, Clock& clock,
                                                           asio::signal_set& signals, std::shared_ptr<bool> stop) {
  // Named, not a temporary: GCC 12 destroys a capturing lambda written inside
  // a co_await expression twice.
  std::function<bool()> should_stop = [stop] { return *stop; };
  auto verdicts = co_await health::verify(std::move(targets), std::move(policy), prober, clock, std::move(should_stop));
  signals.cancel();
  co_return verdicts;
}

void print_json(const std::vector<Verdict>& verdicts, bool all_healthy) {
  nlohmann::json servers = nlohmann::json::array();
  for (const auto& v : verdicts) {
    servers.push_back({{"name", v.name},
                       {"address", v.address},
                       {"healthy", v.healthy},
                       {"passes", v.passes},
                       {"reason", v.reason},
                       {"elapsed_ms", v.elapsed.count()}});
  }
  // One object on one line: valid JSON as a whole and as JSON lines.
  std::cout << nlohmann::json{{"healthy", all_healthy}, {"servers", std::move(servers)}}.dump() << "\n";
}

void print_human(const std::vector<Verdict>& verdicts, const health::CheckPolicy& policy) {
  const auto passes = [&](const Verdict& v) { return fmt::format("{}/{}", v.passes, policy.rise); };
  std::size_t healthy = 0;
  if (stdout_is_terminal()) {
    Table table({"SERVER", "ADDRESS", "VERDICT", "PASSES", "TIME", "REASON"});
    for (const auto& v : verdicts) {
      table.add({v.name, v.address, v.healthy ? "healthy" : "unhealthy", passes(v), format_seconds(v.elapsed),
                 v.healthy ? "-" : v.reason});
    }
    std::cout << table.render();
  } else {
    for (const auto& v : verdicts) {
      std::cout << fmt::format("{} {}: {} ({} passes, {}){}\n", v.name, v.address, v.healthy ? "healthy" : "unhealthy",
                               passes(v), format_seconds(v.elapsed), v.healthy ? "" : ": " + v.reason);
    }
  }
  for (const auto& v : verdicts) healthy += v.healthy ? 1 : 0;
  std::cout << fmt::format("{} of {} servers healthy\n", healthy, verdicts.size());
}

int run_check(const CheckOptions& options) {
  std::vector<Target> targets;
  for (const auto& text : options.servers) {
    auto target = parse_server_flag(text);
    if (!target) {
      std::cerr << fmt::format("lbctl check: bad --server '{}': expected NAME=HOST:PORT, NAME from [A-Za-z0-9._-]\n",
                               text);
      return k_exit_usage;
    }
    targets.push_back(std::move(*target));
  }
  const Config config = load_config(options.file);
  const health::CheckPolicy policy = config.health;
  asio::io_context io;
  SteadyClock clock;
  if (targets.empty()) {
    auto pool = old_pool(config, io, clock);
    if (!pool) {
      std::cerr << "lbctl check: cannot read the old pool: " << pool.error().message << "\n";
      return pool.error().kind == ErrorKind::invalid ? k_exit_usage : k_exit_unreachable;
    }
    targets = std::move(*pool);
  }
  if (targets.empty()) {
    std::cerr << "lbctl check: no servers to check\n";
    return k_exit_failed;
  }
  if (!options.json && stdout_is_terminal()) {
    std::cerr << fmt::format("checking {} servers: GET {} every {} until {} passes in a row (deadline {})\n",
                             targets.size(), policy.path, format_duration(policy.interval), policy.rise,
                             format_duration(policy.deadline));
  }
  // Ctrl-C or SIGTERM: stop checking and report what is known.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  auto stop = std::make_shared<bool>(false);
  signals.async_wait([stop](const boost::system::error_code& ec, int) {
    if (!ec) *stop = true;
  });
  std::vector<Verdict> verdicts;
  {
    health::CurlProber prober(io, policy.tls);
    verdicts = run_to_end(io, verify_until_stopped(std::move(targets), policy, prober, clock, signals, stop));
  }
  const bool all_healthy = std::all_of(verdicts.begin(), verdicts.end(), [](const Verdict& v) { return v.healthy; });
  if (options.json) print_json(verdicts, all_healthy);
  else print_human(verdicts, policy);
  return all_healthy ? k_exit_done : k_exit_failed;
}

}  // namespace

void add_check_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("check", "Health-check servers until each passes `rise` times in a row");
  auto options = std::make_shared<CheckOptions>();
  command->add_option("-c,--config", options->file, "The config file (YAML)")->required();
  command->add_option("--server", options->servers,
                      "NAME=HOST:PORT to check (repeatable); default: the old pool (from the first LB when discovered)");
  command->add_flag("--json", options->json, "One JSON object instead of a table");
  command->footer(
      "Exit codes: 0 every server healthy; 1 a server is not healthy (or there is none to check); 2 usage or config "
      "error; 5 the first load balancer did not answer while discovering the old pool.");
  command->callback([&action, options] {
    action = [options] { return run_check(*options); };
  });
}

}  // namespace lbctl::cli
