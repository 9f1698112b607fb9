#pragma once
// Where an LB's configuration files live, behind an interface: a local file
// replaced atomically, or the user's own commands for an LB on another host.
// lbctl rewrites these files so that what it changed through the runtime API
// survives a reload; tests use an in-memory store.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/process.hpp"

namespace lbctl::pools {

class ConfigStore {
 public:
  virtual ~ConfigStore() = default;

  // The text of the file at `path` (the config file, or a map file).
  // `unreachable` when it cannot be read (missing, unreadable, a read command
  // that fails or does not start), `invalid` when it holds a NUL byte.
  virtual boost::asio::awaitable<Result<std::string>> read(std::string path) = 0;

  // Replaces the file at `path` with `text`, all at once: a reader sees the
  // old file or the new one, never a mix. With `check`, the configured check
  // runs on the new text first; when it fails, the old file stays and the
  // result is `refused` carrying the check's output.
  virtual boost::asio::awaitable<Result<void>> write(std::string path, std::string text, bool check_first) = 0;

  // Runs the configured check on `text` as the file at `path` would hold
  // it, without replacing anything; `refused` with its output when it fails.
  virtual boost::asio::awaitable<Result<void>> check(std::string path, std::string text) = 0;
  // Whether a check is configured (plan says so).
  virtual bool has_check() const = 0;

  // "FILE" or "FILE via ssh ..." for messages.
  virtual std::string describe(const std::string& path) const = 0;
};

// A file on this machine. The new text goes to a temporary file in the same
// folder (mkstemp, so the rename is atomic and the name is new), takes the
// old file's owner and mode, is fsynced, checked with {file} naming the
// temporary file, then renamed over the old one, and the folder fsynced. A
// check without a write uses a copy of lbctl's own (mode 0600) beside it.
class LocalFileStore final : public ConfigStore {
 public:
  LocalFileStore(ProcessRunner& processes, std::vector<std::string> check, std::chrono::milliseconds timeout);

  boost::asio::awaitable<Result<std::string>> read(std::string path) override;
  boost::asio::awaitable<Result<void>> write(std::string path, std::string text, bool check_first) override;
  boost::asio::awaitable<Result<void>> check(std::string path, std::string text) override;
  bool has_check() const override { return !m_check.empty(); }
  std::string describe(const std::string& path) const override { return path; }

 private:
  ProcessRunner& m_processes;
  std::vector<std::string> m_check;
  std::chrono::milliseconds m_timeout;
};

// A file on another host, through the user's commands (argv, never a shell):
// `read` prints the file, `write` takes the new file on stdin; {file} in
// either is the file's path there. The check runs here, on a copy in a
// folder made for it in $TMPDIR (mode 0700, removed after).
class CommandStore final : public ConfigStore {
 public:
  CommandStore(ProcessRunner& processes, std::vector<std::string> read, std::vector<std::string> write,
               std::vector<std::string> check, std::chrono::milliseconds timeout);

  boost::asio::awaitable<Result<std::string>> read(std::string path) override;
  boost::asio::awaitable<Result<void>> write(std::string path, std::string text, bool check_first) override;
  boost::asio::awaitable<Result<void>> check(std::string path, std::string text) override;
  bool has_check() const override { return !m_check.empty(); }
  std::string describe(const std::string& path) const override;

 private:
  ProcessRunner& m_processes;
  std::vector<std::string> m_read;
  std::vector<std::string> m_write;
  std::vector<std::string> m_check;
  std::chrono::milliseconds m_timeout;
};

// Runs `check` (with {file} = `file`) and turns a non-zero exit into
// `refused` carrying its output. Shared by both stores.
boost::asio::awaitable<Result<void>> run_config_check(ProcessRunner& processes, std::vector<std::string> check,
                                                      std::string file, std::chrono::milliseconds timeout);

}  // namespace lbctl::pools
