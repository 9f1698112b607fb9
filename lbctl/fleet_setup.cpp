#include "lbctl/fleet_setup.hpp"

#include "pools/haproxy_socket.hpp"

namespace lbctl {

pools::RuntimeApiEndpoint to_endpoint(const RuntimeApiAddress& address) {
  pools::RuntimeApiEndpoint endpoint;
  if (address.kind == RuntimeApiAddress::Kind::unix_socket) {
    endpoint.kind = pools::RuntimeApiEndpoint::Kind::unix_socket;
    endpoint.path = address.path;
  } else {
    endpoint.kind = pools::RuntimeApiEndpoint::Kind::tcp;
    endpoint.host = address.host;
    endpoint.port = address.port;
  }
  return endpoint;
}

pools::Fleet make_fleet(const Config& config, Clock& clock) {
  std::vector<std::unique_ptr<pools::LoadBalancer>> lbs;
  for (const auto& lb : config.load_balancers) {
    auto api = std::make_shared<pools::SocketRuntimeApi>(to_endpoint(lb.runtime_api), lb.timeout);
    lbs.push_back(std::make_unique<pools::LoadBalancer>(lb.name, lb.backend, std::move(api), clock));
  }
  return pools::Fleet(std::move(lbs));
}

}  // namespace lbctl
