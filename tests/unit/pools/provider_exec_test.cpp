#include "tests/support/catch.hpp"

#include <deque>

#include "pools/provider_exec.hpp"
#include "pools/provider_static.hpp"
#include "tests/support/manual_clock.hpp"

using namespace lbctl;
using namespace lbctl::pools;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

// Records each argv; answers from a script (exit 0, no output when empty).
class ScriptedRunner final : public ProcessRunner {
 public:
  boost::asio::awaitable<Result<ProcessResult>> run(ProcessSpec spec) override {
    runs.push_back(spec.argv);
    timeouts.push_back(spec.timeout);
    if (answers.empty()) co_return ProcessResult();
    auto answer = std::move(answers.front());
    answers.pop_front();
    co_return answer;
  }
  void answer(int exit_code, std::string out, std::string err = "") {
    ProcessResult result;
    result.exit_code = exit_code;
    result.out = std::move(out);
    result.err = std::move(err);
    answers.push_back(result);
  }

  std::deque<Result<ProcessResult>> answers;
  std::vector<Strings> runs;
  std::vector<std::chrono::milliseconds> timeouts;
};

ExecProviderOptions options() {
  ExecProviderOptions o;
  o.service = "shop";
  o.clone = {"/opt/clone", "--from", "{template}", "--count", "{count}", "--names", "{names}", "--svc", "{service}"};
  o.terminate = {"/opt/terminate", "{name}", "{address}", "{host}", "{port}"};
  o.remove_health_file = {"ssh", "{host}", "rm", "/srv/www/health-check.html"};
  o.restore_health_file = {"ssh", "{host}", "touch", "/srv/www/health-check.html"};
  o.timeout = 7s;
  return o;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const Server k_old_server{"old-1", "127.0.0.11:8080"};

}  // namespace

TEST_CASE("exec clone runs once for the batch with its placeholders", "[pools][exec]") {
  test::Simulation sim;
  ScriptedRunner runner;
  runner.answer(0, "{\"name\": \"v2-1\", \"address\": \"127.0.0.21:8080\"}\n{\"name\": \"v2-2\", \"address\": \"127.0.0.22:8080\"}\n");
  ExecProvider provider(options(), runner);
  auto servers = sim.run(provider.clone(Strings{"v2-1", "v2-2"}, k_old_server));
  REQUIRE(servers.has_value());
  CHECK(*servers == std::vector<Server>{{"v2-1", "127.0.0.21:8080"}, {"v2-2", "127.0.0.22:8080"}});
  REQUIRE(runner.runs.size() == 1);
  CHECK(runner.runs[0] == Strings{"/opt/clone", "--from", "old-1", "--count", "2", "--names", "v2-1,v2-2", "--svc", "shop"});
  CHECK(runner.timeouts[0] == 7s);
}

TEST_CASE("exec clone with {name} in its argv runs once per server", "[pools][exec]") {
  test::Simulation sim;
  ScriptedRunner runner;
  runner.answer(0, "{\"name\": \"v2-1\", \"address\": \"127.0.0.21:8080\"}\n");
  runner.answer(0, "{\"name\": \"v2-2\", \"address\": \"127.0.0.22:8080\"}\n");
  auto o = options();
  o.clone = {"/opt/clone-one", "{name}", "{template_address}", "{count}"};
  ExecProvider provider(o, runner);
  auto servers = sim.run(provider.clone(Strings{"v2-1", "v2-2"}, k_old_server));
  REQUIRE(servers.has_value());
  CHECK(servers->size() == 2);
  CHECK(runner.runs == std::vector<Strings>{{"/opt/clone-one", "v2-1", "127.0.0.11:8080", "1"},
                                            {"/opt/clone-one", "v2-2", "127.0.0.11:8080", "1"}});
}

TEST_CASE("exec clone of no names runs nothing", "[pools][exec]") {
  test::Simulation sim;
  ScriptedRunner runner;
  ExecProvider provider(options(), runner);
  auto servers = sim.run(provider.clone(Strings{}, k_old_server));
  REQUIRE(servers.has_value());
  CHECK(servers->empty());
  CHECK(runner.runs.empty());
}

TEST_CASE("exec clone without a template passes an empty template", "[pools][exec]") {
  test::Simulation sim;
  ScriptedRunner runner;
  runner.answer(0, "{\"name\": \"v2-1\", \"address\": \"127.0.0.21:8080\"}\n");
  ExecProvider provider(options(), runner);
  REQUIRE(sim.run(provider.clone(Strings{"v2-1"}, std::nullopt)).has_value());
  CHECK(runner.runs[0][2] == "");
}

TEST_CASE("a non-zero exit names the operation and program and shows stderr's tail", "[pools][exec]") {
  test::Simulation sim;
  ScriptedRunner runner;
  runner.answer(3, "", "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nquota exceeded\n");
  ExecProvider provider(options(), runner);
  auto servers = sim.run(provider.clone(Strings{"v2-1"}, k_old_server));
  REQUIRE_FALSE(servers.has_value());
  CHECK(servers.error().kind == ErrorKind::refused);
  CHECK(has(servers.error().message, "exec provider: clone command '/opt/clone' exited with 3; stderr: "));
  CHECK(has(servers.error().message, "quota exceeded"));
  CHECK_FALSE(has(servers.error().message, "line 1"));
}

TEST_CASE("a runner failure keeps its kind and gains the operation and program", "[pools][exec]") {
  test::Simulation sim;
  ScriptedRunner runner;
  runner.answers.push_back(fail(ErrorKind::timeout, "'/opt/terminate' timed out after 7000 ms; stderr: waiting"));
  ExecProvider provider(options(), runner);
  auto done = sim.run(provider.terminate(k_old_server));
  REQUIRE_FALSE(done.has_value());
  CHECK(done.error().kind == ErrorKind::timeout);
  CHECK(has(done.error().message, "exec provider: terminate command '/opt/terminate': '/opt/terminate' timed out"));
}

TEST_CASE("bad JSON from clone names the command and shows stderr", "[pools][exec]") {
  test::Simulation sim;
  ScriptedRunner runner;
  runner.answer(0, "launched!\n", "warning: slow API\n");
  ExecProvider provider(options(), runner);
  auto servers = sim.run(provider.clone(Strings{"v2-1"}, k_old_server));
  REQUIRE_FALSE(servers.has_value());
  CHECK(servers.error().kind == ErrorKind::invalid);
  CHECK(has(servers.error().message, "clone command '/opt/clone' printed line 1: not JSON"));
  CHECK(has(servers.error().message, "stderr: warning: slow API"));
}

TEST_CASE("server operations get name, address, host and port as placeholders", "[pools][exec]") {
  test::Simulation sim;
  ScriptedRunner runner;
  ExecProvider provider(options(), runner);
  REQUIRE(sim.run(provider.terminate(Server{"old-1", "[fd00::11]:8080"})).has_value());
  REQUIRE(sim.run(provider.remove_health_file(k_old_server)).has_value());
  REQUIRE(sim.run(provider.restore_health_file(k_old_server)).has_value());
  CHECK(runner.runs == std::vector<Strings>{{"/opt/terminate", "old-1", "[fd00::11]:8080", "fd00::11", "8080"},
                                            {"ssh", "127.0.0.11", "rm", "/srv/www/health-check.html"},
                                            {"ssh", "127.0.0.11", "touch", "/srv/www/health-check.html"}});
}

TEST_CASE("a hostile server name never reaches the user's program", "[pools][exec]") {
  test::Simulation sim;
  ScriptedRunner runner;
  ExecProvider provider(options(), runner);
  auto done = sim.run(provider.terminate(Server{"old-1;reboot", "127.0.0.11:8080"}));
  REQUIRE_FALSE(done.has_value());
  CHECK(done.error().kind == ErrorKind::invalid);
  CHECK(runner.runs.empty());
  auto cloned = sim.run(provider.clone(Strings{"../v2-1"}, k_old_server));
  REQUIRE_FALSE(cloned.has_value());
  CHECK(runner.runs.empty());
}

TEST_CASE("freeze and unfreeze without commands succeed without running anything", "[pools][exec]") {
  test::Simulation sim;
  ScriptedRunner runner;
  ExecProvider provider(options(), runner);
  CHECK(sim.run(provider.freeze_scaling()).has_value());
  CHECK(sim.run(provider.unfreeze_scaling()).has_value());
  CHECK(runner.runs.empty());
}

TEST_CASE("freeze and unfreeze run their commands with the service", "[pools][exec]") {
  test::Simulation sim;
  ScriptedRunner runner;
  auto o = options();
  o.freeze_scaling = {"asg", "suspend", "{service}"};
  o.unfreeze_scaling = {"asg", "resume", "{service}"};
  ExecProvider provider(o, runner);
  runner.answer(1, "", "no such group\n");
  auto frozen = sim.run(provider.freeze_scaling());
  REQUIRE_FALSE(frozen.has_value());
  CHECK(has(frozen.error().message, "freeze_scaling command 'asg' exited with 1; stderr: no such group"));
  CHECK(sim.run(provider.unfreeze_scaling()).has_value());
  CHECK(runner.runs == std::vector<Strings>{{"asg", "suspend", "shop"}, {"asg", "resume", "shop"}});
}

TEST_CASE("health-file operations without commands say the drain method needs them", "[pools][exec]") {
  test::Simulation sim;
  ScriptedRunner runner;
  auto o = options();
  o.remove_health_file.clear();
  o.restore_health_file.clear();
  ExecProvider provider(o, runner);
  auto removed = sim.run(provider.remove_health_file(k_old_server));
  REQUIRE_FALSE(removed.has_value());
  CHECK(removed.error().kind == ErrorKind::invalid);
  CHECK(has(removed.error().message, "no remove_health_file command"));
  CHECK(has(removed.error().message, "drain.method"));
  CHECK_FALSE(sim.run(provider.restore_health_file(k_old_server)).has_value());
  CHECK(runner.runs.empty());
}

TEST_CASE("static clone returns the listed servers for the names asked", "[pools][static]") {
  test::Simulation sim;
  ScriptedRunner runner;
  StaticProviderOptions o;
  o.servers = {{"v2-1", "127.0.0.1:8201"}, {"v2-2", "127.0.0.1:8202"}, {"v2-3", "127.0.0.1:8203"}};
  StaticProvider provider(o, runner);
  auto servers = sim.run(provider.clone(Strings{"v2-3", "v2-1"}, k_old_server));
  REQUIRE(servers.has_value());
  CHECK(*servers == std::vector<Server>{{"v2-3", "127.0.0.1:8203"}, {"v2-1", "127.0.0.1:8201"}});
  auto missing = sim.run(provider.clone(Strings{"v2-1", "v2-9"}, k_old_server));
  REQUIRE_FALSE(missing.has_value());
  CHECK(has(missing.error().message, "\"v2-9\" is not among provider.servers"));
  CHECK(runner.runs.empty());
}

TEST_CASE("static operations without commands do nothing and succeed", "[pools][static]") {
  test::Simulation sim;
  ScriptedRunner runner;
  StaticProvider provider(StaticProviderOptions{}, runner);
  CHECK(sim.run(provider.terminate(k_old_server)).has_value());
  CHECK(sim.run(provider.remove_health_file(k_old_server)).has_value());
  CHECK(sim.run(provider.restore_health_file(k_old_server)).has_value());
  CHECK(sim.run(provider.freeze_scaling()).has_value());
  CHECK(sim.run(provider.unfreeze_scaling()).has_value());
  CHECK(runner.runs.empty());
}

TEST_CASE("static operations with commands run them and report their failures", "[pools][static]") {
  test::Simulation sim;
  ScriptedRunner runner;
  StaticProviderOptions o;
  o.commands = options();
  StaticProvider provider(o, runner);
  runner.answer(0, "");
  runner.answer(2, "", "permission denied\n");
  CHECK(sim.run(provider.terminate(k_old_server)).has_value());
  auto removed = sim.run(provider.remove_health_file(k_old_server));
  REQUIRE_FALSE(removed.has_value());
  CHECK(has(removed.error().message, "remove_health_file command 'ssh' exited with 2; stderr: permission denied"));
  CHECK(runner.runs.size() == 2);
}
