#include "lbctl/serve/http_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>
#include <iostream>
#include <map>

namespace lbctl::serve {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::uint32_t k_header_limit = 16 * 1024;
constexpr std::uint64_t k_body_limit = 64 * 1024;
constexpr std::chrono::seconds k_idle_timeout{60};
constexpr std::chrono::seconds k_write_timeout{30};

template <class Body>
void add_headers(http::response<Body>& response, const std::vector<std::pair<std::string, std::string>>& headers) {
  for (const auto& [name, value] : security_headers()) response.set(name, value);
  for (const auto& [name, value] : headers) response.set(name, value);
}

http::response<http::string_body> to_response(Reply reply, unsigned version, bool head, bool keep_alive) {
  http::response<http::string_body> response{static_cast<http::status>(reply.status), version};
  response.set(http::field::server, "lbctl");
  response.set(http::field::content_type, reply.content_type);
  add_headers(response, reply.headers);
  response.keep_alive(keep_alive);
  response.content_length(reply.body.size());
  if (!head) response.body() = std::move(reply.body);
  return response;
}

std::string remote_of(const tcp::socket& socket) {
  error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return "an unknown address";
  return fmt::format("{}:{}", peer.address().to_string(), peer.port());
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, Router& router, Hub& hub)
    : m_io(io), m_router(router), m_hub(hub), m_acceptor(io) {}

HttpServer::~HttpServer() = default;

Result<tcp::endpoint> HttpServer::listen(const tcp::endpoint& endpoint) {
  error_code ec;
  m_acceptor.open(endpoint.protocol(), ec);
  if (!ec) m_acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) m_acceptor.bind(endpoint, ec);
  if (!ec) m_acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return fail(ErrorKind::unreachable,
                fmt::format("cannot listen on {}:{}: {}", endpoint.address().to_string(), endpoint.port(), ec.message()));
  }
  return m_acceptor.local_endpoint();
}

void HttpServer::stop() {
  m_stopping = true;
  error_code ec;
  m_acceptor.close(ec);
  for (auto* socket : m_sockets) socket->close(ec);
  m_hub.wake_all();
}

asio::awaitable<void> HttpServer::run() {
  while (!m_stopping) {
    error_code ec;
    tcp::socket socket = co_await m_acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (m_stopping || ec == asio::error::operation_aborted) break;
      // Out of descriptors, most likely: wait a little rather than spin.
      asio::steady_timer backoff(m_io, std::chrono::milliseconds(50));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(m_io, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> HttpServer::serve(tcp::socket socket) {
  const std::string remote = remote_of(socket);
  beast::tcp_stream stream(std::move(socket));
  m_sockets.insert(&stream.socket());
  struct Forget {
    std::unordered_set<tcp::socket*>& sockets;
    tcp::socket* socket;
    ~Forget() { sockets.erase(socket); }
  } forget{m_sockets, &stream.socket()};
  try {
    beast::flat_buffer buffer;
    error_code ec;
    while (!m_stopping) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(k_header_limit);
      parser.body_limit(k_body_limit);
      stream.expires_after(k_idle_timeout);
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec != http::error::end_of_stream && ec != beast::error::timeout && ec != asio::error::operation_aborted &&
            ec != asio::error::connection_reset && ec != asio::error::eof && !m_stopping) {
          auto response = to_response(error_reply(400, "bad request: " + ec.message()), 11, false, false);
          stream.expires_after(k_write_timeout);
          co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
        }
        break;
      }
      const auto& message = parser.get();
      HttpRequest request{std::string(message.method_string()), std::string(message.target()),
                          std::string(message[http::field::authorization]), remote};
      if (Router::is_stream(request)) {
        auto services = m_router.stream_services(request);
        if (auto* refused = std::get_if<Reply>(&services)) {
          auto response = to_response(std::move(*refused), message.version(), false, false);
          stream.expires_after(k_write_timeout);
          co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
          break;
        }
        stream.expires_never();
        co_await this->stream(stream.socket(), std::get<std::vector<std::string>>(std::move(services)));
        break;
      }
      stream.expires_never();  // the events and the actions take the journal's time
      Reply reply = co_await m_router.answer(request);
      const bool keep_alive = message.keep_alive() && !m_stopping;
      auto response = to_response(std::move(reply), message.version(), message.method() == http::verb::head, keep_alive);
      stream.expires_after(k_write_timeout);
      co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !keep_alive) break;
    }
  } catch (const std::exception& e) {
    std::cerr << "lbctl serve: connection from " << remote << " dropped: " << e.what() << "\n";
  }
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
}

asio::awaitable<void> HttpServer::stream(tcp::socket& socket, std::vector<std::string> services) {
  http::response<http::empty_body> header{http::status::ok, 11};
  header.set(http::field::server, "lbctl");
  header.set(http::field::content_type, "text/event-stream");
  add_headers(header, {{"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}});
  header.keep_alive(false);  // the stream ends with the connection
  http::response_serializer<http::empty_body> serializer(header);
  error_code ec;
  co_await http::async_write_header(socket, serializer, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  std::map<std::string, std::int64_t> sent;
  std::string out = "retry: 2000\n\n";
  while (!m_stopping) {
    for (const auto& service : services) {
      const auto snapshot = m_hub.snapshot(service);
      if (!snapshot || sent[service] == snapshot->live->version()) continue;
      sent[service] = snapshot->live->version();
      out += "event: live\ndata: ";
      out += snapshot->live_text;
      out += "\n\n";
    }
    if (!out.empty()) {
      co_await asio::async_write(socket, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      out.clear();
    }
    auto timer = std::make_shared<asio::steady_timer>(m_io, k_stream_keepalive);
    m_hub.wait_on(timer);
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) out = ": keepalive\n\n";  // expired, not woken: a comment keeps proxies from closing it
  }
}

}  // namespace lbctl::serve
