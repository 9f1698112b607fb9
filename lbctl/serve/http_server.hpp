#pragma once
// serve's HTTP/1.1 side over Boost.Beast: one thread, a coroutine per
// connection, keep-alive, timeouts, bounded requests; a GET of
// /api/v1/stream becomes a server-sent event stream that writes a service's
// live object each time the hub has a new one.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <unordered_set>

#include "core/error.hpp"
#include "lbctl/serve/hub.hpp"
#include "lbctl/serve/routes.hpp"

namespace lbctl::serve {

inline constexpr std::chrono::seconds k_stream_keepalive{15};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, Router& router, Hub& hub);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; the endpoint bound (port 0 picks one), or why not.
  Result<boost::asio::ip::tcp::endpoint> listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // Accepts until stop().
  boost::asio::awaitable<void> run();
  // Stops accepting and closes every connection, streams included.
  void stop();

 private:
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<void> stream(boost::asio::ip::tcp::socket& socket, std::vector<std::string> services);

  boost::asio::io_context& m_io;
  Router& m_router;
  Hub& m_hub;
  boost::asio::ip::tcp::acceptor m_acceptor;
  std::unordered_set<boost::asio::ip::tcp::socket*> m_sockets;
  bool m_stopping = false;
};

}  // namespace lbctl::serve
