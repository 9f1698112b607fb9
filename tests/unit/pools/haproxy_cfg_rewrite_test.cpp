#include "tests/support/catch.hpp"

#include "pools/haproxy_cfg.hpp"

using namespace lbctl;
using namespace lbctl::pools;
using Catch::Contains;
using Servers = std::vector<DesiredServer>;

namespace {

constexpr const char* k_options = "check inter 1s fall 2 rise 2";

DesiredServer server(std::string name, std::string address, unsigned weight = 1, bool maint = false,
                     std::uint64_t id = 0) {
  return DesiredServer{std::move(name), std::move(address), id, k_options, maint, weight};
}

std::string rewritten(std::string_view text, const Servers& servers, std::string_view backend = "app") {
  auto result = rewrite_backend_servers(text, backend, servers);
  if (!result) FAIL(result.error().message);
  // A second run over the result is a no-op.
  auto again = rewrite_backend_servers(*result, backend, servers);
  REQUIRE(again.has_value());
  CHECK(*again == *result);
  return *result;
}

std::string error_of(std::string_view text, const Servers& servers) {
  auto result = rewrite_backend_servers(text, "app", servers);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().kind == ErrorKind::invalid);
  return result.error().message;
}

// Comments, odd spacing, tabs, a frontend, and another backend with a server
// of the same name as one of app's.
const std::string k_head =
    "# haproxy.cfg managed by hand, servers by lbctl\n"
    "global\n"
    "    log /dev/log local0\n"
    "    stats socket /run/haproxy/admin.sock mode 660 level admin\n"
    "\n"
    "defaults\n"
    "    mode http\n"
    "    timeout client  30s   # long polls\n"
    "    default-server inter 2s fall 3 rise 2\n"
    "\n"
    "frontend www\n"
    "    bind :80\n"
    "    default_backend app\n"
    "\n"
    "backend other\n"
    "    server old-1 127.0.1.9:8080 check   # same name as app's\n"
    "\n"
    "backend app\n"
    "\tbalance   roundrobin\n"
    "    option httpchk GET /health\n"
    "    # blue pool\n";
const std::string k_blue =
    "    server old-1 127.0.1.1:8080 check  cookie a1\tweight 10\n"
    "    server  old-2   127.0.1.2:8080 check cookie a2   # second\n"
    "    server old-3 127.0.1.3:8080 check\n";
const std::string k_tail =
    "\n"
    "    # green goes below\n"
    "\n"
    "listen stats\n"
    "    bind :8404\n"
    "    stats enable\n";

const Servers k_blue_servers = {server("old-1", "", 10), server("old-2", ""), server("old-3", "")};

}  // namespace

TEST_CASE("a realistic file changes only in the backend's server lines", "[pools][haproxy_cfg]") {
  const Servers servers = {server("old-1", "127.0.1.1:8080", 10), server("old-2", "127.0.1.2:8080", 1, true),
                           server("new-1", "127.0.1.11:8080", 1, false, 5),
                           server("new-2", "127.0.1.12:8080", 50, true, 6)};
  CHECK(rewritten(k_head + k_blue + k_tail, servers) ==
        k_head +
            "    server old-1 127.0.1.1:8080 check  cookie a1\tweight 10\n"
            "    server  old-2   127.0.1.2:8080 check cookie a2 disabled   # second\n"
            "    server new-1 127.0.1.11:8080 id 5 check inter 1s fall 2 rise 2\n"
            "    server new-2 127.0.1.12:8080 id 6 check inter 1s fall 2 rise 2 weight 50 disabled\n" +
            k_tail);
}

TEST_CASE("a file that already says what the LB holds comes back byte-equal", "[pools][haproxy_cfg]") {
  const std::string text = k_head + k_blue + k_tail;
  auto result = rewrite_backend_servers(text, "app", k_blue_servers);
  REQUIRE(result.has_value());
  CHECK(*result == text);
}

TEST_CASE("a server line that is not on the LB goes, with its line end", "[pools][haproxy_cfg]") {
  const Servers servers = {server("old-1", "", 10), server("old-3", "")};
  CHECK(rewritten(k_head + k_blue + k_tail, servers) ==
        k_head + "    server old-1 127.0.1.1:8080 check  cookie a1\tweight 10\n" +
            "    server old-3 127.0.1.3:8080 check\n" + k_tail);
  CHECK(rewritten(k_head + k_blue + k_tail, {}) == k_head + k_tail);
}

TEST_CASE("new servers follow the last server line, in the order asked, indented like it", "[pools][haproxy_cfg]") {
  const std::string text =
      "backend app\n    balance roundrobin\n  server a 127.0.1.1:80\n  # note\n  server b 127.0.1.2:80\n"
      "  # after\n";
  const Servers servers = {server("z", "127.0.1.26:80"), server("a", ""), server("c", "127.0.1.3:80"), server("b", "")};
  CHECK(rewritten(text, servers) ==
        "backend app\n    balance roundrobin\n  server a 127.0.1.1:80\n  # note\n  server b 127.0.1.2:80\n"
        "  server z 127.0.1.26:80 check inter 1s fall 2 rise 2\n"
        "  server c 127.0.1.3:80 check inter 1s fall 2 rise 2\n"
        "  # after\n");
}

TEST_CASE("new servers take the place of the last server line when it goes", "[pools][haproxy_cfg]") {
  const std::string text = "backend app\n    server blue-1 127.0.1.1:80\n    server blue-2 127.0.1.2:80\n\nbackend b\n";
  const Servers servers = {server("green-1", "127.0.2.1:80", 1, false, 3)};
  CHECK(rewritten(text, servers) ==
        "backend app\n    server green-1 127.0.2.1:80 id 3 check inter 1s fall 2 rise 2\n"
        "\nbackend b\n");
}

TEST_CASE("the first server of a backend without any follows its last option", "[pools][haproxy_cfg]") {
  const std::string text = "backend app\n\tbalance roundrobin\n\n# the next section\nbackend b\n";
  CHECK(rewritten(text, {server("a", "127.0.1.1:80")}) ==
        "backend app\n\tbalance roundrobin\n\tserver a 127.0.1.1:80 check inter 1s fall 2 rise 2\n"
        "\n# the next section\nbackend b\n");
  CHECK(rewritten("backend app\nbackend b\n", {server("a", "127.0.1.1:80")}) ==
        "backend app\n    server a 127.0.1.1:80 check inter 1s fall 2 rise 2\nbackend b\n");
}

TEST_CASE("disabled is added before a trailing comment and removed with its blank", "[pools][haproxy_cfg]") {
  const std::string live = "backend app\n    server old-1 127.0.1.1:80 cookie a1 check backup # keep me\n";
  const std::string maint = "backend app\n    server old-1 127.0.1.1:80 cookie a1 check backup disabled # keep me\n";
  CHECK(rewritten(live, {server("old-1", "", 1, true)}) == maint);
  CHECK(rewritten(maint, {server("old-1", "", 1, false)}) == live);
  CHECK(rewritten("backend app\n  server a x:1 disabled\tcheck  disabled\n", {server("a", "")}) ==
        "backend app\n  server a x:1\tcheck\n");
}

TEST_CASE("`cookie disabled` is left alone when the server changes state", "[pools][haproxy_cfg]") {
  const std::string text = "backend app\n    server a 127.0.1.1:80 cookie disabled check\n";
  CHECK(rewritten(text, {server("a", "", 1, true)}) ==
        "backend app\n    server a 127.0.1.1:80 cookie disabled check disabled\n");
}

TEST_CASE("a weight on the line is replaced and a missing one appended", "[pools][haproxy_cfg]") {
  const std::string text = "backend app\n  server a x:1 weight 10 check # w\n  server b x:2 check # w\n";
  CHECK(rewritten(text, {server("a", "", 20), server("b", "", 30)}) ==
        "backend app\n  server a x:1 weight 20 check # w\n  server b x:2 check weight 30 # w\n");
  CHECK(rewritten(text, {server("a", "", 1, true), server("b", "", 1, true)}) ==
        "backend app\n  server a x:1 weight 1 check disabled # w\n  server b x:2 check disabled # w\n");
}

TEST_CASE("the section's default-server weight decides whether weight is written", "[pools][haproxy_cfg]") {
  const std::string text = "backend app\n  default-server weight 50\n  server a x:1\n";
  CHECK(rewritten(text, {server("a", "", 50), server("b", "x:2", 50)}) ==
        "backend app\n  default-server weight 50\n  server a x:1\n  server b x:2 check inter 1s fall 2 rise 2\n");
  CHECK(rewritten(text, {server("a", "", 1), server("b", "x:2", 1)}) ==
        "backend app\n  default-server weight 50\n  server a x:1 weight 1\n"
        "  server b x:2 check inter 1s fall 2 rise 2 weight 1\n");
}

TEST_CASE("the defaults section's default-server weight, or the `from` one's, counts too", "[pools][haproxy_cfg]") {
  const std::string text =
      "defaults base\n  default-server weight 40\ndefaults\n  default-server weight 20\n"
      "backend app\n  server a x:1\nbackend named from base\n  server a x:1\n";
  CHECK(rewritten(text, {server("a", "", 20)}) == text);
  CHECK(rewritten(text, {server("a", "", 40)}, "named") == text);
  CHECK(rewritten(text, {server("a", "", 20)}, "named") ==
        "defaults base\n  default-server weight 40\ndefaults\n  default-server weight 20\n"
        "backend app\n  server a x:1\nbackend named from base\n  server a x:1 weight 20\n");
}

TEST_CASE("a server out of maintenance gets `enabled` when default-server says disabled", "[pools][haproxy_cfg]") {
  const std::string text = "defaults\n  default-server disabled\nbackend app\n  server a x:1\n";
  CHECK(rewritten(text, {server("a", ""), server("b", "x:2", 1, true)}) ==
        "defaults\n  default-server disabled\nbackend app\n  server a x:1 enabled\n"
        "  server b x:2 check inter 1s fall 2 rise 2 disabled\n");
}

TEST_CASE("a listen section is rewritten like a backend", "[pools][haproxy_cfg]") {
  const std::string text = "listen app\n    bind :80\n    server a x:1 check\n";
  CHECK(rewritten(text, {server("b", "x:2")}) ==
        "listen app\n    bind :80\n    server b x:2 check inter 1s fall 2 rise 2\n");
}

TEST_CASE("a CRLF file stays CRLF, and a lone LF line keeps its LF", "[pools][haproxy_cfg]") {
  const std::string text = "global\r\n  maxconn 10\n\r\nbackend app\r\n  server a x:1\r\n  server b x:2 # two\r\n";
  CHECK(rewritten(text, {server("b", "", 1, true), server("c", "x:3")}) ==
        "global\r\n  maxconn 10\n\r\nbackend app\r\n  server b x:2 disabled # two\r\n"
        "  server c x:3 check inter 1s fall 2 rise 2\r\n");
}

TEST_CASE("a file without a final newline still has none after an add or a remove", "[pools][haproxy_cfg]") {
  const std::string text = "backend app\n  server a x:1 check";
  CHECK(rewritten(text, {server("a", ""), server("b", "x:2")}) ==
        "backend app\n  server a x:1 check\n  server b x:2 check inter 1s fall 2 rise 2");
  CHECK(rewritten("backend app\n  server a x:1\n  server b x:2", {server("a", "")}) == "backend app\n  server a x:1");
  CHECK(rewritten("backend app\r\n  server a x:1", {server("a", "", 1, true)}) ==
        "backend app\r\n  server a x:1 disabled");
  CHECK(rewritten("backend app", {server("a", "x:1")}) == "backend app\n    server a x:1 check inter 1s fall 2 rise 2");
}

TEST_CASE("a blank line left last in a file without a final newline keeps its newline", "[pools][haproxy_cfg]") {
  // Without it the blank line itself would be gone.
  CHECK(rewritten("backend app\n  server a x:1\n\n  server b x:2", {server("a", "")}) ==
        "backend app\n  server a x:1\n\n");
}

TEST_CASE("a server line with quoted words and an escaped '#' keeps them", "[pools][haproxy_cfg]") {
  const std::string text = "backend app\n  server \"web 1\" '127.0.1.1:80' cookie a\\#b # real comment\n";
  CHECK(rewritten(text, {server("web 1", "", 3, true)}) ==
        "backend app\n  server \"web 1\" '127.0.1.1:80' cookie a\\#b weight 3 disabled # real comment\n");
}

TEST_CASE("rewriting refuses the files find_backend refuses", "[pools][haproxy_cfg]") {
  CHECK(error_of("backend other\n", {}) == "no `backend app` or `listen app` section");
  CHECK_THAT(error_of("backend app\nbackend app\n", {}),
             Contains("line 2: a second `backend app` (the first is on line 1)"));
  CHECK_THAT(error_of("backend app\n  server-template w 2 x:1\n", {}), Contains("line 2:"));
  CHECK_THAT(error_of("backend app\n  .if defined(X)\n", {}), Contains("line 2:"));
  CHECK_THAT(error_of("backend app\n  server a x:1\n  server a x:2\n", {}), Contains("line 3:"));
  CHECK_THAT(error_of("backend app\n  server a\n", {}), Contains("line 2:"));
  CHECK_THAT(error_of(std::string("backend app\n  server a x:1\n#") + '\0', {}), Contains("line 3: a NUL byte"));
}

TEST_CASE("a server listed twice, or one that cannot be written on one line, is refused", "[pools][haproxy_cfg]") {
  const std::string text = "backend app\n  server a x:1\n";
  CHECK(error_of(text, {server("a", ""), server("a", "")}) == "server `a` is listed twice");
  CHECK_THAT(error_of(text, {server("b c", "x:2")}), Contains("server `b c`"));
  CHECK_THAT(error_of(text, {server("b", "x:2 # y")}), Contains("server `b`"));
  auto newline = server("b", "x:2");
  newline.options = "check\nbackend evil";
  CHECK(error_of(text, {newline}) == "server `b`: its options must be one line");
}

TEST_CASE("options that would say a different weight or state are refused", "[pools][haproxy_cfg]") {
  const std::string text = "backend app\n  server a x:1\n";
  auto weighted = server("b", "x:2", 5);
  weighted.options = "check weight 9";  // written first, so the appended `weight 5` wins
  CHECK(rewritten(text, {server("a", ""), weighted}) ==
        "backend app\n  server a x:1\n  server b x:2 check weight 9 weight 5\n");
  auto enabled = server("b", "x:2", 1, true);
  enabled.options = "check # disabled";
  CHECK_THAT(error_of(text, {server("a", ""), enabled}), Contains("server `b`: the line lbctl would write"));
  auto sneaky = server("b", "x:2");
  sneaky.options = "disabled";
  CHECK_THAT(error_of(text, {server("a", ""), sneaky}), Contains("server `b`"));
}
