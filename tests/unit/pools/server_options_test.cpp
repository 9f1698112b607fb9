#include "tests/support/catch.hpp"

#include "pools/server.hpp"
#include "pools/server_options.hpp"

using namespace lbctl::pools;

TEST_CASE("allowed server options parse with their check timings", "[pools][options]") {
  std::string problem;
  auto options = parse_server_options("check inter 1s fall 2 rise 3 weight 10 maxconn 100 minconn 10", &problem);
  REQUIRE(options.has_value());
  CHECK(options->check);
  CHECK(options->inter_ms == 1000);
  CHECK(options->rise == 3);
  CHECK(options->fall == 2);
  CHECK(options->tokens.size() == 13);
  auto millis = parse_server_options("check inter 250", &problem);
  REQUIRE(millis.has_value());
  CHECK(millis->inter_ms == 250);
}

TEST_CASE("options outside the allow-list are refused with the reason", "[pools][options]") {
  for (const char* bad : {"check enabled", "check disabled", "check id 5", "check cookie a", "check track app/x",
                          "check on-marked-down shutdown-sessions", "check backup"}) {
    INFO(bad);
    std::string problem;
    CHECK_FALSE(parse_server_options(bad, &problem).has_value());
    CHECK(problem.find("not an allowed server option") != std::string::npos);
  }
}

TEST_CASE("options that could smuggle a command are refused", "[pools][options]") {
  for (const char* bad : {"check; del server app/old-1", "check\nshow info", "check inter 1s\\", "check # x",
                          "check\tinter 1s", "check inter \"1s\""}) {
    INFO(bad);
    std::string problem;
    CHECK_FALSE(parse_server_options(bad, &problem).has_value());
    CHECK_FALSE(problem.empty());
  }
}

TEST_CASE("maxconn without minconn, a missing check, or a bad value are refused", "[pools][options]") {
  std::string problem;
  CHECK_FALSE(parse_server_options("check maxconn 10", &problem).has_value());
  CHECK(problem.find("minconn") != std::string::npos);
  CHECK_FALSE(parse_server_options("inter 1s", &problem).has_value());
  CHECK(problem.find("'check' is required") != std::string::npos);
  CHECK_FALSE(parse_server_options("check inter soon", &problem).has_value());
  CHECK_FALSE(parse_server_options("check rise", &problem).has_value());
  CHECK_FALSE(parse_server_options("check rise 0", &problem).has_value());
}

TEST_CASE("addresses are HOST:PORT with a safe host and a port in range", "[pools][options]") {
  CHECK(parse_address("127.0.0.1:8080").has_value());
  CHECK(parse_address("app-1.internal:80")->host == "app-1.internal");
  CHECK(parse_address("[::1]:8080")->port == 8080);
  for (const char* bad : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", ":80", "a b:80", "a;b:80", "h:8o",
                          "127.0.0.1:80\n", "-oProxyCommand:22", "-v:80"}) {
    INFO(bad);
    CHECK_FALSE(parse_address(bad).has_value());
  }
}

TEST_CASE("ssl without check-ssl gets check-ssl, as a config file's server would check over TLS", "[pools][options]") {
  std::string problem;
  auto tls = parse_server_options("check inter 1s ssl verify none", &problem);
  REQUIRE(tls);
  CHECK(tls->text() == "check inter 1s ssl verify none check-ssl");
  // Already there, or checks on another port (HAProxy does not inherit then): as given.
  auto given = parse_server_options("check check-ssl ssl verify none", &problem);
  REQUIRE(given);
  CHECK(given->text() == "check check-ssl ssl verify none");
  auto other_port = parse_server_options("check port 8081 ssl verify none", &problem);
  REQUIRE(other_port);
  CHECK(other_port->text() == "check port 8081 ssl verify none");
  auto plain = parse_server_options("check inter 1s", &problem);
  REQUIRE(plain);
  CHECK(plain->text() == "check inter 1s");
}

TEST_CASE("a persisted line's options come apart into add server's options and the cookie", "[pools][cookie]") {
  const auto with = split_line_cookie("check inter 1s fall 2 rise 2 cookie v2-1");
  CHECK(with.options == "check inter 1s fall 2 rise 2");
  CHECK(with.cookie == "v2-1");
  const auto middle = split_line_cookie("check  cookie c.1 inter 1s");
  CHECK(middle.options == "check inter 1s");
  CHECK(middle.cookie == "c.1");
  const auto without = split_line_cookie("check inter 1s");
  CHECK(without.options == "check inter 1s");
  CHECK(without.cookie.empty());
  // A trailing `cookie` with no value stays in the options, for parse_server_options to refuse.
  CHECK(split_line_cookie("check cookie").options == "check cookie");
}
