// load_balancers[].persist, master_api and unreachable_timeout: what they
// load into, what is refused (with FILE:LINE:COLUMN), and the warnings a
// config without them gets.

#include "tests/support/catch.hpp"

#include "tests/unit/lbctl/config/config_test_support.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

// The load balancers given start on line 6.
std::string with_lbs(const std::string& lbs) { return k_config_head + k_static_provider + lbs; }

Config load(const std::string& lbs) { return parse_config(with_lbs(lbs), "/etc/lbctl/shop.yaml"); }

}  // namespace

TEST_CASE("a local persist file is resolved against the config's folder, with its check", "[config][persist]") {
  const Config config = load(R"(load_balancers:
  - name: lb1
    runtime_api: unix:/run/haproxy/admin.sock
    master_api: unix:/run/haproxy-master.sock
    backend: app
    unreachable_timeout: 45s
    persist:
      file: haproxy/haproxy.cfg
      check: ["haproxy", "-c", "-q", "-f", "{file}"]
)");
  const auto& lb = config.load_balancers.at(0);
  REQUIRE(lb.persist.has_value());
  CHECK(lb.persist->file == "/etc/lbctl/haproxy/haproxy.cfg");
  CHECK_FALSE(lb.persist->remote());
  CHECK(lb.persist->check == std::vector<std::string>{"haproxy", "-c", "-q", "-f", "{file}"});
  CHECK(lb.persist->timeout == 30s);
  REQUIRE(lb.master_api.has_value());
  CHECK(lb.master_api->to_string() == "unix:/run/haproxy-master.sock");
  CHECK(lb.unreachable_timeout == 45s);
  CHECK(lb.persist->carries_any_file());
}

TEST_CASE("read and write reach a file on another host, {file} is its path there", "[config][persist]") {
  const Config config = load(R"(load_balancers:
  - name: lb1
    runtime_api: tcp:127.0.0.1:9999
    backend: app
    persist:
      file: /etc/haproxy/haproxy.cfg
      read: ["ssh", "lb1", "cat", "{file}"]
      write: ["ssh", "lb1", "sudo", "install-cfg", "{file}"]
)");
  const auto& persist = *config.load_balancers.at(0).persist;
  CHECK(persist.remote());
  CHECK(persist.file == "/etc/haproxy/haproxy.cfg");  // the LB host's path, kept as written
  CHECK(persist.carries_any_file());
}

TEST_CASE("read and write without {file} persist the config file only", "[config][persist]") {
  const Config config = load(R"(load_balancers:
  - name: lb1
    runtime_api: tcp:127.0.0.1:9999
    backend: app
    persist:
      read: ["ssh", "lb1", "cat", "/etc/haproxy/haproxy.cfg"]
      write: ["ssh", "lb1", "sudo", "/usr/local/sbin/install-haproxy-cfg"]
)");
  CHECK_FALSE(config.load_balancers.at(0).persist->carries_any_file());
}

TEST_CASE("persist without a file or read and write is refused at its line", "[config][persist]") {
  CHECK(config_error(with_lbs("load_balancers:\n  - name: lb1\n    runtime_api: unix:/s\n    backend: app\n"
                              "    persist: {check: [\"true\"]}\n")) ==
        "shop.yaml:10:14: load_balancers[0].persist.file: missing; expected the haproxy.cfg holding the backend (or "
        "read and write, for an LB on another host)");
}

TEST_CASE("read without write is refused", "[config][persist]") {
  const auto error = config_error(with_lbs("load_balancers:\n  - name: lb1\n    runtime_api: unix:/s\n    backend: app\n"
                                           "    persist:\n      read: [cat, /etc/haproxy/haproxy.cfg]\n"));
  CHECK(error.find("shop.yaml:11:7: load_balancers[0].persist.write: missing; expected the command that takes the new "
                   "file on stdin") == 0);
}

TEST_CASE("a placeholder typo in a persist command is refused at the item", "[config][persist]") {
  const auto error = config_error(with_lbs("load_balancers:\n  - name: lb1\n    runtime_api: unix:/s\n    backend: app\n"
                                           "    persist:\n      file: /etc/haproxy/haproxy.cfg\n"
                                           "      check: [haproxy, -c, -f, \"{fiel}\"]\n"));
  CHECK(error.find("shop.yaml:12:") == 0);
  CHECK(error.find("{fiel}") != std::string::npos);
}

TEST_CASE("{file} in read or write needs persist.file", "[config][persist]") {
  const auto error = config_error(with_lbs("load_balancers:\n  - name: lb1\n    runtime_api: unix:/s\n    backend: app\n"
                                           "    persist:\n      read: [ssh, lb1, cat, \"{file}\"]\n"
                                           "      write: [ssh, lb1, tee, x]\n"));
  CHECK(error.find("shop.yaml:11:13: load_balancers[0].persist.read: uses {file}") == 0);
}

TEST_CASE("an unknown persist key is refused with the closest one", "[config][persist]") {
  const auto error = config_error(with_lbs("load_balancers:\n  - name: lb1\n    runtime_api: unix:/s\n    backend: app\n"
                                           "    persist: {fille: /etc/haproxy/haproxy.cfg}\n"));
  CHECK(error.find("load_balancers[0].persist.fille: unknown key; did you mean file?") != std::string::npos);
}

TEST_CASE("a bad master_api is refused like a bad runtime_api", "[config][persist]") {
  const auto error = config_error(with_lbs("load_balancers:\n  - name: lb1\n    runtime_api: unix:/s\n    backend: app\n"
                                           "    master_api: http://lb1\n"));
  CHECK(error == "shop.yaml:10:17: load_balancers[0].master_api: \"http://lb1\" is none of unix:PATH, "
                 "tcp:HOST:PORT, ssh://[USER@]HOST[:PORT]/PATH or tls://HOST:PORT");
}

TEST_CASE("without persist or master_api the config warns once, naming the LBs", "[config][persist]") {
  const Config config = load(R"(load_balancers:
  - {name: lb1, runtime_api: "unix:/a", backend: app}
  - {name: lb2, runtime_api: "unix:/b", backend: app}
)");
  const auto warnings = config_warnings(config);
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0].find("lb1, lb2 have no persist") == 0);
  CHECK(warnings[0].find("a reload or restart would undo a cutover") != std::string::npos);
  CHECK(warnings[1].find("lb1, lb2 have no master_api") == 0);
}

TEST_CASE("a config with persist and master_api on every LB has no warnings", "[config][persist]") {
  const Config config = load(R"(load_balancers:
  - name: lb1
    runtime_api: unix:/a
    master_api: unix:/m
    backend: app
    persist: {file: /etc/haproxy/haproxy.cfg}
)");
  CHECK(config_warnings(config).empty());
}
