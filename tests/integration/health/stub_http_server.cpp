#include "tests/integration/health/stub_http_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace lbctl::test {

namespace asio = boost::asio;
using asio::ip::tcp;

StubHttpServer::StubHttpServer() : m_acceptor(m_io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  m_acceptor.listen(4096);
  m_port = m_acceptor.local_endpoint().port();
  asio::co_spawn(m_io, accept_loop(), asio::detached);
  m_thread = std::thread([this] { m_io.run(); });
}

StubHttpServer::~StubHttpServer() {
  m_io.stop();
  m_thread.join();
}

void StubHttpServer::respond(const std::string& path, int status, std::string body) {
  std::lock_guard lock(m_mutex);
  m_routes[path] = Route{status, std::move(body), false};
}

void StubHttpServer::hang(const std::string& path) {
  std::lock_guard lock(m_mutex);
  m_routes[path] = Route{0, "", true};
}

StubHttpServer::Route StubHttpServer::route(const std::string& path) const {
  std::lock_guard lock(m_mutex);
  const auto it = m_routes.find(path);
  return it == m_routes.end() ? Route{} : it->second;
}

asio::awaitable<void> StubHttpServer::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await m_acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) continue;
    ++m_connections;
    asio::co_spawn(m_io, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> StubHttpServer::serve(tcp::socket socket) {
  std::string buffer;
  for (;;) {
    boost::system::error_code ec;
    const std::size_t header_end =
        co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), "\r\n\r\n",
                                        asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    ++m_requests;
    // "GET /path HTTP/1.1"
    const auto first_space = buffer.find(' ');
    const auto second_space = buffer.find(' ', first_space + 1);
    const std::string path = buffer.substr(first_space + 1, second_space - first_space - 1);
    buffer.erase(0, header_end);
    const Route r = route(path);
    if (r.hang) {
      asio::steady_timer forever(m_io, asio::steady_timer::time_point::max());
      co_await forever.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      co_return;
    }
    const std::string answer = "HTTP/1.1 " + std::to_string(r.status) + " Stub\r\nContent-Type: text/plain\r\n" +
                               "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
    co_await asio::async_write(socket, asio::buffer(answer), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

}  // namespace lbctl::test
