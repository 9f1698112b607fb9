// How lbctl reaches each LB: unix, tcp (loopback, or insecure_tcp), ssh://
// with its ssh block, tls:// with its tls block. Every mistake is refused at
// load (exit 2 from validate) with the place and the cause.

#include "tests/support/catch.hpp"

#include <fmt/format.h>

#include "tests/unit/lbctl/config/config_test_support.hpp"

using namespace lbctl;
using namespace lbctl::test;

namespace {

// k_config_head, one LB given as the YAML map's body (its text starts on line 4), and a provider.
std::string with_lb(const std::string& body) {
  return k_config_head + "load_balancers:\n  - name: lb1\n    backend: app\n" + body + k_static_provider;
}

Config load_transport(const std::string& body) { return parse_config(with_lb(body), "/etc/lbctl/shop.yaml"); }

std::string transport_error_of(const std::string& body) { return config_error(with_lb(body)); }

}  // namespace

TEST_CASE("an ssh:// runtime API and master CLI load with the LB's ssh block, paths against the config's folder",
          "[config]") {
  const Config config = load_transport(R"(    runtime_api: ssh://lbctl@lb1.example.com:2222/run/haproxy/admin.sock
    master_api: ssh://lbctl@lb1.example.com/run/haproxy/master.sock
    ssh: {identity_file: id_ed25519, known_hosts: /etc/lbctl/known_hosts}
)");
  const auto& lb = config.load_balancers.at(0);
  CHECK(lb.runtime_api.kind == RuntimeApiAddress::Kind::ssh);
  CHECK(lb.runtime_api.user == "lbctl");
  CHECK(lb.runtime_api.host == "lb1.example.com");
  CHECK(lb.runtime_api.port == 2222);
  CHECK(lb.runtime_api.path == "/run/haproxy/admin.sock");
  CHECK(lb.runtime_api.ssh.identity_file == "/etc/lbctl/id_ed25519");
  CHECK(lb.runtime_api.ssh.known_hosts == "/etc/lbctl/known_hosts");
  CHECK(lb.runtime_api.ssh.command == std::vector<std::string>{"socat", "STDIO", "UNIX-CONNECT:{socket}"});
  CHECK(lb.runtime_api.to_string() == "ssh://lbctl@lb1.example.com:2222/run/haproxy/admin.sock");
  REQUIRE(lb.master_api);
  CHECK(lb.master_api->kind == RuntimeApiAddress::Kind::ssh);
  CHECK(lb.master_api->port == 0);
  CHECK(lb.master_api->ssh.known_hosts == "/etc/lbctl/known_hosts");
  CHECK(lb.master_api->to_string() == "ssh://lbctl@lb1.example.com/run/haproxy/master.sock");
}

TEST_CASE("ssh:// takes no user (ssh's default), an IPv6 host in brackets, and a command of the config's own",
          "[config]") {
  const Config config = load_transport(R"(    runtime_api: "ssh://[fd00::7]:22/run/haproxy/admin.sock"
    ssh:
      known_hosts: /etc/lbctl/known_hosts
      command: [nc, -U, "{socket}"]
      program: /usr/bin/ssh
)");
  const auto& api = config.load_balancers.at(0).runtime_api;
  CHECK(api.user.empty());
  CHECK(api.host == "fd00::7");
  CHECK(api.port == 22);
  CHECK(api.ssh.command == std::vector<std::string>{"nc", "-U", "{socket}"});
  CHECK(api.ssh.program == "/usr/bin/ssh");
}

TEST_CASE("a tls:// runtime API loads with its tls block", "[config]") {
  const Config config = load_transport(R"(    runtime_api: tls://lb2.example.com:9443
    tls: {ca_file: /etc/lbctl/ca.crt, cert_file: lbctl.crt, key_file: lbctl.key, server_name: lb2.example.com}
)");
  const auto& api = config.load_balancers.at(0).runtime_api;
  CHECK(api.kind == RuntimeApiAddress::Kind::tls);
  CHECK(api.host == "lb2.example.com");
  CHECK(api.port == 9443);
  CHECK(api.tls.ca_file == "/etc/lbctl/ca.crt");
  CHECK(api.tls.cert_file == "/etc/lbctl/lbctl.crt");
  CHECK(api.tls.key_file == "/etc/lbctl/lbctl.key");
  CHECK(api.tls.server_name == "lb2.example.com");
  CHECK(api.to_string() == "tls://lb2.example.com:9443");
}

TEST_CASE("tcp: to loopback needs nothing more, to another host only with insecure_tcp", "[config]") {
  for (const char* host : {"127.0.0.1", "127.0.3.9", "localhost", "[::1]"}) {
    CAPTURE(host);
    CHECK(load_transport(fmt::format("    runtime_api: \"tcp:{}:9999\"\n", host)).load_balancers.at(0).runtime_api.is_loopback());
  }
  const std::string refused = transport_error_of("    runtime_api: tcp:10.0.0.7:9999\n");
  CHECK_THAT(refused, Catch::Contains("shop.yaml:6:18: load_balancers[0].runtime_api: is tcp: to \"10.0.0.7\", which "
                                      "is not this host"));
  CHECK_THAT(refused, Catch::Contains("ssh://USER@HOST/PATH"));
  CHECK_THAT(refused, Catch::Contains("tls://HOST:PORT"));
  CHECK_THAT(refused, Catch::Contains("insecure_tcp: true"));
  // A look-alike of loopback is not loopback.
  CHECK_THAT(transport_error_of("    runtime_api: tcp:127.0.0.1.example.com:9999\n"), Catch::Contains("which is not this host"));
  CHECK_THAT(transport_error_of("    runtime_api: unix:/run/a.sock\n    master_api: tcp:10.0.0.7:9998\n"),
             Catch::Contains("master_api: is tcp: to \"10.0.0.7\""));
  const Config config = load_transport("    runtime_api: tcp:10.0.0.7:9999\n    insecure_tcp: true\n");
  CHECK(config.load_balancers.at(0).insecure_tcp);
  CHECK(config.load_balancers.at(0).runtime_api.to_string() == "tcp:10.0.0.7:9999");
}

TEST_CASE("transport mistakes are refused where they are written", "[config]") {
  using Catch::Contains;
  CHECK_THAT(transport_error_of("    runtime_api: ssh://lbctl@lb1/run/haproxy/admin.sock\n"),
             Contains("runtime_api: is ssh://, but this load balancer has no ssh: {known_hosts, identity_file}"));
  CHECK_THAT(transport_error_of("    runtime_api: ssh://lbctl@lb1/run/admin.sock\n    ssh: {identity_file: /k}\n"),
             Contains("ssh.known_hosts: missing; expected the known_hosts file"));
  CHECK_THAT(transport_error_of("    runtime_api: tls://lb2:9443\n"),
             Contains("runtime_api: is tls://, but this load balancer has no tls: {ca_file, cert_file, key_file}"));
  CHECK_THAT(transport_error_of("    runtime_api: tls://lb2:9443\n    tls: {ca_file: /ca, cert_file: /c}\n"),
             Contains("tls.key_file: missing"));
  CHECK_THAT(transport_error_of("    runtime_api: unix:/run/a.sock\n    ssh: {known_hosts: /k}\n"),
             Contains("ssh: is given, but neither runtime_api nor master_api is ssh://"));
  CHECK_THAT(transport_error_of("    runtime_api: unix:/run/a.sock\n    tls: {ca_file: /a, cert_file: /b, key_file: /c}\n"),
             Contains("tls: is given, but neither runtime_api nor master_api is tls://"));
  CHECK_THAT(transport_error_of("    runtime_api: unix:/run/a.sock\n    insecure_tcp: true\n"),
             Contains("insecure_tcp: is true, but no tcp: address of this load balancer leaves this host"));
  CHECK_THAT(transport_error_of("    runtime_api: tls://lb2\n    tls: {ca_file: /a, cert_file: /b, key_file: /c}\n"),
             Contains("is not tls://HOST:PORT"));
  CHECK_THAT(transport_error_of("    runtime_api: ssh://lbctl@lb1\n    ssh: {known_hosts: /k}\n"), Contains("has no socket path"));
  CHECK_THAT(transport_error_of("    runtime_api: ssh://lbctl@lb1:0/run/a.sock\n    ssh: {known_hosts: /k}\n"),
             Contains("has a bad port"));
  // Never an option to ssh, never shell text on the far side.
  CHECK_THAT(transport_error_of("    runtime_api: ssh://-oProxyCommand=x/run/a.sock\n    ssh: {known_hosts: /k}\n"),
             Contains("has a bad host"));
  CHECK_THAT(transport_error_of("    runtime_api: ssh://-l@lb1/run/a.sock\n    ssh: {known_hosts: /k}\n"),
             Contains("has a bad user name"));
  CHECK_THAT(transport_error_of("    runtime_api: \"ssh://lbctl@lb1/run/a.sock;reboot\"\n    ssh: {known_hosts: /k}\n"),
             Contains("has a socket path with characters other than"));
  CHECK_THAT(transport_error_of("    runtime_api: ssh://lbctl@lb1/run/a.sock\n    ssh: {known_hosts: /k, command: [socat, \"{sock}\"]}\n"),
             Contains("{sock}"));
  CHECK_THAT(transport_error_of("    runtime_api: ftp://lb1/x\n"),
             Contains("is none of unix:PATH, tcp:HOST:PORT, ssh://[USER@]HOST[:PORT]/PATH or tls://HOST:PORT"));
}

TEST_CASE("the local provider's host: where new servers listen when the LBs are on other hosts", "[config]") {
  const std::string local = k_config_head + k_one_lb +
                            "provider:\n  type: local\n  command: [app, --bind, \"{host}\", --port, \"{port}\"]\n"
                            "  ports: 20000-20099\n  base_dir: /srv\n";
  CHECK(parse_config(local, "shop.yaml").provider.host == "127.0.0.1");
  CHECK(parse_config(local + "  host: 10.0.0.5\n", "shop.yaml").provider.host == "10.0.0.5");
  CHECK_THAT(config_error(local + "  host: app1.example.com\n"),
             Catch::Contains("provider.host: \"app1.example.com\" is not an IP address"));
  CHECK_THAT(config_error(local + "  host: \"10.0.0.5; reboot\"\n"), Catch::Contains("is not an IP address"));
}
