// A fleet across hosts, in the lab (tests/support/lab.hpp): lbctl on
// "deploy", lb1 reached over OpenSSH (a real sshd; the admin socket local to
// it), lb2 over mutual TLS (the listen section of configs/haproxy-tls-cli.cfg
// in front of its socket and master CLI), the app servers on app hosts and
// Postgres on a database host. The same cutover as on local sockets, under
// load, persisted and reloaded; and the trust problems refused before
// anything changes.

#include "tests/support/catch.hpp"

#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/e2e/stack.hpp"
#include "tests/e2e/under_load.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

StackOptions remote() {
  StackOptions options;
  options.app_hosts = true;
  options.master_worker = true;
  options.persist = true;
  return options;
}

void replace_in_config(Stack& stack, const std::string& from, const std::string& to) {
  std::string text = read_file(stack.config_file());
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  std::ofstream(stack.config_file()) << text;
}

}  // namespace

TEST_CASE("lb1 over ssh and lb2 over mutual TLS: a cutover under wrk exits 0 with 0 failed requests, persisted, and "
          "both LBs reloaded after it still fail none",
          "[e2e][remote][lab][both-haproxy]") {
  Stack stack(remote());
  UnderLoad load(stack);
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.find("no master_api") == std::string::npos);
  CHECK(run.out.find("no persist") == std::string::npos);
  CHECK(sorted_view(stack) == k_done_view);
  for (std::size_t i = 0; i < 2; ++i) {
    const std::string text = read_file(stack.lb(i).config_file());
    INFO(text);
    CHECK(text.find("server v2-1 " + stack.lab().address("app3") + ":") != std::string::npos);
    CHECK(text.find("server v2-2 " + stack.lab().address("app4") + ":") != std::string::npos);
    CHECK(text.find("old-") == std::string::npos);
  }
  for (std::size_t i = 0; i < 2; ++i) stack.lb(i).reload();
  CHECK(eventually([&] { return sorted_view(stack) == k_done_view; }, 10s));
  std::this_thread::sleep_for(1s);
  load.check();
  // Drift made by hand on each LB (a server deleted behind lbctl's back) is
  // seen over each transport, and reconcile puts it back over each.
  for (const auto& [i, name] : {std::pair<std::size_t, std::string>{0, "v2-1"}, {1, "v2-2"}}) {
    stack.lb(i).command("set server app/" + name + " state maint");
    stack.lb(i).command("del server app/" + name);
  }
  const auto drifted = stack.lbctl({"servers"});
  INFO(drifted.out);
  CHECK(drifted.exit_code == 0);
  CHECK(drifted.out.find("drift: lb1: v2-1 is missing") != std::string::npos);
  CHECK(drifted.out.find("lb2: v2-2 is missing") != std::string::npos);
  const auto repaired = stack.lbctl({"reconcile", "--yes"});
  INFO(repaired.out);
  CHECK(repaired.exit_code == 0);
  CHECK(eventually([&] { return sorted_view(stack) == k_done_view; }, 10s));
  // serve reads both LBs the same ways (inside the deploy host, on its loopback).
  TempDir logs;
  auto serve = stack.start_lbctl({"serve", "--listen", "127.0.0.1:0", "--interval", "300ms"}, logs / "serve.txt");
  const auto port = printed_port(logs / "serve.txt");
  REQUIRE(port != 0);
  const auto get = [&](const std::string& path) {
    auto argv = stack.client_launcher();
    argv.insert(argv.end(), {"curl", "-s", "-m", "2", "http://127.0.0.1:" + std::to_string(port) + path});
    return run_command(argv, 5s).out;
  };
  // Both LBs up in serve's summary (read over ssh and over TLS), the new servers in its view.
  std::string summary, view;
  const bool served = eventually(
      [&] {
        summary = get("/api/v1/services");
        view = get("/api/v1/services/shop");
        const auto json = nlohmann::json::parse(summary, nullptr, false);
        if (json.is_discarded() || !json.contains("services") || json["services"].empty()) return false;
        const auto& lbs = json["services"][0]["load_balancers"];
        return lbs.size() == 2 && lbs[0]["up"] == true && lbs[1]["up"] == true &&
               view.find("\"v2-1\"") != std::string::npos && view.find("\"v2-2\"") != std::string::npos;
      },
      30s);
  INFO(summary << "\n" << view << "\n" << read_file(logs / "serve.txt"));
  CHECK(served);
}

TEST_CASE("a wrong CA for lb2, an unknown host key or a missing socket for lb1: exit 2 at preflight naming the LB and "
          "the cause, nothing changed",
          "[e2e][remote][lab][both-haproxy]") {
  Stack stack(remote());
  const std::string config = read_file(stack.config_file());
  TempDir other;
  TestCertificates other_ca(other.path(), "another CA");
  struct Case {
    std::string from;
    std::string to;
    std::string lb;
    std::string words;
  };
  const auto ca_at = config.find("ca_file: ") + 9;
  const std::string ca_file = config.substr(ca_at, config.find(',', ca_at) - ca_at);
  const auto kh_at = config.find("known_hosts: ") + 13;
  const std::string known_hosts = config.substr(kh_at, config.find('}', kh_at) - kh_at);
  const std::vector<Case> cases{
      {"ca_file: " + ca_file, "ca_file: " + other_ca.ca_cert().string(), "lb2",
       "the LB's certificate is not signed by tls.ca_file"},
      {"known_hosts: " + known_hosts, "known_hosts: " + (other.path() / "known_hosts").string(), "lb1",
       "the host key of " + stack.lb(0).address() + " is not the one in ssh.known_hosts"},
      // The socket is not where the config says on lb1's host.
      {stack.lb(0).socket_path() + "\n", "/run/gone.sock\n", "lb1", "there is no socket at /run/gone.sock"},
  };
  for (const auto& c : cases) {
    std::ofstream(stack.config_file()) << config;
    replace_in_config(stack, c.from, c.to);
    const auto run = stack.lbctl({"cutover", "--yes"});
    INFO(run.out);
    CHECK(run.exit_code == 2);
    CHECK(run.out.find(c.words) != std::string::npos);
    CHECK(run.out.find(c.lb + ":") != std::string::npos);
    CHECK(stack.fleet_view() == k_original_view);
  }
}

TEST_CASE("lb2's TLS port, from the deploy host: a client without lbctl's certificate, with another CN, or plain TCP "
          "is refused by HAProxy",
          "[e2e][remote][lab][both-haproxy]") {
  Stack stack(remote());
  const auto& certs = stack.certificates();
  const KeyPair someone = certs.client("someone", "someone-else");
  const std::string target = stack.lb(1).address() + ":" + std::to_string(stack.tls_port());
  // `show info` through the port, as each kind of client; what came back.
  const auto ask = [&](const std::string& client) {
    auto argv = stack.client_launcher();
    argv.insert(argv.end(), {"bash", "-c", "printf 'show info\\n' | timeout 10 " + client});
    return run_command(argv, 20s).out;
  };
  const std::string tls = "openssl s_client -quiet -connect " + target + " -servername lb2.example.test -CAfile " +
                          certs.ca_cert().string();
  const std::string lbctl_dir = (stack.config_file().parent_path() / "tls").string();
  // lbctl's own certificate: answered (the checks below can fail).
  CHECK(ask(tls + " -cert " + lbctl_dir + "/lbctl.crt -key " + lbctl_dir + "/lbctl.key").find("Name: HAProxy") !=
        std::string::npos);
  for (const std::string& client :
       {tls, tls + " -cert " + someone.cert.string() + " -key " + someone.key.string(), "socat -T2 - TCP:" + target}) {
    const std::string out = ask(client);
    INFO(client << "\n" << out);
    CHECK(out.find("Name: HAProxy") == std::string::npos);
  }
}

TEST_CASE("lb1's ssh connection killed while lbctl attaches: the batch is re-ensured, never assumed done, exit 0, "
          "0 failed requests",
          "[e2e][remote][lab]") {
  Stack stack(remote());
  UnderLoad load(stack);
  TempDir logs;
  auto lbctl = stack.start_lbctl({"cutover", "--yes"}, logs / "lbctl.log");
  REQUIRE(eventually([&] { return read_file(logs / "lbctl.log").find("attach started") != std::string::npos; }, 120s));
  // Every ssh lbctl runs (the ControlMaster connections and any session on them), killed as a dying network would.
  const auto killed = run_command({"pkill", "-KILL", "-P", std::to_string(lbctl->pid()), "-x", "ssh"});
  CHECK(killed.exit_code == 0);
  const int code = lbctl->wait(180s);
  INFO(read_file(logs / "lbctl.log"));
  CHECK(code == 0);
  CHECK(eventually([&] { return sorted_view(stack) == k_done_view; }, 10s));
  load.check();
}
