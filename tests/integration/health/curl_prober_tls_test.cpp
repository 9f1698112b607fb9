// lbctl's own checks of servers that speak only HTTPS (health.scheme: https):
// HAProxy terminates TLS in front of a real app server, with a certificate
// made here for 127.0.0.1.

#include "tests/support/catch.hpp"

#include <fstream>

#include "health/curl_prober.hpp"
#include "tests/support/app_server_fixture.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/haproxy_fixture.hpp"
#include "tests/support/run_async.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl;
using namespace lbctl::health;
using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

// A self-signed certificate for IP 127.0.0.1: DIR/cert.pem (the CA bundle)
// and DIR/server.pem (certificate and key, as HAProxy's `crt` wants).
void make_certificate(const TempDir& dir) {
  const auto made = run_command({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                                 "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                                 (dir / "key.pem").string(), "-out", (dir / "cert.pem").string()});
  REQUIRE(made.exit_code == 0);
  std::ofstream(dir / "server.pem") << read_file(dir / "cert.pem") << read_file(dir / "key.pem");
}

ProbeOutcome probe(const HaproxyFixture& haproxy, ProbeTls tls) {
  boost::asio::io_context io;
  CurlProber prober(io, std::move(tls));
  return run_async(io, prober.get("127.0.0.1", haproxy.frontend_port(), "/health-check.html", 3s));
}

}  // namespace

TEST_CASE("checks over HTTPS pass with the CA file or without verification, and fail on an unknown certificate or "
          "plain HTTP",
          "[integration][health][tls]") {
  TempDir certs;
  make_certificate(certs);
  AppServerFixture app({.name = "tls-1"});
  HaproxyOptions options;
  options.servers.push_back({"tls-1", app.address(), ""});
  const std::string pem = (certs / "server.pem").string();
  options.edit_config = [pem](const std::string& text) {
    const auto bind = text.find("  bind 127.0.0.1:");
    const auto end = text.find('\n', bind);
    return text.substr(0, end) + " ssl crt " + pem + text.substr(end);
  };
  HaproxyFixture haproxy(options);
  REQUIRE(eventually([&] { return haproxy.status("tls-1") == "UP"; }, 10s));

  auto with_ca = probe(haproxy, {.https = true, .ca_file = (certs / "cert.pem").string(), .verify = true});
  REQUIRE(with_ca.has_value());
  CHECK(with_ca->status == 200);

  auto unverified = probe(haproxy, {.https = true, .ca_file = "", .verify = false});
  REQUIRE(unverified.has_value());
  CHECK(unverified->status == 200);

  auto unknown = probe(haproxy, {.https = true, .ca_file = "", .verify = true});
  REQUIRE_FALSE(unknown.has_value());
  CHECK_THAT(unknown.error().message, Catch::Contains("certificate"));

  auto plain = probe(haproxy, {});
  const bool plain_passed = plain.has_value() && plain->status == 200;
  CHECK_FALSE(plain_passed);
}
