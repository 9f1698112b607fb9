#include "tests/support/catch.hpp"

#include <boost/asio/io_context.hpp>

#include "core/process.hpp"
#include "tests/support/run_async.hpp"
#include <thread>

using namespace lbctl;
using namespace std::chrono_literals;

namespace {

ProcessSpec spec(std::vector<std::string> argv, std::vector<std::pair<std::string, std::string>> env,
                 std::chrono::milliseconds timeout) {
  ProcessSpec spec;
  spec.argv = std::move(argv);
  spec.env = std::move(env);
  spec.timeout = timeout;
  return spec;
}

}  // namespace

TEST_CASE("a program's exit code and output come back, without a shell", "[integration][process]") {
  boost::asio::io_context io;
  PosixProcessRunner runner;
  // A shell would expand $HOME and split on ';': argv passes them through.
  auto result = test::run_async(io, runner.run(spec({"echo", "$HOME;", "x"}, {}, 5s)));
  REQUIRE(result.has_value());
  CHECK(result->exit_code == 0);
  CHECK(result->out == "$HOME; x\n");
}

TEST_CASE("a non-zero exit is reported with stderr, not as an error", "[integration][process]") {
  boost::asio::io_context io;
  PosixProcessRunner runner;
  auto result = test::run_async(io, runner.run(spec({"ls", "/no/such/path"}, {}, 5s)));
  REQUIRE(result.has_value());
  CHECK(result->exit_code != 0);
  CHECK(result->err.find("/no/such/path") != std::string::npos);
}

TEST_CASE("a program that cannot be found is unreachable", "[integration][process]") {
  boost::asio::io_context io;
  PosixProcessRunner runner;
  auto result = test::run_async(io, runner.run(spec({"/no/such/program"}, {}, 5s)));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().kind == ErrorKind::unreachable);
  CHECK(result.error().message.find("/no/such/program") != std::string::npos);
}

TEST_CASE("a program past its timeout is killed and reported with its stderr", "[integration][process]") {
  boost::asio::io_context io;
  PosixProcessRunner runner;
  const auto started = std::chrono::steady_clock::now();
  auto result = test::run_async(
      io, runner.run(spec({"python3", "-c", "import sys,time; print('stuck here', file=sys.stderr, flush=True); time.sleep(30)"}, {}, 700ms)));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().kind == ErrorKind::timeout);
  CHECK(result.error().message.find("stuck here") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}

TEST_CASE("environment variables given are added for the program", "[integration][process]") {
  boost::asio::io_context io;
  PosixProcessRunner runner;
  auto result = test::run_async(io, runner.run(spec({"printenv", "LBCTL_TEST_VALUE"}, {{"LBCTL_TEST_VALUE", "a b;c"}}, 5s)));
  REQUIRE(result.has_value());
  CHECK(result->out == "a b;c\n");
}

TEST_CASE("variables withheld from children are not inherited, unless a spec sets them", "[integration][process]") {
  ::setenv("LBCTL_TEST_WITHHELD", "secret-value", 1);
  ::setenv("LBCTL_TEST_PASSED", "plain-value", 1);
  withhold_from_children({"LBCTL_TEST_WITHHELD"});
  boost::asio::io_context io;
  PosixProcessRunner runner;
  auto inherited = test::run_async(io, runner.run(spec({"env"}, {}, 5s)));
  auto explicit_value =
      test::run_async(io, runner.run(spec({"printenv", "LBCTL_TEST_WITHHELD"}, {{"LBCTL_TEST_WITHHELD", "given"}}, 5s)));
  withhold_from_children({});
  ::unsetenv("LBCTL_TEST_WITHHELD");
  ::unsetenv("LBCTL_TEST_PASSED");
  REQUIRE(inherited.has_value());
  CHECK(inherited->out.find("secret-value") == std::string::npos);
  CHECK(inherited->out.find("LBCTL_TEST_PASSED=plain-value") != std::string::npos);
  REQUIRE(explicit_value.has_value());
  CHECK(explicit_value->out == "given\n");
}

TEST_CASE("a background child holding the pipe does not hang the run", "[integration][process]") {
  boost::asio::io_context io;
  PosixProcessRunner runner;
  const auto started = std::chrono::steady_clock::now();
  auto result = test::run_async(io, runner.run(spec({"python3", "-c",
      "import os,time\nif os.fork()==0:\n  time.sleep(3)\n  os._exit(0)\nprint('parent done')"}, {}, 10s)));
  REQUIRE(result.has_value());
  CHECK(result->out.find("parent done") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
}

TEST_CASE("a detached process outlives the call and is seen alive until it ends", "[integration][process]") {
  const auto dir = std::filesystem::temp_directory_path();
  auto pid = start_detached({"sleep", "0.3"}, dir, "/dev/null");
  REQUIRE(pid.has_value());
  CHECK(process_alive(*pid));
  const auto end = std::chrono::steady_clock::now() + 5s;
  while (process_alive(*pid) && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(20ms);
  CHECK_FALSE(process_alive(*pid));
}

TEST_CASE("a program gets its input on stdin, also more than a pipe holds", "[integration][process]") {
  boost::asio::io_context io;
  PosixProcessRunner runner;
  auto given = spec({"wc", "-c"}, {}, 10s);
  given.input = std::string(1 << 20, 'x');
  auto result = test::run_async(io, runner.run(given));
  REQUIRE(result.has_value());
  CHECK(result->exit_code == 0);
  CHECK(result->out.find("1048576") != std::string::npos);
}

TEST_CASE("a program that exits without reading its stdin fails alone, not lbctl", "[integration][process]") {
  boost::asio::io_context io;
  PosixProcessRunner runner;
  auto given = spec({"sh", "-c", "exit 3"}, {}, 10s);
  given.input = std::string(1 << 20, 'x');
  auto result = test::run_async(io, runner.run(given));
  REQUIRE(result.has_value());
  CHECK(result->exit_code == 3);
}

TEST_CASE("stdout past max_out is cut and says so", "[integration][process]") {
  boost::asio::io_context io;
  PosixProcessRunner runner;
  auto given = spec({"head", "-c", "5000", "/dev/zero"}, {}, 10s);
  given.max_out = 1000;
  auto result = test::run_async(io, runner.run(given));
  REQUIRE(result.has_value());
  CHECK(result->out.size() == 1000);
  CHECK(result->out_truncated);
}
