#include "pools/ssh_runtime_api.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/private_files.hpp"
#include "core/process.hpp"
#include "pools/prompt_mode.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t k_stderr_kept = 8192;

// The ControlPath sockets of this process's ssh connections: a private
// folder (mode 0700), gone at exit. Empty when it cannot be made: then no
// sharing, each session its own connection.
const std::string& control_folder() {
  static const std::optional<PrivateDir> folder = [] {
    std::error_code ec;
    auto made = PrivateDir::create(std::filesystem::temp_directory_path(ec), "ssh connection sharing");
    return made ? std::optional<PrivateDir>(std::move(*made)) : std::nullopt;
  }();
  static const std::string path = folder ? folder->path().string() : std::string();
  return path;
}

}  // namespace

// One ssh child: its pipes, and stderr (non-blocking, read when it ends or
// fails: no read stays pending between batches).
struct SshRuntimeApi::Child {
  Child(const asio::any_io_executor& executor, PipedProcess p)
      : process(std::move(p)),
        in(executor, process.take_stdin()),
        out(executor, process.take_stdout()),
        err_fd(process.take_stderr()),
        watchdog(executor) {
    ::fcntl(err_fd, F_SETFL, ::fcntl(err_fd, F_GETFL) | O_NONBLOCK);
  }
  ~Child() {
    if (err_fd >= 0) ::close(err_fd);
  }

  PipedProcess process;
  asio::posix::stream_descriptor in;
  asio::posix::stream_descriptor out;
  int err_fd = -1;
  std::string err;  // the last k_stderr_kept bytes it wrote
  asio::steady_timer watchdog;
  bool timed_out = false;

  void close() {
    boost::system::error_code ignored;
    in.close(ignored);
    out.close(ignored);
    process.kill();
  }
  bool running() { return !process.exit_code().has_value(); }
  // Takes what stderr holds now; true once it has reached EOF.
  bool read_stderr() {
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(err_fd, buffer, sizeof buffer);
      if (n > 0) {
        err.append(buffer, static_cast<std::size_t>(n));
        if (err.size() > k_stderr_kept) err.erase(0, err.size() - k_stderr_kept);
        continue;
      }
      return n == 0;
    }
  }
};

namespace {

asio::awaitable<void> sleep_for(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  boost::system::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

std::size_t next_connection_number() {
  static std::size_t number = 0;
  return ++number;
}

}  // namespace

SshRuntimeApi::SshRuntimeApi(RuntimeApiEndpoint endpoint, std::chrono::milliseconds timeout, CliDialect dialect)
    : m_endpoint(std::move(endpoint)), m_timeout(timeout), m_dialect(dialect) {
  // Short (a unix socket path holds 107 bytes): the folder and a number.
  if (const auto& folder = control_folder(); !folder.empty()) {
    m_control_path = fmt::format("{}/c{}", folder, next_connection_number());
  }
}

SshRuntimeApi::~SshRuntimeApi() {
  if (m_session) m_session->close();
  if (m_connection) m_connection->close();
}

pid_t SshRuntimeApi::connection_pid() const { return m_connection ? m_connection->process.pid() : 0; }

asio::awaitable<Result<std::shared_ptr<SshRuntimeApi::Child>>> SshRuntimeApi::start(std::vector<std::string> argv) {
  ProcessSpec spec;
  spec.argv = std::move(argv);
  auto process = PipedProcess::start(spec);
  if (!process) {
    co_return fail(ErrorKind::invalid, fmt::format("{}: cannot run the ssh client '{}': {}", describe(),
                                                   m_endpoint.ssh.program, process.error().message));
  }
  co_return std::make_shared<Child>(co_await asio::this_coro::executor, std::move(*process));
}

// The shared connection: started when there is none (or it died), and
// ready once its control socket is there. Its failures (host key, login,
// network) are named here, before any session.
void SshRuntimeApi::connect_early() {
  if (m_control_path.empty() || m_connection || m_early) return;
  std::error_code ignored;
  std::filesystem::remove(m_control_path, ignored);  // a dead connection's socket
  ProcessSpec spec;
  spec.argv = ssh_argv(m_endpoint, m_timeout, m_control_path, SshRole::connection);
  // One that cannot even start is left for the first batch to report.
  if (auto process = PipedProcess::start(spec)) m_early.emplace(std::move(*process));
}

asio::awaitable<Result<void>> SshRuntimeApi::ensure_connection() {
  if (m_control_path.empty()) co_return Result<void>{};
  if (m_connection && m_connection->running()) co_return Result<void>{};
  if (m_connection) m_connection->close();
  m_connection.reset();
  std::shared_ptr<Child> connection;
  if (m_early) {
    connection = std::make_shared<Child>(co_await asio::this_coro::executor, std::move(*m_early));
    m_early.reset();
  } else {
    std::error_code ignored;
    std::filesystem::remove(m_control_path, ignored);  // a dead connection's socket
    auto started = co_await start(ssh_argv(m_endpoint, m_timeout, m_control_path, SshRole::connection));
    if (!started) co_return std::unexpected(started.error());
    connection = *started;
  }
  ++m_connections;
  const auto deadline = std::chrono::steady_clock::now() + m_timeout;
  std::error_code ignored;
  while (!std::filesystem::exists(m_control_path, ignored)) {
    if (!connection->running() || std::chrono::steady_clock::now() >= deadline) {
      if (connection->running()) connection->timed_out = true;
      Error cause = co_await explain(connection);
      // No session ever ran on it: nothing was sent.
      if (cause.kind == ErrorKind::timeout) cause.kind = ErrorKind::unreachable;
      co_return std::unexpected(cause);
    }
    co_await sleep_for(5ms);
  }
  connection->read_stderr();
  m_connection = std::move(connection);
  co_return Result<void>{};
}

// Writes `request` (while reading, as HAProxy wants) and hands what stdout
// gives to `on_data` until it has every answer, or to EOF. The watchdog
// kills the session at m_timeout.
asio::awaitable<Result<void>> SshRuntimeApi::converse(std::shared_ptr<Child> session, std::string request,
                                                      std::function<bool(std::string_view)> on_data) {
  auto executor = co_await asio::this_coro::executor;
  session->watchdog.expires_after(m_timeout);
  session->watchdog.async_wait([weak = std::weak_ptr<Child>(session)](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    self->timed_out = true;
    self->close();
  });
  asio::co_spawn(
      executor,
      [session, request = std::move(request)]() -> asio::awaitable<void> {
        boost::system::error_code ec;
        co_await asio::async_write(session->in, asio::buffer(request), asio::redirect_error(asio::use_awaitable, ec));
      },
      asio::detached);
  char buffer[16384];
  boost::system::error_code ec;
  bool complete = false;
  while (!complete && !ec) {
    const std::size_t n =
        co_await session->out.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    complete = on_data(std::string_view(buffer, n));
  }
  session->watchdog.cancel();
  if (complete || ec == asio::error::eof) co_return Result<void>{};
  co_return fail(ErrorKind::timeout, "the session ended");
}

// Why a child ended early: waits (briefly) for ssh to exit and say why on
// stderr, then names the cause.
asio::awaitable<Error> SshRuntimeApi::explain(std::shared_ptr<Child> child) {
  const auto until = std::chrono::steady_clock::now() + std::min<std::chrono::milliseconds>(m_timeout, 2000ms);
  while (!child->timed_out && !(child->read_stderr() && !child->running()) &&
         std::chrono::steady_clock::now() < until) {
    co_await sleep_for(10ms);
  }
  child->read_stderr();
  child->close();
  if (child->timed_out) {
    co_return Error{ErrorKind::unreachable,
                    fmt::format("{}: no answer within {} ms{}", describe(), m_timeout.count(),
                                child->err.empty() ? "" : "; ssh: " + tail_lines(child->err, 1))};
  }
  co_return explain_ssh_failure(m_endpoint, child->err, child->process.exit_code(), m_reached);
}

// One session on the connection: sends `request`, returns stdout once
// `on_data` has every answer (or at EOF). A session that ends with no
// output at all sent nothing that ran (ssh, the far side or socat failed
// first): named, and `invalid` or `unreachable` as the cause says. One that
// breaks later: `timeout`, as some of the batch may have run.
asio::awaitable<Result<std::string>> SshRuntimeApi::session(std::string request,
                                                            std::function<bool(std::string_view)> on_data) {
  if (auto connected = co_await ensure_connection(); !connected) co_return std::unexpected(connected.error());
  auto started = co_await start(ssh_argv(m_endpoint, m_timeout, m_control_path, SshRole::session));
  if (!started) co_return std::unexpected(started.error());
  auto child = *started;
  std::string output;
  bool complete = false;
  auto collect = [&](std::string_view data) {
    output.append(data);
    complete = on_data(data);
    return complete;
  };
  const auto conversed = co_await converse(child, std::move(request), collect);
  if (conversed && (complete || !output.empty())) {
    child->close();
    m_reached = true;
    co_return output;
  }
  const bool timed_out = child->timed_out;
  Error cause = co_await explain(child);
  if (output.empty() && !(timed_out && m_reached)) co_return std::unexpected(cause);
  co_return fail(ErrorKind::timeout, fmt::format("{}: the ssh session broke {}({}); some of the batch may have run",
                                                 describe(), output.empty() ? "" : "mid-answer ", cause.message));
}

asio::awaitable<Result<std::vector<std::string>>> SshRuntimeApi::run(std::vector<std::string> commands) {
  if (auto checked = check_commands(commands); !checked) co_return std::unexpected(checked.error());
  auto turn = co_await m_one_at_a_time.lock();
  if (m_dialect == CliDialect::master) {
    // The master CLI: a session per command, its answer read to EOF.
    std::vector<std::string> answers;
    for (const auto& command : commands) {
      auto answer = co_await session(command + "\nquit\n", [](std::string_view) { return false; });
      if (!answer) co_return std::unexpected(answer.error());
      answers.push_back(std::move(*answer));
    }
    co_return answers;
  }
  if (auto ready = co_await ensure_session(); !ready) co_return std::unexpected(ready.error());
  PromptBatch batch(commands, PromptBatch::Framing::in_session);
  auto session = m_session;
  const auto conversed = co_await converse(session, batch.request(), [&](std::string_view data) { return batch.feed(data); });
  if (!conversed || !batch.complete()) {
    m_session.reset();
    const Error cause = co_await explain(session);
    co_return fail(ErrorKind::timeout,
                   fmt::format("{}: the ssh session ended after {} of {} answers ({}); the rest may have run", describe(),
                               batch.answered(), commands.size(), cause.message));
  }
  co_return batch.take_answers();
}

namespace {

bool is_stopping(const std::string& show_info) { return show_info.find("\nStopping: 1") != std::string::npos; }

}  // namespace

// A prompt-mode session whose worker is not stopping, before a batch: the
// kept one when it answers `show info` so, else a new one (on a new
// connection if need be). Nothing of the batch has been sent when this fails.
asio::awaitable<Result<void>> SshRuntimeApi::ensure_session() {
  if (m_session) {
    PromptBatch probe({"show info"}, PromptBatch::Framing::in_session);
    const auto asked = co_await converse(m_session, probe.request(), [&](std::string_view d) { return probe.feed(d); });
    if (asked && probe.complete() && !is_stopping(probe.take_answers().front())) co_return Result<void>{};
    m_session->close();
    m_session.reset();
  }
  if (auto connected = co_await ensure_connection(); !connected) co_return std::unexpected(connected.error());
  auto started = co_await start(ssh_argv(m_endpoint, m_timeout, m_control_path, SshRole::session));
  if (!started) co_return std::unexpected(started.error());
  auto child = *started;
  ++m_sessions;
  PromptBatch opening({"show info"}, PromptBatch::Framing::opening);
  const auto opened = co_await converse(child, opening.request(), [&](std::string_view d) { return opening.feed(d); });
  if (!opened || !opening.complete()) {
    Error cause = co_await explain(child);
    if (cause.kind == ErrorKind::timeout) cause.kind = ErrorKind::unreachable;  // only `show info` was sent
    co_return std::unexpected(cause);
  }
  m_reached = true;
  m_session = std::move(child);
  co_return Result<void>{};
}

}  // namespace lbctl::pools
