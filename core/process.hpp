#pragma once
// Running other programs: always an argv list handed to posix_spawnp, never a
// shell. Providers, hooks and the backup go through ProcessRunner so unit
// tests can fake it.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace lbctl {

struct ProcessSpec {
  std::vector<std::string> argv;
  // Added to (or replacing entries of) the inherited environment.
  std::vector<std::pair<std::string, std::string>> env;
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  // Written to the program's stdin, then closed; nullopt: stdin is /dev/null.
  std::optional<std::string> input;
  // stdout beyond this is cut (ProcessResult::out_truncated says so).
  std::size_t max_out = std::size_t{1} << 20;
};

struct ProcessResult {
  int exit_code = 0;        // the exit status, or 128 + signal when killed by one
  std::string out;          // stdout, at most spec.max_out bytes
  std::string err;          // stderr, the last k_max_output bytes
  std::chrono::milliseconds elapsed{0};
  bool out_truncated = false;  // stdout went past spec.max_out
};

inline constexpr std::size_t k_max_output = 1 << 20;

// The last `lines` lines of `text`, for error messages ("stderr: ...").
std::string tail_lines(std::string_view text, std::size_t lines = 5);

// "argv[0] arg1 ..." for messages; arguments are shown, so callers must not
// put secrets in argv they print.
std::string describe_argv(const std::vector<std::string>& argv);

// Variables of lbctl's own environment that no program it starts inherits
// (lbctl's secrets: the database URLs). A ProcessSpec may still set them.
void withhold_from_children(std::vector<std::string> names);

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;

  // Runs argv to completion, stdin from spec.input (else /dev/null). Returns the exit code and
  // output whatever the code; fails with `unreachable` when the program cannot
  // be started and with `timeout` (the process group killed, stderr's tail in
  // the message) when it runs past spec.timeout.
  virtual boost::asio::awaitable<Result<ProcessResult>> run(ProcessSpec spec) = 0;
};

class PosixProcessRunner final : public ProcessRunner {
 public:
  boost::asio::awaitable<Result<ProcessResult>> run(ProcessSpec spec) override;
};

// A program lbctl keeps talking to while it runs (an SSH session to an LB's
// socket): stdin, stdout and stderr are pipes the caller owns once taken. It
// runs in a process group of its own, killed (SIGKILL) and reaped when the
// object goes; exit_code() tells whether it has ended.
class PipedProcess {
 public:
  // `spec.input` and `spec.timeout` are not used: the caller writes and
  // decides how long to wait.
  static Result<PipedProcess> start(const ProcessSpec& spec);
  PipedProcess(PipedProcess&& other) noexcept;
  PipedProcess& operator=(PipedProcess&&) = delete;
  PipedProcess(const PipedProcess&) = delete;
  ~PipedProcess();

  pid_t pid() const { return m_pid; }
  // Each fd once; the caller closes it (e.g. an Asio stream_descriptor).
  int take_stdin() { return std::exchange(m_in, -1); }
  int take_stdout() { return std::exchange(m_out, -1); }
  int take_stderr() { return std::exchange(m_err, -1); }
  // Its exit code (128 + signal when killed by one) once it has exited
  // (reaped then); nullopt while it runs.
  std::optional<int> exit_code();
  // SIGKILL to its process group; reaped by exit_code() or the destructor.
  void kill();

 private:
  PipedProcess() = default;
  pid_t m_pid = -1;
  int m_in = -1, m_out = -1, m_err = -1;
  std::optional<int> m_exit_code;
};

// Starts a long-lived process in its own session (it outlives lbctl), stdin
// from /dev/null, stdout and stderr appended to `log`, in `cwd`.
Result<pid_t> start_detached(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                             const std::filesystem::path& log);

// Where `program` would be run from: itself when it holds a '/', else the
// first executable of that name on PATH; nullopt when there is none.
std::optional<std::filesystem::path> find_program(const std::string& program);

// True while `pid` names a live process (reaps it first if it is our child
// and has exited; a zombie counts as gone).
bool process_alive(pid_t pid);

}  // namespace lbctl
