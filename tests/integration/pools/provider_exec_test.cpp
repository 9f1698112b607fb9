#include "tests/support/catch.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pools/provider_exec.hpp"
#include "pools/provider_static.hpp"
#include "tests/support/run_async.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl;
using namespace lbctl::pools;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

const std::string k_script = std::string(LBCTL_SOURCE_DIR) + "/tests/data/exec_provider/fake_cloud.py";

// The exec provider against tests/data/exec_provider/fake_cloud.py, which
// records the argv of each run in a file.
struct Rig {
  test::TempDir dir;
  boost::asio::io_context io;
  PosixProcessRunner runner;
  std::string record = (dir / "record").string();

  Strings script(const std::string& mode) const { return Strings{"python3", k_script, mode, record}; }

  // The argv (after the mode) of each run, in order.
  std::vector<Strings> runs() const {
    std::vector<Strings> runs;
    std::istringstream lines(test::read_file(record));
    for (std::string line; std::getline(lines, line);) runs.push_back(nlohmann::json::parse(line).get<Strings>());
    return runs;
  }
};

Strings with(Strings argv, const Strings& more) {
  argv.insert(argv.end(), more.begin(), more.end());
  return argv;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const Server k_old{"old-1", "127.0.0.1:8101"};

}  // namespace

TEST_CASE("an exec clone script's servers come back and it gets each placeholder as one argument",
          "[integration][pools][exec]") {
  Rig rig;
  ExecProviderOptions options;
  options.service = "my shop; rm -rf /";
  options.clone = with(rig.script("clone"), {"{names}", "8300", "{service}", "{template}", "{count}"});
  ExecProvider provider(options, rig.runner);
  auto servers = test::run_async(rig.io, provider.clone(Strings{"v2-1", "v2-2"}, k_old));
  REQUIRE(servers.has_value());
  CHECK(*servers == std::vector<Server>{{"v2-1", "127.0.0.1:8301"}, {"v2-2", "127.0.0.1:8302"}});
  CHECK(rig.runs() == std::vector<Strings>{{"clone", rig.record, "v2-1,v2-2", "8300", "my shop; rm -rf /", "old-1", "2"}});
}

TEST_CASE("an exec command that exits 3 is an error with its stderr", "[integration][pools][exec]") {
  Rig rig;
  ExecProviderOptions options;
  options.clone = rig.script("fail");
  ExecProvider provider(options, rig.runner);
  auto servers = test::run_async(rig.io, provider.clone(Strings{"v2-1"}, k_old));
  REQUIRE_FALSE(servers.has_value());
  CHECK(servers.error().kind == ErrorKind::refused);
  CHECK(has(servers.error().message, "clone command 'python3' exited with 3"));
  CHECK(has(servers.error().message, "error: quota exceeded for project shop"));
}

TEST_CASE("an exec clone that prints bad JSON is an error with the line and stderr", "[integration][pools][exec]") {
  Rig rig;
  ExecProviderOptions options;
  options.clone = rig.script("bad-json");
  ExecProvider provider(options, rig.runner);
  auto servers = test::run_async(rig.io, provider.clone(Strings{"v2-1"}, k_old));
  REQUIRE_FALSE(servers.has_value());
  CHECK(servers.error().kind == ErrorKind::invalid);
  CHECK(has(servers.error().message, "clone command 'python3' printed line 1: not JSON: \"launched v2-1 at 127.0.0.21\""));
  CHECK(has(servers.error().message, "warning: output format is not JSON"));
}

TEST_CASE("an exec command that hangs is stopped at its timeout", "[integration][pools][exec]") {
  Rig rig;
  ExecProviderOptions options;
  options.terminate = rig.script("hang");
  options.timeout = 700ms;
  ExecProvider provider(options, rig.runner);
  const auto started = std::chrono::steady_clock::now();
  auto done = test::run_async(rig.io, provider.terminate(k_old));
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(done.has_value());
  CHECK(done.error().kind == ErrorKind::timeout);
  CHECK(has(done.error().message, "terminate command 'python3'"));
  CHECK(has(done.error().message, "waiting for the cloud API"));
  CHECK(took >= 700ms);
  CHECK(took < 2500ms);
}

TEST_CASE("exec server operations and scaling hooks run with their placeholders", "[integration][pools][exec]") {
  Rig rig;
  ExecProviderOptions options;
  options.service = "shop";
  options.terminate = with(rig.script("ok"), {"terminate", "{name}", "{address}"});
  options.remove_health_file = with(rig.script("ok"), {"remove", "{host}", "{port}"});
  options.restore_health_file = with(rig.script("ok"), {"restore", "{host}", "{port}"});
  options.freeze_scaling = with(rig.script("ok"), {"freeze", "{service}"});
  options.unfreeze_scaling = with(rig.script("ok"), {"unfreeze", "{service}"});
  ExecProvider provider(options, rig.runner);
  REQUIRE(test::run_async(rig.io, provider.freeze_scaling()).has_value());
  REQUIRE(test::run_async(rig.io, provider.remove_health_file(k_old)).has_value());
  REQUIRE(test::run_async(rig.io, provider.restore_health_file(k_old)).has_value());
  REQUIRE(test::run_async(rig.io, provider.terminate(k_old)).has_value());
  REQUIRE(test::run_async(rig.io, provider.unfreeze_scaling()).has_value());
  CHECK(rig.runs() == std::vector<Strings>{{"ok", rig.record, "freeze", "shop"},
                                           {"ok", rig.record, "remove", "127.0.0.1", "8101"},
                                           {"ok", rig.record, "restore", "127.0.0.1", "8101"},
                                           {"ok", rig.record, "terminate", "old-1", "127.0.0.1:8101"},
                                           {"ok", rig.record, "unfreeze", "shop"}});
}

TEST_CASE("the static provider returns its servers and runs its optional commands", "[integration][pools][static]") {
  Rig rig;
  StaticProviderOptions options;
  options.servers = {{"v2-1", "127.0.0.1:8201"}, {"v2-2", "127.0.0.1:8202"}};
  options.commands.terminate = with(rig.script("ok"), {"terminate", "{name}"});
  options.commands.remove_health_file = with(rig.script("fail"), {"remove", "{name}"});
  StaticProvider provider(options, rig.runner);
  auto servers = test::run_async(rig.io, provider.clone(Strings{"v2-1", "v2-2"}, k_old));
  REQUIRE(servers.has_value());
  CHECK(*servers == options.servers);
  REQUIRE(test::run_async(rig.io, provider.terminate(k_old)).has_value());
  auto removed = test::run_async(rig.io, provider.remove_health_file(k_old));
  REQUIRE_FALSE(removed.has_value());
  CHECK(has(removed.error().message, "quota exceeded"));
  // No restore command: nothing runs, and that is success.
  REQUIRE(test::run_async(rig.io, provider.restore_health_file(k_old)).has_value());
  CHECK(rig.runs() == std::vector<Strings>{{"ok", rig.record, "terminate", "old-1"}, {"fail", rig.record, "remove", "old-1"}});
}
