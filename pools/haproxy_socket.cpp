#include "pools/haproxy_socket.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <optional>

namespace lbctl::pools {

namespace asio = boost::asio;
using Socket = asio::generic::stream_protocol::socket;

namespace {

// The client side of mutual TLS: the LB's certificate must chain to the CA;
// ours is sent when asked. Fails with the file and OpenSSL's reason.
std::shared_ptr<asio::ssl::context> make_tls_context(const TlsOptions& tls, std::string* problem) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  context->set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1,
                       ec);
  context->load_verify_file(tls.ca_file.string(), ec);
  if (ec) {
    *problem = fmt::format("cannot use tls.ca_file {}: {}", tls.ca_file.string(), ec.message());
    return nullptr;
  }
  context->use_certificate_chain_file(tls.cert_file.string(), ec);
  if (ec) {
    *problem = fmt::format("cannot use tls.cert_file {}: {}", tls.cert_file.string(), ec.message());
    return nullptr;
  }
  context->use_private_key_file(tls.key_file.string(), asio::ssl::context::pem, ec);
  if (ec) {
    *problem = fmt::format("cannot use tls.key_file {}: {}", tls.key_file.string(), ec.message());
    return nullptr;
  }
  context->set_verify_mode(asio::ssl::verify_peer);
  return context;
}

}  // namespace

SocketRuntimeApi::SocketRuntimeApi(RuntimeApiEndpoint endpoint, std::chrono::milliseconds timeout, CliDialect dialect)
    : m_endpoint(std::move(endpoint)), m_timeout(timeout), m_dialect(dialect) {
  if (m_endpoint.kind == RuntimeApiEndpoint::Kind::tls) m_tls = make_tls_context(m_endpoint.tls, &m_tls_problem);
}

SocketRuntimeApi::~SocketRuntimeApi() = default;

namespace {

using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;

// The connection and its watchdog share this, so a timer that fires after the
// coroutine has moved on never touches a dead frame. TLS runs over its own
// tcp socket; unix and plain tcp over the generic one.
struct Exchange {
  Exchange(const asio::any_io_executor& executor, asio::ssl::context* tls) : socket(executor), watchdog(executor) {
    if (tls) tls_stream.emplace(executor, *tls);
  }
  Socket socket;
  std::optional<TlsStream> tls_stream;
  asio::steady_timer watchdog;
  bool timed_out = false;

  void close() {
    boost::system::error_code ignored;
    if (tls_stream) tls_stream->lowest_layer().close(ignored);
    socket.close(ignored);
  }
  asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer, boost::system::error_code& ec) {
    if (tls_stream) co_return co_await tls_stream->async_read_some(buffer, asio::redirect_error(asio::use_awaitable, ec));
    co_return co_await socket.async_read_some(buffer, asio::redirect_error(asio::use_awaitable, ec));
  }
  asio::awaitable<void> write(const std::string& text) {
    boost::system::error_code ec;
    if (tls_stream) co_await asio::async_write(*tls_stream, asio::buffer(text), asio::redirect_error(asio::use_awaitable, ec));
    else co_await asio::async_write(socket, asio::buffer(text), asio::redirect_error(asio::use_awaitable, ec));
  }
};

bool is_connect_failure(const boost::system::error_code& ec) {
  return ec == asio::error::connection_refused || ec == asio::error::not_found ||
         ec == boost::system::errc::no_such_file_or_directory || ec == asio::error::host_unreachable ||
         ec == asio::error::network_unreachable || ec == boost::system::errc::permission_denied ||
         ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again;
}

// A TLS error that says the two sides do not trust each other (not a network
// hiccup): the CA, the certificate, its name, the LB refusing ours.
bool is_tls_trust_failure(const boost::system::error_code& ec) {
  return ec.category() == asio::error::get_ssl_category();
}

std::string tls_hint(const boost::system::error_code& ec, const RuntimeApiEndpoint& endpoint) {
  const std::string reason = ec.message();
  const std::string name = endpoint.tls.server_name.empty() ? endpoint.host : endpoint.tls.server_name;
  if (reason.find("certificate verify failed") != std::string::npos) {
    return fmt::format("the LB's certificate is not signed by tls.ca_file ({}) or does not name {}",
                       endpoint.tls.ca_file.string(), name);
  }
  if (reason.find("alert") != std::string::npos) {
    return fmt::format("the LB refused lbctl's certificate (tls.cert_file {}): is it signed by the CA the LB's "
                       "bind trusts (ca-file), with a CN the LB accepts?",
                       endpoint.tls.cert_file.string());
  }
  if (reason.find("wrong version number") != std::string::npos || reason.find("packet length") != std::string::npos) {
    return "the port does not speak TLS (`stats socket ... ssl` answers in plain text: put a listen section in "
           "front of the socket, configs/haproxy-tls-cli.cfg)";
  }
  return "the TLS handshake failed";
}

// Why an exchange with `who` failed at `what`: the watchdog, a connection
// refused (unreachable), or anything else (invalid).
Error exchange_failure(const Exchange& exchange, std::string_view who, std::chrono::milliseconds timeout,
                       std::string_view what, const boost::system::error_code& ec) {
  if (exchange.timed_out) return Error{ErrorKind::timeout, fmt::format("{}: no answer within {} ms", who, timeout.count())};
  const ErrorKind kind = is_connect_failure(ec) ? ErrorKind::unreachable : ErrorKind::invalid;
  return Error{kind, fmt::format("{}: {}: {}", who, what, ec.message())};
}

// Connects to the socket path, or to the first of the host's addresses that answers.
asio::awaitable<boost::system::error_code> connect(Exchange& exchange, const RuntimeApiEndpoint& endpoint,
                                                   const asio::any_io_executor& executor) {
  boost::system::error_code ec;
  if (endpoint.kind == RuntimeApiEndpoint::Kind::unix_socket) {
    co_await exchange.socket.async_connect(asio::local::stream_protocol::endpoint(endpoint.path),
                                           asio::redirect_error(asio::use_awaitable, ec));
    co_return ec;
  }
  asio::ip::tcp::resolver resolver(executor);
  auto endpoints = co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return ec;
  ec = asio::error::host_not_found;
  for (const auto& entry : endpoints) {
    if (exchange.tls_stream) {
      auto& tcp = exchange.tls_stream->next_layer();
      if (tcp.is_open()) tcp.close();
      co_await tcp.async_connect(entry.endpoint(), asio::redirect_error(asio::use_awaitable, ec));
    } else {
      if (exchange.socket.is_open()) exchange.socket.close();
      co_await exchange.socket.async_connect(asio::generic::stream_protocol::endpoint(entry.endpoint()),
                                             asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec) break;
  }
  co_return ec;
}

// The TLS handshake, naming the LB (SNI) and checking its certificate's name.
asio::awaitable<Result<void>> handshake(Exchange& exchange, const RuntimeApiEndpoint& endpoint, std::string_view who,
                                        std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  const std::string& name = endpoint.tls.server_name.empty() ? endpoint.host : endpoint.tls.server_name;
  // SNI (SSL_set_tlsext_host_name, a macro with a C cast).
  SSL_ctrl(exchange.tls_stream->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
           const_cast<char*>(name.c_str()));
  exchange.tls_stream->set_verify_callback(asio::ssl::host_name_verification(name));
  co_await exchange.tls_stream->async_handshake(asio::ssl::stream_base::client,
                                                asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_return Result<void>{};
  if (exchange.timed_out) co_return std::unexpected(exchange_failure(exchange, who, timeout, "TLS handshake", ec));
  // Trust is configuration: never retried, exit 2 before a cutover starts.
  const ErrorKind kind = is_tls_trust_failure(ec) ? ErrorKind::invalid : ErrorKind::unreachable;
  co_return fail(kind, fmt::format("{}: {}: {}", who, tls_hint(ec, endpoint), ec.message()));
}

// Why a read ended before every answer came.
Error read_failure(const Exchange& exchange, const RuntimeApiEndpoint& endpoint, std::string_view who,
                   std::chrono::milliseconds timeout, bool any, bool reached_before,
                   const boost::system::error_code& ec) {
  if (exchange.timed_out) return exchange_failure(exchange, who, timeout, "reading", ec);
  if (exchange.tls_stream && !any && (is_tls_trust_failure(ec) && ec != asio::ssl::error::stream_truncated)) {
    // TLS 1.3: the LB judges our certificate after the handshake, and its refusal comes as the first read.
    return Error{ErrorKind::invalid, fmt::format("{}: {}: {}", who, tls_hint(ec, endpoint), ec.message())};
  }
  if (exchange.tls_stream && !any && !reached_before) {
    return Error{ErrorKind::invalid, fmt::format("{}: the LB closed the TLS connection before answering ({}): does "
                                                 "its listen section accept lbctl's certificate (its CN)?",
                                                 who, ec.message())};
  }
  // The LB went away mid-answer (a reload, a restart): some commands may
  // have run, as after a timeout; the caller reads again before acting.
  return Error{ErrorKind::timeout,
               fmt::format("{}: the connection closed before every answer came ({})", who, ec.message())};
}

}  // namespace

// One connection: connects, writes `request` while reading, and hands each
// chunk read to `on_data`, which returns true once it has every answer. The
// watchdog bounds the whole exchange.
asio::awaitable<Result<void>> SocketRuntimeApi::exchange(std::string request,
                                                         std::function<bool(std::string_view)> on_data,
                                                         bool until_eof) {
  if (m_endpoint.kind == RuntimeApiEndpoint::Kind::tls && !m_tls) {
    co_return fail(ErrorKind::invalid, fmt::format("{}: {}", describe(), m_tls_problem));
  }
  auto executor = co_await asio::this_coro::executor;
  auto exchange = std::make_shared<Exchange>(executor, m_tls.get());
  exchange->watchdog.expires_after(m_timeout);
  exchange->watchdog.async_wait([weak = std::weak_ptr<Exchange>(exchange)](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    self->timed_out = true;
    self->close();
  });
  auto finish = [&](Result<void> result) {
    exchange->watchdog.cancel();
    exchange->close();
    if (result) m_reached = true;
    return result;
  };
  const std::string who = describe();
  if (auto ec = co_await connect(*exchange, m_endpoint, executor)) {
    co_return finish(std::unexpected(exchange_failure(*exchange, who, m_timeout, "cannot connect", ec)));
  }
  if (exchange->tls_stream) {
    if (auto shaken = co_await handshake(*exchange, m_endpoint, who, m_timeout); !shaken) co_return finish(shaken);
  }

  // Write while reading: HAProxy answers as it goes and stops reading when we
  // do not drain its output. A failed write shows on the read side as a
  // short stream.
  asio::co_spawn(
      executor,
      [exchange, request = std::move(request)]() -> asio::awaitable<void> { co_await exchange->write(request); },
      asio::detached);

  char buffer[16384];
  bool any = false;
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = co_await exchange->read_some(asio::buffer(buffer), ec);
    any = any || n > 0;
    const bool complete = on_data(std::string_view(buffer, n));
    if (complete && !until_eof) break;
    if (ec == asio::error::eof && until_eof) break;
    if (ec) co_return finish(std::unexpected(read_failure(*exchange, m_endpoint, who, m_timeout, any, m_reached, ec)));
  }
  co_return finish(Result<void>{});
}

asio::awaitable<Result<std::vector<std::string>>> SocketRuntimeApi::run(std::vector<std::string> commands) {
  if (auto checked = check_commands(commands); !checked) co_return std::unexpected(checked.error());
  // In arrival order: a cutover's batch waits for a read in flight, never for a queue of them.
  auto turn = co_await m_one_at_a_time.lock();
  if (m_dialect == CliDialect::master) co_return co_await run_one_per_connection(std::move(commands));
  // Prompt mode answers each command, then "\n> "; severity numbers mark errors.
  PromptBatch batch(commands);
  auto exchanged = co_await exchange(batch.request(), [&](std::string_view data) { return batch.feed(data); }, false);
  if (!exchanged) co_return std::unexpected(exchanged.error());
  co_return batch.take_answers();
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
