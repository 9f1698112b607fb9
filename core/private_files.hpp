#pragma once
// Files lbctl writes where another local user might be waiting for them: a
// private folder for temporary copies (mkdtemp, mode 0700, removed with
// everything in it), and the atomic replacement of a file through a
// temporary of its own (mkstemp beside it, never a fixed name another user
// could create first or point elsewhere with a symlink).

#include <filesystem>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "core/error.hpp"

namespace lbctl {

// A folder only this user can enter, made fresh inside `parent`; removed,
// with everything in it, when the object goes.
class PrivateDir {
 public:
  // `purpose` completes the error: "cannot create a private folder in PARENT
  // for PURPOSE: ...".
  static Result<PrivateDir> create(const std::filesystem::path& parent, std::string_view purpose);
  PrivateDir(PrivateDir&& other) noexcept;
  PrivateDir& operator=(PrivateDir&&) = delete;
  PrivateDir(const PrivateDir&) = delete;
  ~PrivateDir();

  const std::filesystem::path& path() const { return m_path; }
  // Writes `text` to a new file `name` inside it (mode 0600, never through a
  // link); refused when it cannot.
  Result<std::filesystem::path> write(const std::string& name, std::string_view text) const;

 private:
  explicit PrivateDir(std::filesystem::path path) : m_path(std::move(path)) {}
  std::filesystem::path m_path;
};

// Replaces `file` with `text` all at once: a temporary made by mkstemp in the
// same folder (mode `mode`), written, fsynced, renamed over `file`. A reader
// sees the old text or the new one; nothing is ever written through a name
// someone else chose.
Result<void> write_file_atomically(const std::filesystem::path& file, std::string_view text, mode_t mode = 0644);

// Writes all of `text` to `fd` and fsyncs it; `where` names it in errors.
Result<void> write_fully(int fd, std::string_view text, const std::string& where);

}  // namespace lbctl
