// The persisted configuration files on a real file system, with real
// programs: the atomic local rewrite (owner and mode kept, a symlink kept,
// the check on the new text before it replaces the old), and the read/write
// commands of an LB on another host (the new file on stdin).

#include "tests/support/catch.hpp"

#include <boost/asio/io_context.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "core/process.hpp"
#include "pools/config_store.hpp"
#include "tests/support/haproxy_fixture.hpp"
#include "tests/support/run_async.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl;
using namespace lbctl::pools;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

unsigned mode_of(const std::filesystem::path& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 07777;
}

std::size_t entries_in(const std::filesystem::path& dir) {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir), {}));
}

}  // namespace

TEST_CASE("a local rewrite replaces the file whole and keeps its mode", "[integration][persist]") {
  test::TempDir dir;
  const auto file = dir.write("haproxy.cfg", "global\n    maxconn 100\n");
  ::chmod(file.c_str(), 0640);
  boost::asio::io_context io;
  PosixProcessRunner processes;
  LocalFileStore store(processes, {}, 10s);
  REQUIRE(test::run_async(io, store.write(file.string(), "global\n    maxconn 200\n", true)).has_value());
  CHECK(test::read_file(file) == "global\n    maxconn 200\n");
  CHECK(mode_of(file) == 0640);
  CHECK(entries_in(dir.path()) == 1);  // no temporary file left
  auto read = test::run_async(io, store.read(file.string()));
  REQUIRE(read.has_value());
  CHECK(*read == "global\n    maxconn 200\n");
}

TEST_CASE("a check that fails leaves the old file and returns its output", "[integration][persist]") {
  test::TempDir dir;
  const auto file = dir.write("haproxy.cfg", "the old text\n");
  boost::asio::io_context io;
  PosixProcessRunner processes;
  // The check sees the new text in a temporary file beside the real one.
  LocalFileStore store(processes, {"sh", "-c", "grep -q broken \"$0\" && echo \"[ALERT] line 3: broken\" >&2 && exit 1; exit 0",
                                   "{file}"},
                      10s);
  auto refused = test::run_async(io, store.write(file.string(), "a broken text\n", true));
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().kind == ErrorKind::refused);
  CHECK(refused.error().message.find("[ALERT] line 3: broken") != std::string::npos);
  CHECK(refused.error().message.find(file.string()) != std::string::npos);
  CHECK(test::read_file(file) == "the old text\n");
  CHECK(entries_in(dir.path()) == 1);
  REQUIRE(test::run_async(io, store.write(file.string(), "a good text\n", true)).has_value());
  CHECK(test::read_file(file) == "a good text\n");
}

TEST_CASE("haproxy -c as the check refuses a file HAProxy would not load", "[integration][persist]") {
  test::TempDir dir;
  // haproxy -c also wants a listener (exit 2 without: "will not start"); it binds nothing.
  const std::string good = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"
                           "frontend fe\n    bind 127.0.0.1:1\n    default_backend app\n"
                           "backend app\n    server a 127.0.0.1:1\n";
  const auto file = dir.write("haproxy.cfg", good);
  boost::asio::io_context io;
  PosixProcessRunner processes;
  LocalFileStore store(processes, {test::haproxy_program(), "-c", "-f", "{file}"}, 10s);
  REQUIRE(test::run_async(io, store.check(file.string(), good)).has_value());
  const std::string bad = good + "    server b 127.0.0.1:2 bogus-keyword\n";
  auto refused = test::run_async(io, store.write(file.string(), bad, true));
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message.find("unknown keyword 'bogus-keyword'") != std::string::npos);
  CHECK(test::read_file(file) == good);
  // -q silences HAProxy's reason: the message says so instead of nothing.
  LocalFileStore quiet(processes, {test::haproxy_program(), "-c", "-q", "-f", "{file}"}, 10s);
  auto silent = test::run_async(io, quiet.write(file.string(), bad, true));
  REQUIRE_FALSE(silent.has_value());
  CHECK(silent.error().message.find("-q keeps HAProxy from saying why") != std::string::npos);
}

TEST_CASE("a symlinked config stays a symlink, the file it points at is replaced", "[integration][persist]") {
  test::TempDir dir;
  const auto real = dir.write("real/haproxy.cfg", "old\n");
  const auto link = dir / "haproxy.cfg";
  std::filesystem::create_symlink(real, link);
  boost::asio::io_context io;
  PosixProcessRunner processes;
  LocalFileStore store(processes, {}, 10s);
  REQUIRE(test::run_async(io, store.write(link.string(), "new\n", false)).has_value());
  CHECK(std::filesystem::is_symlink(link));
  CHECK(test::read_file(real) == "new\n");
}

TEST_CASE("a file that is missing or holds a NUL byte is a clear error", "[integration][persist]") {
  test::TempDir dir;
  boost::asio::io_context io;
  PosixProcessRunner processes;
  LocalFileStore store(processes, {}, 10s);
  auto missing = test::run_async(io, store.read((dir / "nope.cfg").string()));
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().kind == ErrorKind::unreachable);
  CHECK(missing.error().message.find("nope.cfg") != std::string::npos);
  const auto binary = dir.write("binary.cfg", std::string("global\n\0x\n", 10));
  auto nul = test::run_async(io, store.read(binary.string()));
  REQUIRE_FALSE(nul.has_value());
  CHECK(nul.error().kind == ErrorKind::invalid);
}

TEST_CASE("read and write commands reach a file through programs, the new text on stdin", "[integration][persist]") {
  test::TempDir dir;
  const auto remote = dir.write("remote/haproxy.cfg", "old\n");
  boost::asio::io_context io;
  PosixProcessRunner processes;
  CommandStore store(processes, {"cat", "{file}"}, {"dd", "status=none", "of={file}"}, {}, 10s);
  auto read = test::run_async(io, store.read(remote.string()));
  REQUIRE(read.has_value());
  CHECK(*read == "old\n");
  const std::string big(3 << 20, 'x');  // bigger than a pipe, and than the usual output cap
  REQUIRE(test::run_async(io, store.write(remote.string(), big + "\n", false)).has_value());
  CHECK(test::read_file(remote) == big + "\n");
  auto again = test::run_async(io, store.read(remote.string()));
  REQUIRE(again.has_value());
  CHECK(again->size() == big.size() + 1);
}

TEST_CASE("a write command that fails is refused with its output", "[integration][persist]") {
  test::TempDir dir;
  boost::asio::io_context io;
  PosixProcessRunner processes;
  CommandStore store(processes, {"cat", "{file}"}, {"sh", "-c", "echo 'permission denied on lb2' >&2; exit 4"}, {}, 10s);
  auto refused = test::run_async(io, store.write("/etc/haproxy/haproxy.cfg", "text\n", false));
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().kind == ErrorKind::refused);
  CHECK(refused.error().message.find("exit 4") != std::string::npos);
  CHECK(refused.error().message.find("permission denied on lb2") != std::string::npos);
}
