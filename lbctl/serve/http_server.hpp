#pragma once
// serve's HTTP/1.1 side over Boost.Beast: one thread, a coroutine per
// connection, keep-alive, bounded requests, plain or TLS; a GET of
// /api/v1/stream becomes a server-sent event stream that writes a service's
// live object each time the hub has a new one. Every wait has a deadline (a
// request's header, each write), and connections and streams are capped
// overall and per client address (ConnectionTable), so a flood of slow or
// silent clients can neither hold serve's descriptors nor grow its memory.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <unordered_map>

#include "core/error.hpp"
#include "lbctl/serve/access.hpp"
#include "lbctl/serve/hub.hpp"
#include "lbctl/serve/routes.hpp"

namespace boost::asio::ssl {
class context;
}

namespace lbctl::serve {

inline constexpr std::chrono::seconds k_stream_keepalive{15};

struct HttpLimits {
  ConnectionLimits connections;
  // From the moment serve waits for a request (a new connection, or the next
  // on a kept-alive one) until its whole header arrived; a TLS handshake
  // counts too. Past it the connection is closed.
  std::chrono::milliseconds header_timeout{10'000};
  // Each write (an answer, a stream's events) and a request's body.
  std::chrono::milliseconds write_timeout{30'000};
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, Router& router, Hub& hub, HttpLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; the endpoint bound (port 0 picks one), or why not.
  Result<boost::asio::ip::tcp::endpoint> listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // Connections accepted from now on speak TLS with `tls` (a new context
  // replaces the old one for new connections: a certificate reload).
  void use_tls(std::shared_ptr<boost::asio::ssl::context> tls);
  // Accepts until stop().
  boost::asio::awaitable<void> run();
  // Stops accepting and closes every connection, streams included.
  void stop();

  const ConnectionTable& connections() const { return m_table; }

 private:
  struct Peer {
    std::uint64_t id = 0;
    std::string remote;  // address:port
    std::string client;  // address
  };
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket, Peer peer);
  // Answers requests until the connection ends; true when it ended with an
  // answer (a TLS connection then says goodbye), false when the client left.
  template <class Stream>
  boost::asio::awaitable<bool> converse(Stream& stream, Peer peer);
  template <class Stream>
  boost::asio::awaitable<void> stream(Stream& stream, std::vector<std::string> services);
  void refuse(boost::asio::ip::tcp::socket& socket) const;

  boost::asio::io_context& m_io;
  Router& m_router;
  Hub& m_hub;
  HttpLimits m_limits;
  boost::asio::ip::tcp::acceptor m_acceptor;
  std::shared_ptr<boost::asio::ssl::context> m_tls;
  ConnectionTable m_table;
  std::unordered_map<std::uint64_t, boost::asio::ip::tcp::socket*> m_sockets;
  std::uint64_t m_next_id = 0;
  bool m_stopping = false;
};

}  // namespace lbctl::serve
