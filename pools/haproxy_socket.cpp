#include "pools/haproxy_socket.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

namespace lbctl::pools {

namespace asio = boost::asio;
using Socket = asio::generic::stream_protocol::socket;

std::string RuntimeApiEndpoint::to_string() const {
  if (kind == Kind::unix_socket) return "unix:" + path;
  return fmt::format("tcp:{}:{}", host, port);
}

SocketRuntimeApi::SocketRuntimeApi(RuntimeApiEndpoint endpoint, std::chrono::milliseconds timeout, CliDialect dialect)
    : m_endpoint(std::move(endpoint)), m_timeout(timeout), m_dialect(dialect) {}

namespace {

// The connection and its watchdog share this, so a timer that fires after the
// coroutine has moved on never touches a dead frame.
struct Exchange {
  explicit Exchange(const asio::any_io_executor& executor) : socket(executor), watchdog(executor) {}
  Socket socket;
  asio::steady_timer watchdog;
  bool timed_out = false;
};

bool is_connect_failure(const boost::system::error_code& ec) {
  return ec == asio::error::connection_refused || ec == asio::error::not_found ||
         ec == boost::system::errc::no_such_file_or_directory || ec == asio::error::host_unreachable ||
         ec == asio::error::network_unreachable || ec == boost::system::errc::permission_denied ||
         ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again;
}

}  // namespace

// One connection: connects, writes `request` while reading, and hands each
// chunk read to `on_data`, which returns true once it has every answer. The
// watchdog bounds the whole exchange.
asio::awaitable<Result<void>> SocketRuntimeApi::exchange(std::string request,
                                                         std::function<bool(std::string_view)> on_data,
                                                         bool until_eof) {
  auto executor = co_await asio::this_coro::executor;
  auto exchange = std::make_shared<Exchange>(executor);
  exchange->watchdog.expires_after(m_timeout);
  exchange->watchdog.async_wait([weak = std::weak_ptr<Exchange>(exchange)](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    self->timed_out = true;
    boost::system::error_code ignored;
    self->socket.close(ignored);
  });
  auto finish = [&](Result<void> result) {
    exchange->watchdog.cancel();
    boost::system::error_code ignored;
    exchange->socket.close(ignored);
    return result;
  };
  auto failure = [&](std::string_view what, const boost::system::error_code& ec) {
    if (exchange->timed_out) {
      return fail(ErrorKind::timeout, fmt::format("{}: no answer within {} ms", describe(), m_timeout.count()));
    }
    const ErrorKind kind = is_connect_failure(ec) ? ErrorKind::unreachable : ErrorKind::invalid;
    return fail(kind, fmt::format("{}: {}: {}", describe(), what, ec.message()));
  };

  boost::system::error_code ec;
  if (m_endpoint.kind == RuntimeApiEndpoint::Kind::unix_socket) {
    co_await exchange->socket.async_connect(asio::local::stream_protocol::endpoint(m_endpoint.path),
                                            asio::redirect_error(asio::use_awaitable, ec));
  } else {
    asio::ip::tcp::resolver resolver(executor);
    auto endpoints = co_await resolver.async_resolve(m_endpoint.host, std::to_string(m_endpoint.port),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      ec = asio::error::host_not_found;
      for (const auto& entry : endpoints) {
        if (exchange->socket.is_open()) exchange->socket.close();
        co_await exchange->socket.async_connect(asio::generic::stream_protocol::endpoint(entry.endpoint()),
                                                asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) break;
      }
    }
  }
  if (ec) co_return finish(failure("cannot connect", ec));

  // Write while reading: HAProxy answers as it goes and stops reading when we
  // do not drain its output. A failed write shows on the read side as a
  // short stream.
  asio::co_spawn(
      executor,
      [exchange, request = std::move(request)]() -> asio::awaitable<void> {
        boost::system::error_code write_ec;
        co_await asio::async_write(exchange->socket, asio::buffer(request),
                                   asio::redirect_error(asio::use_awaitable, write_ec));
      },
      asio::detached);

  char buffer[16384];
  for (;;) {
    const std::size_t n = co_await exchange->socket.async_read_some(asio::buffer(buffer),
                                                                    asio::redirect_error(asio::use_awaitable, ec));
    const bool complete = on_data(std::string_view(buffer, n));
    if (complete && !until_eof) break;
    if (ec == asio::error::eof && until_eof) break;
    if (ec) {
      if (exchange->timed_out) co_return finish(failure("reading", ec));
      // The LB went away mid-answer (a reload, a restart): some commands may
      // have run, as after a timeout; the caller reads again before acting.
      co_return finish(fail(ErrorKind::timeout,
                            fmt::format("{}: the connection closed before every answer came ({})", describe(),
                                        ec.message())));
    }
  }
  co_return finish(Result<void>{});
}

asio::awaitable<Result<std::vector<std::string>>> SocketRuntimeApi::run(std::vector<std::string> commands) {
  for (const auto& command : commands) {
    if (!is_well_formed(command)) {
      co_return fail(ErrorKind::invalid,
                     "a runtime API command must be one line, or a payload command (\"... <<\" and non-empty lines)");
    }
  }
  // In arrival order: a cutover's batch waits for a read in flight, never for a queue of them.
  auto turn = co_await m_one_at_a_time.lock();
  if (m_dialect == CliDialect::master) co_return co_await run_one_per_connection(std::move(commands));
  // Prompt mode answers each command, then "\n> "; severity numbers mark errors.
  std::string request = "prompt\nset severity-output number\n";
  for (const auto& command : commands) {
    request += command;
    request += '\n';
    if (command.find('\n') != std::string::npos) request += '\n';  // the empty line ends a payload
  }
  request += "quit\n";

  const std::size_t expected = commands.size() + 2;  // prompt, severity-output, then ours
  std::vector<std::string> answers;
  answers.reserve(expected);
  PromptStream stream;
  auto on_data = [&](std::string_view data) {
    stream.feed(data, answers);
    return answers.size() >= expected;
  };
  auto exchanged = co_await exchange(std::move(request), on_data, false);
  if (!exchanged) co_return std::unexpected(exchanged.error());
  answers.erase(answers.begin(), answers.begin() + 2);
  answers.resize(commands.size());
  // HAProxy prompts "+ " for every payload line it reads.
  for (auto& answer : answers) {
    std::size_t skip = 0;
    while (answer.compare(skip, 2, "+ ") == 0) skip += 2;
    answer.erase(0, skip);
  }
  co_return answers;
}

// The master CLI has its own prompt and no severity output: one command per
// connection, its answer read to EOF.
asio::awaitable<Result<std::vector<std::string>>> SocketRuntimeApi::run_one_per_connection(
    std::vector<std::string> commands) {
  std::vector<std::string> answers;
  for (const auto& command : commands) {
    std::string answer;
    auto on_data = [&answer](std::string_view data) {
      answer.append(data);
      return false;
    };
    // Without prompt mode the master CLI still waits for the next line:
    // `quit` ends the session once the answer is out.
    auto exchanged = co_await exchange(command + "\nquit\n", on_data, true);
    if (!exchanged) co_return std::unexpected(exchanged.error());
    answers.push_back(std::move(answer));
  }
  co_return answers;
}

}  // namespace lbctl::pools
