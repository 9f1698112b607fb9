#pragma once
// The HTTP/1.1 server of lbctl-app: one thread, one io_context, a coroutine per
// connection, keep-alive (HAProxy and wrk reuse connections). SIGTERM/SIGINT stop
// the accepting, close idle connections and let requests in flight finish.
// With --tls-cert and --tls-key, the same over TLS, and nothing else on the port.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>
#include <unordered_set>

#include "demo_app/database_check.hpp"
#include "demo_app/options.hpp"
#include "demo_app/routes.hpp"
#include "demo_app/tls.hpp"

namespace lbctl::demo_app {

inline constexpr std::chrono::seconds k_shutdown_grace{10};
// Longer than HAProxy's and wrk's idle reuse, so they close first and never
// send a request on a connection we are closing.
inline constexpr std::chrono::seconds k_idle_timeout{75};
inline constexpr std::chrono::seconds k_write_timeout{30};

class Server {
 public:
  // Throws std::runtime_error when the TLS certificate or key cannot be used.
  explicit Server(AppOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Listens and serves until a signal and the end of the requests in flight.
  // Returns the exit code: 0 after a graceful stop, 1 when it cannot listen or
  // had to cut requests (grace over, or a second signal).
  int run();

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  struct Connection {
    boost::beast::tcp_stream* stream = nullptr;  // under TLS, the TCP stream beneath it
    bool busy = false;  // a request is being answered
  };

  bool listen();
  boost::asio::awaitable<void> accept_connections();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);
  // A plain or a TLS stream; defined and used in server.cpp only.
  template <class Stream>
  boost::asio::awaitable<void> serve_requests(Stream& stream);
  boost::asio::awaitable<Reply> answer(const Request& request);
  // Waits `duration` on a timer (/slow, --delay-ms): the other connections go on meanwhile.
  boost::asio::awaitable<void> hold(std::chrono::milliseconds duration);
  void wait_for_signal();
  void begin_shutdown();
  void finish_if_idle();
  std::size_t busy_connections() const;

  AppOptions m_options;
  ErrorSchedule m_errors;  // --error-percent; one thread, so no lock
  // Empty without --tls-cert. Declared before the io_context, whose coroutine
  // frames hold the TLS streams made from it.
  std::unique_ptr<boost::asio::ssl::context> m_tls;
  // Declared before the io_context: coroutine frames it destroys still deregister here.
  std::unordered_set<Connection*> m_connections;
  bool m_stopping = false;
  bool m_cut = false;
  boost::asio::io_context m_io{1};
  boost::asio::ip::tcp::acceptor m_acceptor{m_io};
  boost::asio::signal_set m_signals{m_io, SIGTERM, SIGINT};
  boost::asio::steady_timer m_grace{m_io};
  // Declared last, so its workers are joined before anything they post to goes away.
  DatabaseChecker m_database;
};

}  // namespace lbctl::demo_app
