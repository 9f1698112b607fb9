#pragma once
// The local provider: servers are processes on this machine, one folder each
// under base_dir (see local_layout.hpp). Servers someone else started in that
// layout are managed the same way.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "pools/local_layout.hpp"
#include "pools/port_picker.hpp"
#include "pools/provider.hpp"

namespace lbctl::pools {

struct LocalProviderOptions {
  // The server's argv (no shell); {port}, {dir}, {name} and {host} are filled
  // in per server.
  std::vector<std::string> command;
  PortRange ports{18300, 18399};
  std::filesystem::path base_dir;
  std::string health_file = "health-check.html";
  // Where the servers listen and are reached: the address is HOST:PORT.
  std::string host = "127.0.0.1";
  // Until a started server's port accepts connections.
  std::chrono::milliseconds start_timeout{10000};
  // SIGTERM, then SIGKILL after this.
  std::chrono::milliseconds stop_grace{5000};
  // How often a starting server's port (or a stopping one's pid) is looked at.
  std::chrono::milliseconds poll_interval{50};
};

class LocalProvider final : public Provider {
 public:
  LocalProvider(LocalProviderOptions options, Clock& clock);

  // Starts the missing servers concurrently, each on a free port of `ports`;
  // a name whose folder has a live pid and an address is returned as it is.
  // A server that exits or does not accept connections within start_timeout
  // is killed and reported with the tail of its log. The servers started
  // before another failed keep running (a repeat finds them).
  boost::asio::awaitable<Result<std::vector<Server>>> clone(std::vector<std::string> names,
                                                            std::optional<Server> template_server) override;
  // SIGTERM, SIGKILL after stop_grace, then removes `pid` and `address`; the
  // folder and its log stay for a post-mortem. No live pid: success. Fails
  // (conflict) when the folder records another address than `server`'s.
  boost::asio::awaitable<Result<void>> terminate(Server server) override;
  // Fails (invalid) when the server has no folder: its health file would be
  // somewhere lbctl cannot see, and HAProxy would never mark it NOLB.
  boost::asio::awaitable<Result<void>> remove_health_file(Server server) override;
  boost::asio::awaitable<Result<void>> restore_health_file(Server server) override;
  // No autoscaler on one machine: both succeed at once.
  boost::asio::awaitable<Result<void>> freeze_scaling() override;
  boost::asio::awaitable<Result<void>> unfreeze_scaling() override;
  Result<void> check() const override;
  std::string kind() const override { return "local"; }

 private:
  boost::asio::awaitable<Result<Server>> start(std::string name, std::uint16_t port);
  boost::asio::awaitable<Result<Server>> await_listening(std::string name, pid_t pid, std::string address,
                                                         bool kill_on_failure);
  boost::asio::awaitable<bool> wait_for_exit(pid_t pid, std::chrono::milliseconds limit);
  Result<ServerDir> server_dir(const std::string& name) const;

  LocalProviderOptions m_options;
  Clock& m_clock;
};

}  // namespace lbctl::pools
