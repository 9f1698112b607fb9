#include "pools/config_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/private_files.hpp"
#include "pools/placeholders.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

namespace {

// Config and map files are text: a NUL byte means it is not one.
Result<std::string> as_text(std::string content, const std::string& where) {
  if (content.find('\0') != std::string::npos) {
    return fail(ErrorKind::invalid, fmt::format("{}: holds a NUL byte; not a text file", where));
  }
  return content;
}

// Owns a descriptor and, until released, the temporary file it names.
struct TempFile {
  int fd = -1;
  std::string path;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!path.empty()) ::unlink(path.c_str());
  }
  void keep() { path.clear(); }
};

// Whose the new file is: the file it replaces (its owner and mode, so the LB
// reads it as before), or lbctl's alone (a copy only the check reads: it
// holds the stats passwords).
enum class Attributes { of_target, private_copy };

// A temporary file next to `target` (same folder, so rename is atomic),
// created by mkstemp (a new file, mode 0600, never one that was there),
// holding `text`. Owner and mode are only ever taken from `target` itself.
Result<void> make_sibling(TempFile& temp, const std::filesystem::path& target, std::string_view text,
                          Attributes attributes) {
  const auto name = target.filename().string();
  std::string pattern = (target.parent_path() / ("." + name + ".lbctl-XXXXXX")).string();
  temp.fd = ::mkstemp(pattern.data());
  if (temp.fd < 0) {
    return fail(ErrorKind::refused,
                fmt::format("{}: cannot create a file beside it: {}", target.string(), std::strerror(errno)));
  }
  temp.path = pattern;
  struct stat old {};
  if (attributes == Attributes::private_copy) {
    // mkstemp's 0600 stands.
  } else if (::stat(target.c_str(), &old) == 0) {
    if (::fchmod(temp.fd, old.st_mode & 07777) != 0 ||
        (::fchown(temp.fd, old.st_uid, old.st_gid) != 0 && (old.st_uid != ::geteuid() || old.st_gid != ::getegid()))) {
      return fail(ErrorKind::refused, fmt::format("{}: cannot keep its owner and mode: {}", target.string(),
                                                  std::strerror(errno)));
    }
  } else {
    ::fchmod(temp.fd, 0644);
  }
  return write_fully(temp.fd, text, temp.path);
}

void fsync_folder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string output_of(const ProcessResult& result) {
  std::string text = tail_lines(result.err, 20);
  const std::string out = tail_lines(result.out, 20);
  if (!out.empty()) text += (text.empty() ? "" : "\n") + out;
  return text.empty() ? std::string("(no output)") : text;
}

}  // namespace

asio::awaitable<Result<void>> run_config_check(ProcessRunner& processes, std::vector<std::string> check,
                                               std::string file, std::chrono::milliseconds timeout) {
  auto argv = expand_argv(check, Placeholders{{"file", file}});
  if (!argv) co_return std::unexpected(argv.error().with_context("check"));
  ProcessSpec spec;
  spec.argv = std::move(*argv);
  spec.timeout = timeout;
  auto ran = co_await processes.run(std::move(spec));
  if (!ran) co_return std::unexpected(ran.error().with_context("check"));
  if (ran->exit_code != 0) {
    std::string output = output_of(*ran);
    const bool quiet = std::find(check.begin(), check.end(), "-q") != check.end();
    if (quiet && ran->out.empty() && ran->err.empty()) output += " (-q keeps HAProxy from saying why: drop it)";
    co_return fail(ErrorKind::refused, fmt::format("the check `{}` refused the new file (exit {}): {}",
                                                   describe_argv(check), ran->exit_code, output));
  }
  co_return Result<void>{};
}

LocalFileStore::LocalFileStore(ProcessRunner& processes, std::vector<std::string> check,
                               std::chrono::milliseconds timeout)
    : m_processes(processes), m_check(std::move(check)), m_timeout(timeout) {}

asio::awaitable<Result<std::string>> LocalFileStore::read(std::string path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) co_return fail(ErrorKind::unreachable, fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  std::string content;
  char buffer[65536];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) content.append(buffer, n);
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) co_return fail(ErrorKind::unreachable, fmt::format("cannot read {}", path));
  co_return as_text(std::move(content), path);
}

asio::awaitable<Result<void>> LocalFileStore::write(std::string path, std::string text, bool check_first) {
  // A symlinked config (/etc/haproxy/haproxy.cfg -> ...) stays a symlink:
  // the file it points at is the one replaced.
  std::error_code ec;
  std::filesystem::path target = std::filesystem::weakly_canonical(path, ec);
  if (ec) target = path;
  TempFile temp;
  if (auto made = make_sibling(temp, target, text, Attributes::of_target); !made) co_return made;
  if (check_first && !m_check.empty()) {
    if (auto checked = co_await run_config_check(m_processes, m_check, temp.path, m_timeout); !checked) {
      co_return std::unexpected(checked.error().with_context(path));
    }
  }
  if (::rename(temp.path.c_str(), target.c_str()) != 0) {
    co_return fail(ErrorKind::refused, fmt::format("{}: rename: {}", path, std::strerror(errno)));
  }
  temp.keep();
  fsync_folder(target.parent_path());
  co_return Result<void>{};
}

asio::awaitable<Result<void>> LocalFileStore::check(std::string path, std::string text) {
  if (m_check.empty()) co_return Result<void>{};
  std::error_code ec;
  std::filesystem::path target = std::filesystem::weakly_canonical(path, ec);
  if (ec) target = path;
  TempFile temp;
  if (auto made = make_sibling(temp, target, text, Attributes::private_copy); !made) co_return made;
  auto checked = co_await run_config_check(m_processes, m_check, temp.path, m_timeout);
  if (!checked) co_return std::unexpected(checked.error().with_context(path));
  co_return Result<void>{};
}

CommandStore::CommandStore(ProcessRunner& processes, std::vector<std::string> read, std::vector<std::string> write,
                           std::vector<std::string> check, std::chrono::milliseconds timeout)
    : m_processes(processes),
      m_read(std::move(read)),
      m_write(std::move(write)),
      m_check(std::move(check)),
      m_timeout(timeout) {}

std::string CommandStore::describe(const std::string& path) const {
  // For messages only: the placeholder as written where it cannot expand.
  const auto argv = expand_argv(m_read, Placeholders{{"file", path}}).value_or(m_read);
  return fmt::format("{} (read with `{}`)", path.empty() ? std::string("the file") : path, describe_argv(argv));
}

asio::awaitable<Result<std::string>> CommandStore::read(std::string path) {
  auto argv = expand_argv(m_read, Placeholders{{"file", path}});
  if (!argv) co_return std::unexpected(argv.error().with_context(describe(path)));
  ProcessSpec spec;
  spec.argv = std::move(*argv);
  spec.timeout = m_timeout;
  spec.max_out = std::size_t{256} << 20;
  auto ran = co_await m_processes.run(spec);
  if (!ran) co_return std::unexpected(ran.error().with_context(describe(path)));
  if (ran->exit_code != 0) {
    co_return fail(ErrorKind::unreachable, fmt::format("{}: `{}` failed (exit {}): {}", describe(path),
                                                       describe_argv(spec.argv), ran->exit_code, output_of(*ran)));
  }
  if (ran->out_truncated) co_return fail(ErrorKind::invalid, fmt::format("{}: larger than 256 MiB", describe(path)));
  co_return as_text(std::move(ran->out), describe(path));
}

asio::awaitable<Result<void>> CommandStore::check(std::string path, std::string text) {
  if (m_check.empty()) co_return Result<void>{};
  // The file lives on another host: its copy goes to a folder of lbctl's own
  // in $TMPDIR, made fresh for this check (mode 0700), never to a fixed name
  // there that another user could have made first.
  std::error_code ec;
  const auto temporary = std::filesystem::temp_directory_path(ec);
  if (ec) co_return fail(ErrorKind::refused, fmt::format("{}: no folder for the check's copy: {}", describe(path), ec.message()));
  auto dir = PrivateDir::create(temporary, "the persist check's copy");
  if (!dir) co_return std::unexpected(dir.error().with_context(describe(path)));
  const auto name = std::filesystem::path(path).filename().string();
  auto copy = dir->write(name.empty() || name == "." || name == ".." ? std::string("haproxy.cfg") : name, text);
  if (!copy) co_return std::unexpected(copy.error().with_context(describe(path)));
  auto checked = co_await run_config_check(m_processes, m_check, copy->string(), m_timeout);
  if (!checked) co_return std::unexpected(checked.error().with_context(describe(path)));
  co_return Result<void>{};
}

asio::awaitable<Result<void>> CommandStore::write(std::string path, std::string text, bool check_first) {
  if (check_first) {
    if (auto checked = co_await check(path, text); !checked) co_return checked;
  }
  auto argv = expand_argv(m_write, Placeholders{{"file", path}});
  if (!argv) co_return std::unexpected(argv.error().with_context(describe(path)));
  ProcessSpec spec;
  spec.argv = std::move(*argv);
  spec.timeout = m_timeout;
  spec.input = std::move(text);
  auto ran = co_await m_processes.run(spec);
  if (!ran) co_return std::unexpected(ran.error().with_context(describe(path)));
  if (ran->exit_code != 0) {
    co_return fail(ErrorKind::refused, fmt::format("{}: `{}` failed (exit {}): {}", describe(path),
                                                   describe_argv(spec.argv), ran->exit_code, output_of(*ran)));
  }
  co_return Result<void>{};
}

}  // namespace lbctl::pools
