#include "pools/runtime_api.hpp"

#include "pools/haproxy_socket.hpp"
#include "pools/ssh_runtime_api.hpp"

namespace lbctl::pools {

std::shared_ptr<RuntimeApi> make_runtime_api(const RuntimeApiEndpoint& endpoint, std::chrono::milliseconds timeout,
                                             CliDialect dialect) {
  if (endpoint.kind == RuntimeApiEndpoint::Kind::ssh) return std::make_shared<SshRuntimeApi>(endpoint, timeout, dialect);
  return std::make_shared<SocketRuntimeApi>(endpoint, timeout, dialect);
}

}  // namespace lbctl::pools
