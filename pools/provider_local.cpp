#include "pools/provider_check.hpp"
#include "pools/provider_local.hpp"

#include <csignal>
#include <ctime>
#include <fmt/format.h>
#include <unistd.h>
#include <fstream>
#include <set>

#include "core/async.hpp"
#include "core/duration.hpp"
#include "core/process.hpp"
#include "pools/clone_output.hpp"
#include "pools/placeholders.hpp"
#include "pools/tcp_probe.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// How long a SIGKILLed process may take to disappear: SIGKILL cannot be
// ignored, but a process in the middle of a disk write, or torn down on a
// starved machine, can take a while (seen: over 5 s, two cores under the full
// test suite). A process gone sooner ends the wait sooner.
constexpr std::chrono::milliseconds k_kill_wait = 30s;
constexpr std::chrono::milliseconds k_probe_timeout = 1s;

std::string host_port(const std::string& host, std::uint16_t port) {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string without_brackets(const std::string& host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

std::string log_excerpt(const ServerDir& dir) {
  const std::string tail = dir.log_tail();
  if (tail.empty()) return fmt::format("its log {} is empty", dir.log_file().string());
  return fmt::format("its log {} ends:\n{}", dir.log_file().string(), tail);
}

// A line before each start, so a restarted server's log says where its new
// run begins.
void mark_log(const ServerDir& dir, const std::string& address) {
  std::ofstream log(dir.log_file(), std::ios::app);
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  log << fmt::format("--- lbctl: starting {} on {} at {}\n", dir.name(), address, stamp);
}

void signal_process(pid_t pid, bool group, int signal) { ::kill(group ? -pid : pid, signal); }

}  // namespace

LocalProvider::LocalProvider(LocalProviderOptions options, Clock& clock) : m_options(std::move(options)), m_clock(clock) {}

Result<ServerDir> LocalProvider::server_dir(const std::string& name) const {
  if (!is_valid_server_dir_name(name)) {
    return fail(ErrorKind::invalid, fmt::format("local provider: {} is not a server name; expected 1-64 of [A-Za-z0-9._-]",
                                                quote_for_message(name)));
  }
  return ServerDir(m_options.base_dir, name, m_options.health_file);
}

asio::awaitable<Result<std::vector<Server>>> LocalProvider::clone(std::vector<std::string> names,
                                                                  std::optional<Server> /*template_server*/) {
  if (m_options.command.empty()) co_return fail(ErrorKind::invalid, "local provider: no command to start servers with");
  std::set<std::string> seen;
  std::set<std::string> to_start;
  // For each name: the pid and address of a server that runs already.
  std::vector<std::optional<std::pair<pid_t, std::string>>> running(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto dir = server_dir(names[i]);
    if (!dir) co_return std::unexpected(dir.error());
    if (!seen.insert(names[i]).second) {
      co_return fail(ErrorKind::invalid, fmt::format("local provider: {} asked for twice", names[i]));
    }
    const auto pid = dir->live_pid();
    const auto address = dir->address();
    if (pid && address && parse_address(*address)) {
      running[i].emplace(*pid, *address);
    } else if (pid) {
      co_return fail(ErrorKind::conflict,
                     fmt::format("local provider: {} runs as pid {} but {} holds no HOST:PORT; stop it or write its "
                                 "address there",
                                 names[i], *pid, dir->address_file().string()));
    } else {
      to_start.insert(names[i]);
    }
  }
  const std::string host = m_options.host;
  auto ports = pick_ports(m_options.ports, to_start.size(), recorded_ports(m_options.base_dir, to_start),
                          [host](std::uint16_t port) { return can_bind(host, port); });
  if (!ports) co_return std::unexpected(ports.error().with_context("local provider"));

  std::vector<asio::awaitable<Result<Server>>> tasks;
  std::size_t next_port = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (running[i]) {
      tasks.push_back(await_listening(names[i], running[i]->first, running[i]->second, false));
    } else {
      tasks.push_back(start(names[i], (*ports)[next_port++]));
    }
  }
  auto results = co_await when_all(std::move(tasks));

  std::vector<Server> servers;
  std::vector<std::string> failures;
  std::optional<ErrorKind> first_kind;
  for (auto& result : results) {
    if (result) {
      servers.push_back(std::move(*result));
      continue;
    }
    if (!first_kind) first_kind = result.error().kind;
    failures.push_back(result.error().message);
  }
  if (first_kind) co_return fail(*first_kind, fmt::format("local provider: {}", fmt::join(failures, "\n")));
  co_return servers;
}

asio::awaitable<Result<Server>> LocalProvider::start(std::string name, std::uint16_t port) {
  const ServerDir dir(m_options.base_dir, name, m_options.health_file);
  const std::string address = host_port(m_options.host, port);
  if (auto ok = dir.ensure_health_file(); !ok) co_return std::unexpected(ok.error().with_context(name));
  dir.forget_process();
  // The address first: it reserves the port for other lbctl runs picking now.
  if (auto ok = dir.write_address(address); !ok) co_return std::unexpected(ok.error().with_context(name));
  Placeholders values;
  values.emplace_back("port", std::to_string(port));
  values.emplace_back("dir", dir.path().string());
  values.emplace_back("name", name);
  values.emplace_back("host", m_options.host);
  add_release(values);
  const auto argv = expand_argv(m_options.command, values);
  if (!argv) {
    dir.forget_process();
    co_return std::unexpected(argv.error().with_context(name));
  }
  mark_log(dir, address);
  const auto pid = start_detached(*argv, dir.path(), dir.log_file());
  if (!pid) {
    dir.forget_process();
    co_return std::unexpected(pid.error().with_context(name));
  }
  if (auto ok = dir.write_pid(*pid); !ok) {
    signal_process(*pid, true, SIGKILL);
    co_await wait_for_exit(*pid, k_kill_wait);
    dir.forget_process();
    co_return std::unexpected(ok.error().with_context(name));
  }
  co_return co_await await_listening(name, *pid, address, true);
}

asio::awaitable<Result<Server>> LocalProvider::await_listening(std::string name, pid_t pid, std::string address,
                                                               bool kill_on_failure) {
  const ServerDir dir(m_options.base_dir, name, m_options.health_file);
  const auto target = parse_address(address);
  if (!target) co_return fail(ErrorKind::invalid, fmt::format("{}: address {} is not HOST:PORT", name, address));
  const std::string host = without_brackets(target->host);
  const auto deadline = m_clock.now() + m_options.start_timeout;
  for (;;) {
    // Alive after connecting too, and the listener its own: the answer must
    // come from our process, not from whoever took the port meanwhile (seen:
    // another test's HAProxy bound it while a sanitized server was starting).
    if (co_await accepts_connections(host, target->port, k_probe_timeout) && process_alive(pid) &&
        listener_is_ours(pid, target->port)) {
      co_return Server{name, address};
    }
    if (!process_alive(pid)) {
      dir.forget_process();
      co_return fail(ErrorKind::refused, fmt::format("{} (pid {}) exited before accepting connections on {}; {}", name,
                                                     pid, address, log_excerpt(dir)));
    }
    if (m_clock.now() >= deadline) break;
    co_await m_clock.sleep_for(m_options.poll_interval);
  }
  std::string action = "left running";
  if (kill_on_failure) {
    signal_process(pid, leads_process_group(pid), SIGKILL);
    co_await wait_for_exit(pid, k_kill_wait);
    dir.forget_process();
    action = "killed";
  }
  co_return fail(ErrorKind::timeout, fmt::format("{} (pid {}) did not accept connections on {} within {} ({}); {}", name,
                                                 pid, address, format_duration(m_options.start_timeout), action,
                                                 log_excerpt(dir)));
}

asio::awaitable<bool> LocalProvider::wait_for_exit(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = m_clock.now() + limit;
  while (process_alive(pid)) {
    if (m_clock.now() >= deadline) co_return false;
    co_await m_clock.sleep_for(m_options.poll_interval);
  }
  co_return true;
}

asio::awaitable<Result<void>> LocalProvider::terminate(Server server) {
  auto dir = server_dir(server.name);
  if (!dir) co_return std::unexpected(dir.error());
  const auto pid = dir->live_pid();
  if (!pid) {
    dir->forget_process();
    co_return Result<void>{};
  }
  // The name is the key here; a different recorded address means the server
  // lbctl means is not the process in this folder, and a kill cannot be undone.
  if (const auto recorded = dir->address(); recorded && !server.address.empty() && *recorded != server.address) {
    co_return fail(ErrorKind::conflict, fmt::format("local provider: {} is {} but {} records {}; not terminating pid {}",
                                                    server.name, server.address, dir->address_file().string(),
                                                    *recorded, *pid));
  }
  const bool group = leads_process_group(*pid);
  signal_process(*pid, group, SIGTERM);
  bool gone = co_await wait_for_exit(*pid, m_options.stop_grace);
  if (!gone) {
    signal_process(*pid, group, SIGKILL);
    gone = co_await wait_for_exit(*pid, k_kill_wait);
  }
  if (!gone) {
    co_return fail(ErrorKind::timeout, fmt::format("local provider: {} (pid {}) still runs {} after SIGKILL", server.name,
                                                   *pid, format_duration(k_kill_wait)));
  }
  // What the server started in its group and left behind goes too (a pgid
  // is not reused while any member lives, so this reaches only those).
  if (group) ::kill(-*pid, SIGKILL);
  dir->forget_process();
  co_return Result<void>{};
}

asio::awaitable<Result<void>> LocalProvider::remove_health_file(Server server) {
  auto dir = server_dir(server.name);
  if (!dir) co_return std::unexpected(dir.error());
  std::error_code ec;
  if (!fs::is_directory(dir->path(), ec)) {
    co_return fail(ErrorKind::invalid, fmt::format("local provider: {} has no folder {}, so no health file lbctl can remove",
                                                   server.name, dir->path().string()));
  }
  fs::remove(dir->health_file(), ec);
  if (ec) {
    co_return fail(ErrorKind::refused,
                   fmt::format("local provider: cannot remove {}: {}", dir->health_file().string(), ec.message()));
  }
  co_return Result<void>{};
}

asio::awaitable<Result<void>> LocalProvider::restore_health_file(Server server) {
  auto dir = server_dir(server.name);
  if (!dir) co_return std::unexpected(dir.error());
  std::error_code ec;
  if (!fs::is_directory(dir->path(), ec)) {
    co_return fail(ErrorKind::invalid, fmt::format("local provider: {} has no folder {}, so no health file lbctl can restore",
                                                   server.name, dir->path().string()));
  }
  if (auto ok = dir->ensure_health_file(); !ok) co_return std::unexpected(ok.error().with_context("local provider"));
  co_return Result<void>{};
}

asio::awaitable<Result<void>> LocalProvider::freeze_scaling() { co_return Result<void>{}; }

asio::awaitable<Result<void>> LocalProvider::unfreeze_scaling() { co_return Result<void>{}; }

Result<void> LocalProvider::check() const {
  if (auto program = check_program(m_options.command, "provider.command"); !program) return program;
  // The folder, or the nearest existing folder above it, must be writable:
  // checked without creating anything.
  fs::path dir = m_options.base_dir;
  std::error_code ec;
  while (!dir.empty() && !fs::exists(dir, ec)) dir = dir.parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec) || ::access(dir.c_str(), W_OK | X_OK) != 0) {
    return fail(ErrorKind::refused, "provider.base_dir: cannot create or write " + m_options.base_dir.string() +
                                        " (" + dir.string() + " is not a writable folder)");
  }
  return {};
}

}  // namespace lbctl::pools
