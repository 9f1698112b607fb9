#include "pools/tcp_probe.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace lbctl::pools {

namespace asio = boost::asio;

asio::awaitable<bool> accepts_connections(std::string host, std::uint16_t port, std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(host, ec);
  if (ec) co_return false;
  auto executor = co_await asio::this_coro::executor;
  // Shared with the timer's handler, which may run after this frame is gone.
  auto socket = std::make_shared<asio::ip::tcp::socket>(executor);
  asio::steady_timer timer(executor, timeout);
  timer.async_wait([socket](boost::system::error_code wait_ec) {
    boost::system::error_code ignored;
    if (!wait_ec) socket->close(ignored);
  });
  co_await socket->async_connect(asio::ip::tcp::endpoint(ip, port), asio::redirect_error(asio::use_awaitable, ec));
  timer.cancel();
  const bool connected = !ec && socket->is_open();
  socket->close(ec);
  co_return connected;
}

}  // namespace lbctl::pools
