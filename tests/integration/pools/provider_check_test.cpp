// Each provider's preflight check, against the real filesystem and PATH.

#include "tests/support/catch.hpp"

#include <sys/stat.h>

#include "core/process.hpp"
#include "pools/provider_exec.hpp"
#include "pools/provider_local.hpp"
#include "pools/provider_static.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl;
using namespace lbctl::pools;

TEST_CASE("the local provider's check finds its program and a writable folder", "[integration][pools][provider]") {
  test::TempDir dir;
  SteadyClock clock;
  LocalProviderOptions options;
  options.command = {"python3", "-m", "http.server", "{port}"};
  options.base_dir = dir.path() / "not" / "yet" / "there";  // created later, by clone
  CHECK(LocalProvider(options, clock).check().has_value());
  CHECK_FALSE(std::filesystem::exists(options.base_dir));  // the check created nothing

  options.command = {"no-such-program-lbctl"};
  auto missing = LocalProvider(options, clock).check();
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().kind == ErrorKind::invalid);
  CHECK(missing.error().message == "provider.command: 'no-such-program-lbctl' is not an executable program on PATH");

  options.command = {"python3"};
  options.base_dir = dir.write("a-file", "not a folder") / "servers";  // root can write anywhere, but not there
  auto unwritable = LocalProvider(options, clock).check();
  REQUIRE_FALSE(unwritable.has_value());
  CHECK(unwritable.error().kind == ErrorKind::refused);
  CHECK(unwritable.error().message.find("provider.base_dir") != std::string::npos);
}

TEST_CASE("the exec and static providers' checks name the command whose program is missing", "[integration][pools][provider]") {
  PosixProcessRunner runner;
  ExecProviderOptions options;
  options.clone = {"true"};
  options.terminate = {"/bin/true"};
  options.remove_health_file = {"/nonexistent/rm-health"};
  auto exec = ExecProvider(options, runner).check();
  REQUIRE_FALSE(exec.has_value());
  CHECK(exec.error().message == "provider.remove_health_file: '/nonexistent/rm-health' is not an executable program");
  StaticProviderOptions static_options;
  static_options.servers = {{"v2-1", "127.0.0.1:9001"}};
  CHECK(StaticProvider(static_options, runner).check().has_value());
  static_options.commands.terminate = {"no-such-terminate"};
  CHECK_FALSE(StaticProvider(static_options, runner).check().has_value());
  CHECK(find_program("sh").has_value());
  CHECK_FALSE(find_program("").has_value());
}
