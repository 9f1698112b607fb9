#pragma once
// HAProxy's runtime API (the stats socket), behind an interface: the real one
// talks to a unix or tcp socket, over TLS or over SSH; tests use an in-memory
// HAProxy.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "pools/runtime_api_endpoint.hpp"

namespace lbctl::pools {

// The stats socket answers in prompt mode; the master CLI (`-S`) has its
// own prompt and no severity numbers.
enum class CliDialect { stats, master };

class RuntimeApi {
 public:
  virtual ~RuntimeApi() = default;

  // Sends every command on one connection, in order, and returns each one's
  // answer (HAProxy's text, "[N]: " severity prefixes kept). Commands are
  // single lines the caller has already validated, or a payload command: a
  // first line ending in " <<", then its payload lines (none empty), joined
  // by '\n' (e.g. "add map FILE <<\nkey value"). Fails with
  // `unreachable` when the socket cannot be reached (nothing was sent), and
  // `timeout` when the answers do not all come, in time or at all (the
  // connection broke off): some of the batch may have run.
  virtual boost::asio::awaitable<Result<std::vector<std::string>>> run(std::vector<std::string> commands) = 0;

  // Where it talks to, for messages.
  virtual std::string describe() const = 0;

  // Starts opening, now and without waiting, what the first batch would
  // open anyway (an ssh connection: its handshake then overlaps whatever the
  // caller does before that batch). A failure is left for that batch to meet
  // and report. Nothing to do for a socket.
  virtual void connect_early() {}
};

// The client `endpoint` asks for: SocketRuntimeApi (unix, tcp, tls) or
// SshRuntimeApi (ssh). `timeout` bounds each exchange.
std::shared_ptr<RuntimeApi> make_runtime_api(const RuntimeApiEndpoint& endpoint, std::chrono::milliseconds timeout,
                                             CliDialect dialect = CliDialect::stats);

}  // namespace lbctl::pools
