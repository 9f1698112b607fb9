#include "lbctl/serve/http_server.hpp"

#include "lbctl/serve/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
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
#include <boost/beast/ssl/ssl_stream.hpp>
#include <fmt/format.h>
#include <map>

namespace lbctl::serve {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

constexpr std::uint32_t k_header_limit = 16 * 1024;
constexpr std::uint64_t k_body_limit = 64 * 1024;
constexpr std::chrono::seconds k_tls_goodbye{1};
// A stream's socket buffers a few updates, no more: a client that stops
// reading fills it soon, and the write deadline then ends the stream.
constexpr int k_stream_send_buffer = 64 * 1024;

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

// A read that ended because the client went away or waited too long, not
// because it sent something wrong: no answer is owed.
bool client_left(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
         ec == asio::error::connection_reset || ec == asio::error::eof || ec == asio::error::bad_descriptor ||
         ec == asio::ssl::error::stream_truncated || ec.category() == asio::error::get_ssl_category();
}

template <class Stream>
asio::awaitable<error_code> write_reply(Stream& stream, Reply reply, unsigned version, bool head, bool keep_alive,
                                        std::chrono::milliseconds timeout) {
  auto response = to_response(std::move(reply), version, head, keep_alive);
  beast::get_lowest_layer(stream).expires_after(timeout);
  error_code ec;
  co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

const std::string& busy_answer() {
  static const std::string answer = [] {
    const std::string body = "{\"error\":\"serve holds as many connections as it allows; try again\"}\n";
    return fmt::format("HTTP/1.1 503 Service Unavailable\r\nServer: lbctl\r\nContent-Type: application/json\r\n"
                       "Retry-After: 5\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{}",
                       body.size(), body);
  }();
  return answer;
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, Router& router, Hub& hub, HttpLimits limits)
    : m_io(io), m_router(router), m_hub(hub), m_limits(limits), m_acceptor(io), m_table(limits.connections) {}

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

void HttpServer::use_tls(std::shared_ptr<asio::ssl::context> tls) { m_tls = std::move(tls); }

void HttpServer::stop() {
  m_stopping = true;
  error_code ec;
  m_acceptor.close(ec);
  for (auto& [id, socket] : m_sockets) socket->close(ec);
  m_hub.wake_all();
}

void HttpServer::refuse(tcp::socket& socket) const {
  error_code ec;
  if (!m_tls) {
    // Best effort, never waited for: the answer fits any socket buffer.
    socket.non_blocking(true, ec);
    socket.write_some(asio::buffer(busy_answer()), ec);
  }
  socket.close(ec);
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
    const auto peer_endpoint = socket.remote_endpoint(ec);
    if (ec) continue;  // gone already
    Peer peer{++m_next_id, fmt::format("{}:{}", peer_endpoint.address().to_string(), peer_endpoint.port()),
              peer_endpoint.address().to_string()};
    const auto admission = m_table.admit(peer.client, peer.id);
    if (admission.evict) {
      if (const auto it = m_sockets.find(*admission.evict); it != m_sockets.end()) it->second->close(ec);
    }
    if (!admission.admitted) {
      refuse(socket);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(m_io, serve(std::move(socket), std::move(peer)), asio::detached);
  }
}

asio::awaitable<void> HttpServer::serve(tcp::socket socket, Peer peer) {
  struct Forget {
    HttpServer& server;
    std::uint64_t id;
    ~Forget() {
      server.m_sockets.erase(id);
      server.m_table.remove(id);
    }
  } forget{*this, peer.id};
  // Taken over by a newer connection before this one started.
  if (!m_table.holds(peer.id) || m_stopping) co_return;
  error_code ignored;
  try {
    if (auto tls = m_tls) {
      TlsStream stream(std::move(socket), *tls);
      auto& lowest = beast::get_lowest_layer(stream);
      m_sockets[peer.id] = &lowest.socket();
      lowest.expires_after(m_limits.header_timeout);
      error_code ec;
      co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
      bool goodbye = false;
      if (!ec) goodbye = co_await converse(stream, peer);
      if (goodbye) {
        lowest.expires_after(k_tls_goodbye);
        co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
      }
      lowest.socket().close(ignored);
    } else {
      beast::tcp_stream stream(std::move(socket));
      m_sockets[peer.id] = &stream.socket();
      co_await converse(stream, peer);
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream.socket().close(ignored);
    }
  } catch (const std::exception& e) {
    log_warning(fmt::format("connection from {} dropped: {}", peer.remote, e.what()));
  }
}

template <class Stream>
asio::awaitable<bool> HttpServer::converse(Stream& stream, Peer peer) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  error_code ec;
  while (!m_stopping) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(k_header_limit);
    parser.body_limit(k_body_limit);
    m_table.waiting(peer.id, true);
    lowest.expires_after(m_limits.header_timeout);
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    m_table.waiting(peer.id, false);
    if (!ec && !parser.is_done()) {
      lowest.expires_after(m_limits.write_timeout);
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      if (client_left(ec) || m_stopping) co_return false;
      co_await write_reply(stream, error_reply(400, "bad request: " + ec.message()), 11, false, false,
                           m_limits.write_timeout);
      co_return true;
    }
    const auto& message = parser.get();
    const HttpRequest request{std::string(message.method_string()),
                              std::string(message.target()),
                              std::string(message[http::field::authorization]),
                              peer.remote,
                              std::string(message[http::field::host]),
                              peer.client,
                              std::chrono::steady_clock::now()};
    const auto target = parse_target(request.target);
    if (Router::is_stream(request, target)) {
      auto services = m_router.stream_services(request, target);
      if (auto* refused = std::get_if<Reply>(&services)) {
        co_await write_reply(stream, std::move(*refused), message.version(), false, false, m_limits.write_timeout);
        co_return true;
      }
      if (!m_table.start_stream(peer.id)) {
        Reply busy = error_reply(503, fmt::format("serve holds as many event streams as it allows ({} in all, {} per "
                                                  "address); try again",
                                                  m_table.limits().streams, m_table.limits().streams_per_client));
        busy.headers.emplace_back("Retry-After", "5");
        co_await write_reply(stream, std::move(busy), message.version(), false, false, m_limits.write_timeout);
        co_return true;
      }
      co_await this->stream(stream, std::get<std::vector<std::string>>(std::move(services)));
      co_return false;
    }
    lowest.expires_never();  // the events and the actions take the journal's time
    Reply reply = co_await m_router.answer(request, target);
    const bool keep_alive = message.keep_alive() && !m_stopping;
    ec = co_await write_reply(stream, std::move(reply), message.version(), message.method() == http::verb::head,
                              keep_alive, m_limits.write_timeout);
    if (ec) co_return false;
    if (!keep_alive) co_return true;
  }
  co_return false;
}

template <class Stream>
asio::awaitable<void> HttpServer::stream(Stream& stream, std::vector<std::string> services) {
  static constexpr std::string_view k_retry = "retry: 2000\n\n";
  static constexpr std::string_view k_event = "event: live\ndata: ";
  static constexpr std::string_view k_end = "\n\n";
  // A comment keeps proxies from closing a quiet stream.
  static constexpr std::string_view k_keepalive = ": keepalive\n\n";
  auto& lowest = beast::get_lowest_layer(stream);
  error_code ec;
  lowest.socket().set_option(asio::socket_base::send_buffer_size(k_stream_send_buffer), ec);
  http::response<http::empty_body> header{http::status::ok, 11};
  header.set(http::field::server, "lbctl");
  header.set(http::field::content_type, "text/event-stream");
  add_headers(header, {{"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}});
  header.keep_alive(false);  // the stream ends with the connection
  http::response_serializer<http::empty_body> serializer(header);
  lowest.expires_after(m_limits.write_timeout);
  co_await http::async_write_header(stream, serializer, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  std::map<std::string, std::int64_t> sent;
  bool first = true;
  bool quiet = false;
  while (!m_stopping) {
    // The snapshots themselves are written (no copy): a client that does not
    // read holds at most the ones of one write until the write deadline.
    std::vector<std::shared_ptr<const Snapshot>> held;
    std::vector<asio::const_buffer> buffers;
    if (first) buffers.push_back(asio::buffer(k_retry));
    if (quiet) buffers.push_back(asio::buffer(k_keepalive));
    for (const auto& service : services) {
      auto snapshot = m_hub.snapshot(service);
      if (!snapshot || sent[service] == snapshot->live->version()) continue;
      sent[service] = snapshot->live->version();
      buffers.push_back(asio::buffer(k_event));
      buffers.push_back(asio::buffer(snapshot->live_text));
      buffers.push_back(asio::buffer(k_end));
      held.push_back(std::move(snapshot));
    }
    if (!buffers.empty()) {
      lowest.expires_after(m_limits.write_timeout);
      co_await asio::async_write(stream, buffers, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      lowest.expires_never();
    }
    first = false;
    held.clear();
    auto timer = std::make_shared<asio::steady_timer>(m_io, k_stream_keepalive);
    m_hub.wait_on(timer);
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    quiet = !ec;  // expired, not woken
  }
}

}  // namespace lbctl::serve
