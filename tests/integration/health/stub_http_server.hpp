#pragma once
// A scripted HTTP/1.1 server on a free loopback port, on its own thread: each
// path answers a fixed status and body, or reads the request and never
// answers. Keeps connections alive and counts them, so tests see reuse.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace lbctl::test {

class StubHttpServer {
 public:
  StubHttpServer();
  ~StubHttpServer();
  StubHttpServer(const StubHttpServer&) = delete;
  StubHttpServer& operator=(const StubHttpServer&) = delete;

  std::uint16_t port() const { return m_port; }
  std::string address() const { return "127.0.0.1:" + std::to_string(m_port); }

  // GET `path` (query included) answers `status` with `body`. Unknown paths answer 404.
  void respond(const std::string& path, int status, std::string body);
  // GET `path` is read and never answered; the connection stays open.
  void hang(const std::string& path);

  std::size_t connections() const { return m_connections; }
  std::size_t requests() const { return m_requests; }

 private:
  struct Route {
    int status = 404;
    std::string body = "not found";
    bool hang = false;
  };

  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);
  Route route(const std::string& path) const;

  boost::asio::io_context m_io;
  boost::asio::ip::tcp::acceptor m_acceptor;
  std::uint16_t m_port = 0;
  mutable std::mutex m_mutex;
  std::map<std::string, Route> m_routes;
  std::atomic<std::size_t> m_connections{0};
  std::atomic<std::size_t> m_requests{0};
  std::thread m_thread;
};

}  // namespace lbctl::test
