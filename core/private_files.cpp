#include "core/private_files.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lbctl {

namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

Result<PrivateDir> PrivateDir::create(const std::filesystem::path& parent, std::string_view purpose) {
  std::string pattern = (parent.empty() ? std::filesystem::path(".") : parent) / ".lbctl-XXXXXX";
  // mkdtemp makes a new folder, mode 0700, or fails: never one that was there.
  if (::mkdtemp(pattern.data()) == nullptr) {
    return fail(ErrorKind::refused, fmt::format("cannot create a private folder in {} for {}: {}; nothing changed",
                                                parent.string(), purpose, errno_text()));
  }
  return PrivateDir(std::filesystem::path(pattern));
}

PrivateDir::PrivateDir(PrivateDir&& other) noexcept : m_path(std::move(other.m_path)) { other.m_path.clear(); }

PrivateDir::~PrivateDir() {
  if (m_path.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

Result<std::filesystem::path> PrivateDir::write(const std::string& name, std::string_view text) const {
  const auto file = m_path / name;
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(ErrorKind::refused, fmt::format("cannot write {}: {}; nothing changed", file.string(), errno_text()));
  }
  auto written = write_fully(fd, text, file.string());
  ::close(fd);
  if (!written) return std::unexpected(written.error());
  return file;
}

Result<void> write_fully(int fd, std::string_view text, const std::string& where) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(ErrorKind::refused, fmt::format("{}: write: {}", where, errno_text()));
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd) != 0) return fail(ErrorKind::refused, fmt::format("{}: fsync: {}", where, errno_text()));
  return {};
}

Result<void> write_file_atomically(const std::filesystem::path& file, std::string_view text, mode_t mode) {
  std::string pattern = (file.parent_path() / ("." + file.filename().string() + ".lbctl-XXXXXX")).string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) return fail(ErrorKind::refused, fmt::format("cannot write {}: {}", file.string(), errno_text()));
  auto written = ::fchmod(fd, mode) == 0
                     ? write_fully(fd, text, pattern)
                     : Result<void>(fail(ErrorKind::refused, fmt::format("{}: chmod: {}", pattern, errno_text())));
  ::close(fd);
  if (written && ::rename(pattern.c_str(), file.c_str()) != 0) {
    written = fail(ErrorKind::refused, fmt::format("cannot write {}: {}", file.string(), errno_text()));
  }
  if (!written) ::unlink(pattern.c_str());
  return written;
}

}  // namespace lbctl
