// The copy of haproxy.cfg that `haproxy -c` checks before a persisted
// write holds the stats passwords, and HAProxy runs a lua-load file's code
// while checking: another local user must never own it, read it or swap it.
// A file planted at the old fixed name in $TMPDIR is left as it is.

#include <boost/asio/io_context.hpp>
#include "tests/support/catch.hpp"
#include <cstdlib>
#include <fstream>
#include <pwd.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "pools/config_store.hpp"
#include "tests/support/run_async.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl;
using namespace std::chrono_literals;
using lbctl::test::read_file;
using lbctl::test::TempDir;

namespace {

// $TMPDIR for the scope of a test, as another user's /tmp would be: a folder
// anyone may write in (sticky).
class SharedTmp {
 public:
  SharedTmp() : m_old(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "") {
    std::filesystem::permissions(m_dir.path(), std::filesystem::perms::all | std::filesystem::perms::sticky_bit);
    ::setenv("TMPDIR", m_dir.path().c_str(), 1);
  }
  ~SharedTmp() {
    if (m_old.empty()) ::unsetenv("TMPDIR");
    else ::setenv("TMPDIR", m_old.c_str(), 1);
  }
  const std::filesystem::path& path() const { return m_dir.path(); }

 private:
  TempDir m_dir;
  std::string m_old;
};

struct Seen {
  uid_t uid = 0;
  unsigned mode = 0;
  std::filesystem::path path;
  std::string text;
};

// The check command: a script of the test's that records what it was given.
std::vector<std::string> recording_check(const std::filesystem::path& report) {
  return {"sh", "-c", "stat -c '%u %a %n' \"$1\" > \"$2\"; cat \"$1\" > \"$2.text\"", "check", "{file}", report.string()};
}

Seen seen(const std::filesystem::path& report) {
  Seen out;
  std::istringstream in(read_file(report));
  std::string octal;
  in >> out.uid >> octal;
  out.mode = static_cast<unsigned>(std::stoul(octal, nullptr, 8));
  std::string path;
  std::getline(in >> std::ws, path);
  out.path = path;
  out.text = read_file(report.string() + ".text");
  return out;
}

}  // namespace

TEST_CASE("a check copy is lbctl's own, mode 0600, never the file planted in $TMPDIR", "[security][persist]") {
  SharedTmp tmp;
  const passwd* nobody = ::getpwnam("nobody");
  REQUIRE(nobody != nullptr);
  const auto planted = tmp.path() / "lbctl-check.cfg";
  {
    std::ofstream out(planted);
    out << "planted by nobody\n";
  }
  REQUIRE(::chown(planted.c_str(), nobody->pw_uid, nobody->pw_gid) == 0);
  REQUIRE(::chmod(planted.c_str(), 0666) == 0);

  TempDir results;
  const auto report = results / "report";
  PosixProcessRunner runner;
  boost::asio::io_context io;
  pools::CommandStore store(runner, {"cat", "{file}"}, {"tee", "{file}"}, recording_check(report), 10s);
  const std::string config = "global\n  stats socket /run/haproxy/admin.sock level admin\n"
                             "userlist stats\n  user admin insecure-password s3cret\n";
  const auto checked = test::run_async(io, store.check("/etc/haproxy/haproxy.cfg", config));
  INFO((checked ? std::string() : checked.error().message));
  REQUIRE(checked);

  const auto copy = seen(report);
  CHECK(copy.uid == ::geteuid());
  CHECK(copy.mode == 0600);
  CHECK(copy.text == config);
  CHECK(copy.path != planted);
  CHECK(copy.path.parent_path().parent_path() == tmp.path());
  // Its folder was made for this check (0700) and is gone after it.
  CHECK_FALSE(std::filesystem::exists(copy.path.parent_path()));
  // The planted file is as it was.
  struct stat info {};
  REQUIRE(::stat(planted.c_str(), &info) == 0);
  CHECK(info.st_uid == nobody->pw_uid);
  CHECK((info.st_mode & 07777) == 0666);
  CHECK(read_file(planted) == "planted by nobody\n");
}

TEST_CASE("a local file's check copy sits beside it, lbctl's own and mode 0600", "[security][persist]") {
  TempDir lb;
  const auto file = lb.write("haproxy.cfg", "global\n");
  REQUIRE(::chmod(file.c_str(), 0644) == 0);
  TempDir results;
  const auto report = results / "report";
  PosixProcessRunner runner;
  boost::asio::io_context io;
  pools::LocalFileStore store(runner, recording_check(report), 10s);
  const auto checked = test::run_async(io, store.check(file.string(), "global\n  maxconn 10\n"));
  REQUIRE(checked);
  const auto copy = seen(report);
  CHECK(copy.uid == ::geteuid());
  CHECK(copy.mode == 0600);
  CHECK(copy.path.parent_path() == lb.path());
  CHECK_FALSE(std::filesystem::exists(copy.path));
  CHECK(read_file(file) == "global\n");
}
