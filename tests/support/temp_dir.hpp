#pragma once
// A fresh directory under /tmp, removed with everything in it at scope exit.

#include <filesystem>
#include <string>

namespace lbctl::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::string& name) const { return m_path / name; }
  // Writes `text` to `name` (creating parent folders) and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& text) const;
  // Lets the postgres user read and traverse it.
  void open_to_postgres() const;

 private:
  std::filesystem::path m_path;
};

std::string read_file(const std::filesystem::path& path);

}  // namespace lbctl::test
