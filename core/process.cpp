#include "core/process.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::string tail_lines(std::string_view text, std::size_t lines) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  std::size_t pos = text.size();
  for (std::size_t n = 0; n < lines && pos > 0; ++n) {
    const std::size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string_view::npos) {
      pos = 0;
      break;
    }
    pos = nl;
  }
  if (pos > 0) ++pos;
  return std::string(text.substr(pos));
}

std::string describe_argv(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& arg : argv) {
    if (!text.empty()) text += ' ';
    text += arg;
  }
  return text;
}

namespace {

// Owns a file descriptor until it is handed to Asio.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

std::vector<std::string>& withheld_names() {
  static std::vector<std::string> names;
  return names;
}

// argv and envp as the C arrays posix_spawnp wants; the strings live here.
struct SpawnArgs {
  std::vector<std::string> env_strings;
  std::vector<char*> argv;
  std::vector<char*> envp;

  SpawnArgs(const std::vector<std::string>& args,
            const std::vector<std::pair<std::string, std::string>>& overrides) {
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::map<std::string, std::string> merged;
    for (char** e = environ; e && *e; ++e) {
      std::string_view entry(*e);
      const auto eq = entry.find('=');
      if (eq == std::string_view::npos) continue;
      std::string key(entry.substr(0, eq));
      if (std::find(withheld_names().begin(), withheld_names().end(), key) != withheld_names().end()) continue;
      merged[std::move(key)] = std::string(entry.substr(eq + 1));
    }
    for (const auto& [key, value] : overrides) merged[key] = value;
    env_strings.reserve(merged.size());
    for (const auto& [key, value] : merged) env_strings.push_back(key + "=" + value);
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
  }
};

// Resets what the child should not inherit: signal mask and dispositions.
void child_signal_defaults(posix_spawnattr_t& attr) {
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGCHLD);
  sigaddset(&defaults, SIGHUP);
  posix_spawnattr_setsigdefault(&attr, &defaults);
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Writes `text` to the program's stdin and closes it; a program that exits
// without reading it all is not an error here (its exit code tells).
asio::awaitable<void> write_all(asio::posix::stream_descriptor& to, std::string text) {
  boost::system::error_code ec;
  co_await asio::async_write(to, asio::buffer(text), asio::redirect_error(asio::use_awaitable, ec));
  to.close(ec);
}

// Reads until EOF, keeping at most `limit` bytes: the head, or with
// `keep_tail` the tail. Sets `*truncated` when something was dropped.
asio::awaitable<void> read_all(asio::posix::stream_descriptor& from, std::string& into, bool keep_tail,
                               std::size_t limit, bool* truncated) {
  char buffer[8192];
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n =
        co_await from.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (n > 0) {
      into.append(buffer, n);
      if (into.size() > limit) {
        if (keep_tail) into.erase(0, into.size() - limit);
        else into.resize(limit);
        if (truncated) *truncated = true;
      }
    }
    if (ec) co_return;
  }
}

}  // namespace

void withhold_from_children(std::vector<std::string> names) { withheld_names() = std::move(names); }

namespace {

// A started child: its pid, a pidfd that turns readable when it exits, and
// the parent's ends of its pipes.
struct Spawned {
  pid_t pid = -1;
  Fd exit_fd;
  Fd out, err, in;  // `in` only with spec.input
};

Result<void> make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(ErrorKind::refused, std::strerror(errno));
  read_end.fd = fds[0];
  write_end.fd = fds[1];
  return {};
}

Result<void> spawn(const ProcessSpec& spec, Spawned& child) {
  Fd out_write, err_write, in_read;
  if (auto made = make_pipe(child.out, out_write); !made) return made;
  if (auto made = make_pipe(child.err, err_write); !made) return made;
  if (spec.input) {
    // A program that exits without reading all of its stdin must fail that
    // one command, not kill this process with SIGPIPE.
    static const bool sigpipe_ignored = (std::signal(SIGPIPE, SIG_IGN), true);
    (void)sigpipe_ignored;
    if (auto made = make_pipe(in_read, child.in); !made) return made;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (spec.input) posix_spawn_file_actions_adddup2(&actions, in_read.fd, 0);
  else posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_write.fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so a timeout kills what it started too.
  posix_spawnattr_setpgroup(&attr, 0);
  child_signal_defaults(attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  SpawnArgs args(spec.argv, spec.env);
  const int rc = posix_spawnp(&child.pid, args.argv[0], &actions, &attr, args.argv.data(), args.envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return fail(ErrorKind::unreachable, fmt::format("cannot run '{}': {}", spec.argv[0], std::strerror(rc)));
  child.exit_fd.fd = static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0));
  if (child.exit_fd.fd < 0) {
    ::kill(-child.pid, SIGKILL);
    int status = 0;
    ::waitpid(child.pid, &status, 0);
    return fail(ErrorKind::refused, fmt::format("pidfd_open: {}", std::strerror(errno)));
  }
  return {};
}

asio::awaitable<void> sleep_until(asio::steady_timer& wake, asio::steady_timer::time_point until) {
  wake.expires_at(until);
  boost::system::error_code ec;
  co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

asio::awaitable<Result<ProcessResult>> PosixProcessRunner::run(ProcessSpec spec) {
  if (spec.argv.empty()) co_return fail(ErrorKind::invalid, "empty command");
  const auto started = std::chrono::steady_clock::now();
  Spawned child;
  if (auto spawned = spawn(spec, child); !spawned) co_return std::unexpected(spawned.error());
  auto executor = co_await asio::this_coro::executor;
  asio::posix::stream_descriptor out_stream(executor, child.out.release());
  asio::posix::stream_descriptor err_stream(executor, child.err.release());
  asio::posix::stream_descriptor exit_watch(executor, child.exit_fd.release());
  std::optional<asio::posix::stream_descriptor> in_stream;
  if (spec.input) in_stream.emplace(executor, child.in.release());
  asio::steady_timer wake(executor, asio::steady_timer::time_point::max());
  auto notify = [&wake] { wake.expires_at(asio::steady_timer::time_point::min()); };

  ProcessResult result;
  int pending = in_stream ? 3 : 2;  // the readers, and the stdin writer: the run ends once all are done
  bool exited = false;
  auto done = [&](std::exception_ptr) {
    --pending;
    notify();
  };
  asio::co_spawn(executor, read_all(out_stream, result.out, false, spec.max_out, &result.out_truncated), done);
  asio::co_spawn(executor, read_all(err_stream, result.err, true, k_max_output, nullptr), done);
  if (in_stream) asio::co_spawn(executor, write_all(*in_stream, std::move(*spec.input)), done);
  exit_watch.async_wait(asio::posix::stream_descriptor::wait_read, [&](boost::system::error_code) {
    exited = true;
    notify();
  });

  const auto deadline = started + spec.timeout;
  bool timed_out = false;
  while (!exited) {
    co_await sleep_until(wake, deadline);
    if (!exited && std::chrono::steady_clock::now() >= deadline && !timed_out) {
      timed_out = true;
      ::kill(-child.pid, SIGKILL);
      ::kill(child.pid, SIGKILL);
    }
  }
  int status = 0;
  ::waitpid(child.pid, &status, 0);
  result.exit_code = exit_code_of(status);

  // A background child may still hold the pipes open: give the readers a
  // moment to see EOF, then stop reading.
  const auto grace_end = std::chrono::steady_clock::now() + 200ms;
  while (pending > 0 && std::chrono::steady_clock::now() < grace_end) co_await sleep_until(wake, grace_end);
  out_stream.close();
  err_stream.close();
  if (in_stream) in_stream->close();
  while (pending > 0) co_await sleep_until(wake, asio::steady_timer::time_point::max());
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  if (timed_out) {
    std::string message = fmt::format("'{}' timed out after {} ms", spec.argv[0], spec.timeout.count());
    const std::string tail = tail_lines(result.err);
    if (!tail.empty()) message += "; stderr: " + tail;
    co_return fail(ErrorKind::timeout, std::move(message));
  }
  co_return result;
}

Result<PipedProcess> PipedProcess::start(const ProcessSpec& spec) {
  if (spec.argv.empty()) return fail(ErrorKind::invalid, "empty command");
  ProcessSpec piped = spec;
  piped.input = std::string{};  // stdin a pipe too
  Spawned child;
  if (auto spawned = spawn(piped, child); !spawned) return std::unexpected(spawned.error());
  PipedProcess process;
  process.m_pid = child.pid;
  process.m_in = child.in.release();
  process.m_out = child.out.release();
  process.m_err = child.err.release();
  return process;
}

PipedProcess::PipedProcess(PipedProcess&& other) noexcept
    : m_pid(std::exchange(other.m_pid, -1)),
      m_in(std::exchange(other.m_in, -1)),
      m_out(std::exchange(other.m_out, -1)),
      m_err(std::exchange(other.m_err, -1)),
      m_exit_code(other.m_exit_code) {}

PipedProcess::~PipedProcess() {
  for (int fd : {m_in, m_out, m_err}) {
    if (fd >= 0) ::close(fd);
  }
  if (m_pid > 0 && !m_exit_code) {
    kill();
    int status = 0;
    ::waitpid(m_pid, &status, 0);
  }
}

std::optional<int> PipedProcess::exit_code() {
  if (m_exit_code || m_pid <= 0) return m_exit_code;
  int status = 0;
  if (::waitpid(m_pid, &status, WNOHANG) == m_pid) m_exit_code = exit_code_of(status);
  return m_exit_code;
}

void PipedProcess::kill() {
  if (m_pid <= 0 || m_exit_code) return;
  ::kill(-m_pid, SIGKILL);
  ::kill(m_pid, SIGKILL);
}

Result<pid_t> start_detached(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                             const std::filesystem::path& log) {
  if (argv.empty()) return fail(ErrorKind::invalid, "empty command");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  child_signal_defaults(attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  SpawnArgs args(argv, {});
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args.argv[0], &actions, &attr, args.argv.data(), args.envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return fail(ErrorKind::unreachable, fmt::format("cannot run '{}': {}", argv[0], std::strerror(rc)));
  return pid;
}

std::optional<std::filesystem::path> find_program(const std::string& program) {
  if (program.empty()) return std::nullopt;
  auto executable = [](const std::filesystem::path& path) {
    std::error_code ec;
    return std::filesystem::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
  };
  if (program.find('/') != std::string::npos) {
    if (executable(program)) return std::filesystem::path(program);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const auto dir = dirs.substr(0, colon);
    const auto candidate = std::filesystem::path(dir.empty() ? "." : std::string(dir)) / program;
    if (executable(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) return false;  // our child, now reaped
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat_file(fmt::format("/proc/{}/stat", pid));
  std::string stat;
  std::getline(stat_file, stat);
  const auto close_paren = stat.rfind(')');
  if (close_paren != std::string::npos && close_paren + 2 < stat.size() && stat[close_paren + 2] == 'Z') return false;
  return true;
}

}  // namespace lbctl
