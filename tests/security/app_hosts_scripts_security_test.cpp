// configs/app-hosts: the app-host side (lbctl-app-host) as lbctl's provider
// drives it, on this host: start, list, health, stop, each an ensure; words
// that could reach a shell refused, from the argv and from a forced
// command's SSH_ORIGINAL_COMMAND alike; and the provider's connection
// sharing folder refused when others may enter it.

#include "tests/support/catch.hpp"

#include <sys/stat.h>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

std::string script(const std::string& name) { return std::string(LBCTL_SOURCE_DIR) + "/configs/app-hosts/" + name; }

struct AppHost {
  TempDir dir;
  std::vector<std::pair<std::string, std::string>> env;

  AppHost() {
    std::string command;
    for (const char* word : {LBCTL_APP_BINARY, "--port", "{port}", "--dir", "{dir}", "--name", "{name}", "--version",
                             "{release}", "--bind", "{host}"}) {
      command += std::string(word) + "\n";
    }
    const auto file = dir.write("command", command);
    const int base = 30000 + 50 * static_cast<int>(::getpid() % 100);
    env = {{"LBCTL_APP_HOST_DIR", (dir.path() / "servers").string()},
           {"LBCTL_APP_HOST_COMMAND", file.string()},
           {"LBCTL_APP_HOST_PORTS", std::to_string(base) + "-" + std::to_string(base + 49)},
           {"LBCTL_APP_HOST_STOP_GRACE", "2"}};
  }
  ~AppHost() {
    for (const auto& name : {"web-1", "web-2"}) run({"stop", name});
  }
  CommandOutput run(std::vector<std::string> words, std::vector<std::pair<std::string, std::string>> more = {}) {
    words.insert(words.begin(), script("lbctl-app-host"));
    auto all = env;
    all.insert(all.end(), more.begin(), more.end());
    return run_command(words, 30s, all);
  }
  std::filesystem::path server(const std::string& name) const { return dir.path() / "servers" / name; }
};

int http_status(const std::string& address, const std::string& path) {
  const auto got = run_command({"curl", "-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", "http://" + address + path});
  try {
    return std::stoi(got.out);
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

TEST_CASE("lbctl-app-host: start, list, health and stop, each an ensure", "[security][app-hosts]") {
  AppHost host;
  const auto started = host.run({"start", "web-1", "v2", "127.0.0.1"});
  INFO(started.out);
  REQUIRE(started.exit_code == 0);
  REQUIRE(started.out.starts_with("web-1 127.0.0.1:"));
  const std::string address = started.out.substr(6, started.out.find('\n') - 6);
  REQUIRE(eventually([&] { return http_status(address, "/health-check.html") == 200; }, 20s));
  // Started again: the same server, nothing new.
  const auto again = host.run({"start", "web-1", "v2", "127.0.0.1"});
  CHECK(again.out == started.out);
  // A second one takes another port.
  const auto second = host.run({"start", "web-2", "v2", "127.0.0.1"});
  REQUIRE(second.exit_code == 0);
  CHECK(second.out.find(address) == std::string::npos);
  const auto listed = host.run({"list"});
  CHECK(listed.out.find("web-1 " + address + "\n") != std::string::npos);
  CHECK(listed.out.find("web-2 127.0.0.1:") != std::string::npos);
  // Drained: the health file gone, then back; twice each is the same.
  for (int i = 0; i < 2; ++i) CHECK(host.run({"health", "web-1", "off"}).exit_code == 0);
  CHECK(eventually([&] { return http_status(address, "/health-check.html") == 404; }));
  for (int i = 0; i < 2; ++i) CHECK(host.run({"health", "web-1", "on"}).exit_code == 0);
  CHECK(eventually([&] { return http_status(address, "/health-check.html") == 200; }));
  // Stopped: its port closed, its folder gone; stopped again, or never started: success.
  const auto pid = read_file(host.server("web-1") / "pid");
  for (int i = 0; i < 2; ++i) CHECK(host.run({"stop", "web-1"}).exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(host.server("web-1")));
  CHECK(http_status(address, "/health-check.html") == 0);
  CHECK_FALSE(std::filesystem::exists("/proc/" + pid.substr(0, pid.find('\n'))));
  CHECK(host.run({"stop", "never-started"}).exit_code == 0);
}

TEST_CASE("lbctl-app-host, words that could reach a shell: refused from argv or SSH_ORIGINAL_COMMAND, nothing "
          "changed",
          "[security][app-hosts]") {
  AppHost host;
  TempDir elsewhere;
  const auto planted = elsewhere.path() / "ran";
  const std::vector<std::vector<std::string>> bad{
      {"start", "web;touch " + planted.string(), "v2", "127.0.0.1"},
      {"start", "$(touch " + planted.string() + ")", "v2", "127.0.0.1"},
      {"start", "../../etc", "v2", "127.0.0.1"},
      {"start", "web-1", "v2`touch " + planted.string() + "`", "127.0.0.1"},
      {"start", "web-1", "v2", "127.0.0.1;touch " + planted.string()},
      {"health", "web-1", "off;touch"},
      {"stop", "-rf"},
  };
  for (const auto& words : bad) {
    const auto run = host.run(words);
    INFO(run.out);
    CHECK(run.exit_code == 2);
    CHECK(run.out.find("is not valid") != std::string::npos);
  }
  // As a forced command: the words come from SSH_ORIGINAL_COMMAND, split on blanks, never expanded.
  for (const std::string& sent : {"/usr/local/bin/lbctl-app-host start $(touch " + planted.string() + ") v2 127.0.0.1",
                                 "lbctl-app-host stop web;touch " + planted.string(),
                                 "lbctl-app-host start `touch " + planted.string() + "` v2 127.0.0.1"}) {
    const auto run = host.run({}, {{"SSH_ORIGINAL_COMMAND", sent}});
    INFO(sent << ": " << run.out);
    CHECK(run.exit_code == 2);
  }
  CHECK_FALSE(std::filesystem::exists(planted));
  CHECK_FALSE(std::filesystem::exists(host.dir.path() / "servers" / "web-1"));
  // And a good forced command works.
  const auto listed = host.run({}, {{"SSH_ORIGINAL_COMMAND", "/usr/local/bin/lbctl-app-host list"}});
  CHECK(listed.exit_code == 0);
}

TEST_CASE("lbctl-ssh-provider, before any ssh: refuses a sharing folder others may enter or someone else owns, and "
          "bad hosts",
          "[security][app-hosts]") {
  TempDir dir;
  const auto shared = dir.path() / "shared";
  std::filesystem::create_directories(shared);
  ::chmod(shared.c_str(), 0777);
  const auto open_folder = run_command({script("lbctl-ssh-provider"), "terminate", "10.0.0.1", "web-1"}, 30s,
                                       {{"LBCTL_SSH_CONTROL_DIR", shared.string()}});
  INFO(open_folder.out);
  CHECK(open_folder.exit_code == 2);
  CHECK(open_folder.out.find("may be entered by others") != std::string::npos);
  const auto theirs = dir.path() / "theirs";
  std::filesystem::create_directories(theirs);
  ::chmod(theirs.c_str(), 0700);
  REQUIRE(::chown(theirs.c_str(), 65534, 65534) == 0);
  const auto not_ours = run_command({script("lbctl-ssh-provider"), "terminate", "10.0.0.1", "web-1"}, 30s,
                                    {{"LBCTL_SSH_CONTROL_DIR", theirs.string()}});
  INFO(not_ours.out);
  CHECK(not_ours.exit_code == 2);
  CHECK(not_ours.out.find("belongs to someone else") != std::string::npos);
  const auto mine = dir.path() / "mine";
  for (const char* host : {"-oProxyCommand=touch", "lb1;id", "$(id)"}) {
    const auto run = run_command({script("lbctl-ssh-provider"), "terminate", host, "web-1"}, 30s,
                                 {{"LBCTL_SSH_CONTROL_DIR", mine.string()}});
    INFO(run.out);
    CHECK(run.exit_code == 2);
    CHECK(run.out.find("is not valid") != std::string::npos);
  }
  struct stat made {};
  REQUIRE(::stat(mine.c_str(), &made) == 0);
  CHECK((made.st_mode & 0777) == 0700);
}
