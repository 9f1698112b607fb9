// LoadBalancer: a server's address changed at runtime (`lbctl reconcile`
// puts back the one lbctl left).

#include <fmt/format.h>

#include "pools/load_balancer.hpp"
#include "pools/server.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

asio::awaitable<Result<Applied>> LoadBalancer::ensure_addresses(
    std::vector<std::pair<std::string, std::string>> addresses) {
  auto op = [this, addresses]() { return ensure_addresses_once(addresses); };
  co_return co_await retrying(op);
}

asio::awaitable<Result<Applied>> LoadBalancer::ensure_addresses_once(
    std::vector<std::pair<std::string, std::string>> addresses) {
  std::vector<std::string> names;
  for (const auto& [name, address] : addresses) {
    names.push_back(name);
    if (!parse_address(address)) {
      co_return fail(ErrorKind::invalid, fmt::format("{}: server {}: address is not HOST:PORT; nothing sent", m_name, name));
    }
  }
  if (auto error = check_names(names)) co_return std::unexpected(*error);
  auto state = co_await snapshot();
  if (!state) co_return std::unexpected(state.error());
  std::vector<std::string> commands;
  for (const auto& [name, address] : addresses) {
    const auto* stat = state->stat(name);
    if (stat == nullptr) co_return fail(ErrorKind::conflict, fmt::format("{}: no server {}/{}", m_name, m_backend, name));
    if (stat->address == address) continue;
    const auto host_port = parse_address(address);
    std::string host = host_port->host;  // an IPv6 address goes bare: `addr ::1 port 80`
    std::erase_if(host, [](char c) { return c == '[' || c == ']'; });
    commands.push_back(set_address_command(m_backend, name, host, host_port->port));
  }
  co_return co_await apply(std::move(commands));
}

}  // namespace lbctl::pools
