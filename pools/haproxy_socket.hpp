#pragma once
// The real runtime API client: Boost.Asio, unix, tcp or mutual TLS (to a
// `listen` section in front of the socket: configs/haproxy-tls-cli.cfg), one
// connection per batch in HAProxy's interactive (prompt) mode so a batch of any size gets
// one answer per command. One batch at a time: an lbctl process holds at
// most one of the stats socket's connections (10 unless `stats maxconn`
// says otherwise) per LB, so it never takes the slots others need.

#include <functional>
#include <memory>
#include <string_view>

#include "core/async_mutex.hpp"
#include "pools/prompt_mode.hpp"
#include "pools/runtime_api.hpp"

namespace boost::asio::ssl {
class context;
}

namespace lbctl::pools {

class SocketRuntimeApi final : public RuntimeApi {
 public:
  SocketRuntimeApi(RuntimeApiEndpoint endpoint, std::chrono::milliseconds timeout,
                   CliDialect dialect = CliDialect::stats);
  ~SocketRuntimeApi() override;

  boost::asio::awaitable<Result<std::vector<std::string>>> run(std::vector<std::string> commands) override;
  std::string describe() const override { return m_endpoint.to_string(); }

 private:
  boost::asio::awaitable<Result<void>> exchange(std::string request, std::function<bool(std::string_view)> on_data,
                                                bool until_eof);
  boost::asio::awaitable<Result<std::vector<std::string>>> run_one_per_connection(std::vector<std::string> commands);

  RuntimeApiEndpoint m_endpoint;
  std::chrono::milliseconds m_timeout;
  CliDialect m_dialect;
  // tls: the client's context (the CA, lbctl's certificate and key), or why
  // it could not be made (every run then fails with it).
  std::shared_ptr<boost::asio::ssl::context> m_tls;
  std::string m_tls_problem;
  bool m_reached = false;  // an exchange has succeeded: later failures may be passing
  AsyncMutex m_one_at_a_time;
};

}  // namespace lbctl::pools
