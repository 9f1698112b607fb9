#include "demo_app/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cstdio>
#include <exception>
#include <openssl/ssl.h>
#include <string>

namespace lbctl::demo_app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

constexpr std::size_t k_header_limit = 16 * 1024;
constexpr std::size_t k_body_limit = 64 * 1024;

bool is_http_error(const error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_target).category();
}

http::response<http::string_body> to_response(Reply reply, unsigned http_version, bool head, bool keep_alive) {
  http::response<http::string_body> response;
  response.result(reply.status);
  response.version(http_version);
  response.set(http::field::content_type, reply.content_type);
  response.keep_alive(keep_alive);
  if (head) {
    // HEAD announces the length of the body it does not send.
    response.content_length(reply.body.size());
  } else {
    response.body() = std::move(reply.body);
    response.prepare_payload();
  }
  return response;
}

// The client went away, or was sent away (shutdown, idle timeout), before the
// handshake ended: port probes and TCP checks do it all day, not worth a log line.
bool is_client_gone(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::operation_aborted || ec == beast::error::timeout;
}

// Plain HTTP: the TCP connection is all there is to set up. True when requests may follow.
asio::awaitable<bool> begin_session(beast::tcp_stream&, const std::string&) { co_return true; }

asio::awaitable<bool> begin_session(TlsStream& stream, const std::string& name) {
  beast::get_lowest_layer(stream).expires_after(k_idle_timeout);
  error_code ec;
  co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
  // Plain HTTP on this port ends here ("http request"), as does a client that rejects our certificate.
  if (ec && !is_client_gone(ec)) std::fprintf(stderr, "lbctl-app %s: TLS handshake failed: %s\n", name.c_str(), ec.message().c_str());
  co_return !ec;
}

// Plain HTTP: a FIN after the last response.
asio::awaitable<void> end_session(beast::tcp_stream& stream) {
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  co_return;
}

// TLS: close_notify after the last response, so the client can tell the end
// from a cut. Like nginx (no_wait_shutdown), we do not wait for the client's
// own: marked as received, SSL_shutdown completes once ours is sent, and a
// client that never answers holds neither the connection nor our shutdown.
asio::awaitable<void> end_session(TlsStream& stream) {
  SSL_set_shutdown(stream.native_handle(), SSL_get_shutdown(stream.native_handle()) | SSL_RECEIVED_SHUTDOWN);
  beast::get_lowest_layer(stream).expires_after(k_write_timeout);
  error_code ignored;
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ignored));
}

}  // namespace

Server::Server(AppOptions options)
    : m_options(std::move(options)),
      m_errors(m_options.error_percent_millionths),
      m_tls(m_options.tls_cert.empty() ? nullptr : load_tls_context(m_options.tls_cert, m_options.tls_key)),
      m_database(m_options.database_url) {}

Server::~Server() = default;

bool Server::listen() {
  error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address(m_options.bind, ec), m_options.port);
  if (!ec) m_acceptor.open(endpoint.protocol(), ec);
  if (!ec) m_acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) m_acceptor.bind(endpoint, ec);
  if (!ec) m_acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "lbctl-app %s: cannot listen on %s:%u: %s\n", m_options.name.c_str(), m_options.bind.c_str(),
                 m_options.port, ec.message().c_str());
    return false;
  }
  return true;
}

int Server::run() {
  if (!listen()) return 1;
  std::printf("lbctl-app %s %s listening on %s:%u%s, health file %s, database %s\n", m_options.name.c_str(),
              m_options.version.c_str(), m_options.bind.c_str(), m_options.port, m_tls ? " (HTTPS only)" : "",
              (m_options.dir / m_options.health_file).c_str(), m_options.database_url.empty() ? "not configured" : "configured");
  if (m_options.error_percent_millionths > 0 || m_options.delay.count() > 0) {
    const auto whole = m_options.error_percent_millionths / k_error_percent_scale;
    std::string fraction = std::to_string(m_options.error_percent_millionths % k_error_percent_scale + k_error_percent_scale).substr(1);
    fraction.erase(fraction.find_last_not_of('0') + 1);
    std::printf("lbctl-app %s on every other path: %u%s%s%% answered 500, answers held %lld ms\n", m_options.name.c_str(), whole,
                fraction.empty() ? "" : ".", fraction.c_str(), static_cast<long long>(m_options.delay.count()));
  }
  std::fflush(stdout);
  asio::co_spawn(m_io, accept_connections(), asio::detached);
  wait_for_signal();
  m_io.run();
  m_database.shutdown();
  std::printf("lbctl-app %s stopped%s\n", m_options.name.c_str(), m_cut ? " (requests were cut)" : "");
  std::fflush(stdout);
  return m_cut ? 1 : 0;
}

void Server::wait_for_signal() {
  m_signals.async_wait([this](const error_code& ec, int) {
    if (ec) return;  // cancelled: everything finished
    if (m_stopping) {
      std::fprintf(stderr, "lbctl-app %s: second signal, cutting %zu requests in flight\n", m_options.name.c_str(), busy_connections());
      m_cut = busy_connections() > 0;
      m_io.stop();
      return;
    }
    wait_for_signal();  // before begin_shutdown, which cancels it when nothing is in flight
    begin_shutdown();
  });
}

void Server::begin_shutdown() {
  m_stopping = true;
  error_code ignored;
  m_acceptor.close(ignored);
  std::printf("lbctl-app %s stopping: %zu requests in flight\n", m_options.name.c_str(), busy_connections());
  std::fflush(stdout);
  // Idle keep-alive connections go now; busy ones close after their response.
  for (Connection* connection : m_connections) {
    if (!connection->busy) connection->stream->cancel();
  }
  m_grace.expires_after(k_shutdown_grace);
  m_grace.async_wait([this](const error_code& ec) {
    if (ec) return;
    std::fprintf(stderr, "lbctl-app %s: %lld s grace over, cutting %zu requests in flight\n", m_options.name.c_str(),
                 static_cast<long long>(k_shutdown_grace.count()), busy_connections());
    m_cut = busy_connections() > 0;
    m_io.stop();
  });
  finish_if_idle();
}

void Server::finish_if_idle() {
  if (!m_stopping || !m_connections.empty()) return;
  // Nothing left to wait for: with no pending work, io_context::run returns.
  m_grace.cancel();
  m_signals.cancel();
}

std::size_t Server::busy_connections() const {
  std::size_t busy = 0;
  for (const Connection* connection : m_connections) busy += connection->busy ? 1 : 0;
  return busy;
}

asio::awaitable<void> Server::accept_connections() {
  asio::steady_timer backoff(m_io);
  bool reported = false;
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await m_acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (m_stopping || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of file descriptors, say: keep serving the connections we have, and retry.
      if (!reported) std::fprintf(stderr, "lbctl-app %s: accept failed: %s (retrying)\n", m_options.name.c_str(), ec.message().c_str());
      reported = true;
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(m_io, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> Server::serve(tcp::socket socket) {
  if (m_tls) {
    TlsStream stream(std::move(socket), *m_tls);
    co_await serve_requests(stream);
  } else {
    beast::tcp_stream stream(std::move(socket));
    co_await serve_requests(stream);
  }
}

template <class Stream>
asio::awaitable<void> Server::serve_requests(Stream& stream) {
  beast::tcp_stream& transport = beast::get_lowest_layer(stream);
  Connection connection{&transport};
  m_connections.insert(&connection);
  struct Deregister {
    std::unordered_set<Connection*>& connections;
    Connection* connection;
    ~Deregister() { connections.erase(connection); }
  } deregister{m_connections, &connection};

  try {
    // Accepted just before a signal, a connection missed its cancel: no handshake then.
    bool open = false;
    if (!m_stopping) open = co_await begin_session(stream, m_options.name);
    beast::flat_buffer buffer;
    error_code ec;
    while (open && !m_stopping) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(k_header_limit);
      parser.body_limit(k_body_limit);
      transport.expires_after(k_idle_timeout);
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (is_http_error(ec) && ec != http::error::end_of_stream) {
          auto response = to_response({400, "text/plain", "bad request: " + ec.message()}, 11, false, false);
          transport.expires_after(k_write_timeout);
          co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
        }
        break;
      }
      connection.busy = true;
      transport.expires_never();  // /slow, /health/db and --delay-ms take the time they take
      const Request& request = parser.get();
      Reply reply = co_await answer(request);
      const bool keep_alive = request.keep_alive() && !m_stopping;
      auto response = to_response(std::move(reply), request.version(), request.method() == http::verb::head, keep_alive);
      transport.expires_after(k_write_timeout);
      co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
      connection.busy = false;
      if (ec || !keep_alive) break;
    }
    if (open) co_await end_session(stream);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lbctl-app %s: connection dropped: %s\n", m_options.name.c_str(), e.what());
  }
  transport.close();
  m_connections.erase(&connection);
  finish_if_idle();
}

asio::awaitable<Reply> Server::answer(const Request& request) {
  const Route route = find_route(std::string_view(request.target().data(), request.target().size()), m_options);
  switch (route.endpoint) {
    case Endpoint::health_file:
      co_return health_file_reply(m_options);
    case Endpoint::version:
      co_return version_reply(m_options);
    case Endpoint::database: {
      const DatabaseVerdict verdict = co_await m_database.check();
      co_return database_reply(verdict);
    }
    case Endpoint::slow:
      co_await hold(route.hold);
      co_return slow_reply(route.hold);
    case Endpoint::bad_request:
      co_return Reply{400, "text/plain", route.problem};
    case Endpoint::other:
      break;
  }
  // Counted on arrival, so which request fails follows the order they came in,
  // however long each is held.
  const bool fails = m_errors.next_fails();
  if (m_options.delay.count() > 0) co_await hold(m_options.delay);
  if (fails) co_return injected_error_reply(m_options);
  co_return other_reply(m_options);
}

asio::awaitable<void> Server::hold(std::chrono::milliseconds duration) {
  asio::steady_timer timer(m_io);
  timer.expires_after(duration);
  error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace lbctl::demo_app
