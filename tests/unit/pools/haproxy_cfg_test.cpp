#include "tests/support/catch.hpp"

#include "pools/haproxy_cfg.hpp"
#include "pools/haproxy_cfg_text.hpp"

using namespace lbctl;
using namespace lbctl::pools;
using Catch::Contains;

namespace {

std::string error_of(const Result<CfgBackend>& result) {
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().kind == ErrorKind::invalid);
  return result.error().message;
}

}  // namespace

TEST_CASE("find_backend reads each server line's name, address, weight, disabled, id and text",
          "[pools][haproxy_cfg]") {
  const std::string text =
      "backend other\n"
      "    server web-1 127.0.9.9:80 weight 99\n"
      "backend app\n"
      "    balance roundrobin\n"
      "    server web-1 127.0.1.1:8080 check weight 10 id 7   # first\n"
      "\tserver web-2 [::1]:8080 cookie disabled disabled\n"
      "    server web-3 host-3.internal:80 disabled enabled\n";
  auto backend = find_backend(text, "app");
  REQUIRE(backend.has_value());
  CHECK(backend->kind == "backend");
  CHECK(backend->name == "app");
  CHECK(backend->header_line == 3);
  CHECK(backend->last_line == 7);
  REQUIRE(backend->servers.size() == 3);
  const auto& web1 = backend->servers[0];
  CHECK(web1.name == "web-1");
  CHECK(web1.address == "127.0.1.1:8080");
  CHECK(web1.line == 5);
  CHECK(web1.text == "    server web-1 127.0.1.1:8080 check weight 10 id 7   # first");
  CHECK(web1.weight == 10u);
  CHECK(web1.id == 7u);
  CHECK_FALSE(web1.disabled);
  CHECK(backend->servers[1].address == "[::1]:8080");
  CHECK(backend->servers[1].disabled);  // `cookie disabled` is the cookie's value; the last word is the keyword
  CHECK_FALSE(backend->servers[1].weight.has_value());
  CHECK_FALSE(backend->servers[1].id.has_value());
  CHECK_FALSE(backend->servers[2].disabled);  // the last of `disabled` / `enabled` wins
}

TEST_CASE("the value of another keyword is never read as `disabled`, `weight` or `id`", "[pools][haproxy_cfg]") {
  const std::string text =
      "backend app\n"
      "    server a 127.0.1.1:80 cookie disabled agent-send weight on-error id check\n";
  auto backend = find_backend(text, "app");
  REQUIRE(backend.has_value());
  CHECK_FALSE(backend->servers[0].disabled);
  CHECK_FALSE(backend->servers[0].weight.has_value());
  CHECK_FALSE(backend->servers[0].id.has_value());
}

TEST_CASE("quoted words and escaped '#' are read as HAProxy reads them", "[pools][haproxy_cfg]") {
  const std::string text =
      "backend app\n"
      "    server \"web 1\" '127.0.1.1:80' check cookie a\\#b weight \"5\" # a real comment weight 9\n";
  auto backend = find_backend(text, "app");
  REQUIRE(backend.has_value());
  REQUIRE(backend->servers.size() == 1);
  CHECK(backend->servers[0].name == "web 1");
  CHECK(backend->servers[0].address == "127.0.1.1:80");
  CHECK(backend->servers[0].weight == 5u);
}

TEST_CASE("a listen section is found like a backend", "[pools][haproxy_cfg]") {
  const std::string text = "frontend app\n    bind :80\nlisten app\n    bind :81\n    server a 127.0.1.1:80\n";
  auto backend = find_backend(text, "app");
  REQUIRE(backend.has_value());
  CHECK(backend->kind == "listen");
  CHECK(backend->header_line == 3);
  CHECK(backend->servers.size() == 1);
}

TEST_CASE("CRLF line ends never reach a word or a server line's text", "[pools][haproxy_cfg]") {
  const std::string text = "backend app\r\n    server a 127.0.1.1:80 weight 3\r\n    server b 127.0.1.2:80 disabled\r\n";
  auto backend = find_backend(text, "app");
  REQUIRE(backend.has_value());
  CHECK(backend->servers[0].text == "    server a 127.0.1.1:80 weight 3");
  CHECK(backend->servers[0].weight == 3u);
  CHECK(backend->servers[1].disabled);
}

TEST_CASE("default weight comes from the section's default-server, above the defaults section's",
          "[pools][haproxy_cfg]") {
  const std::string text =
      "defaults\n    default-server weight 20\n"
      "backend app\n    server a 127.0.1.1:80\n    default-server inter 1s weight 30\n    server b 127.0.1.2:80\n";
  auto backend = find_backend(text, "app");
  REQUIRE(backend.has_value());
  CHECK(backend->default_weight == 30);
  CHECK(backend->servers[0].default_weight == 20);  // a default-server reaches only the lines below it
  CHECK(backend->servers[0].effective_weight() == 20);
  CHECK(backend->servers[1].effective_weight() == 30);
}

TEST_CASE("default weight comes from the last defaults section above, or the one `from` names",
          "[pools][haproxy_cfg]") {
  const std::string text =
      "defaults base\n    default-server weight 40\n"
      "defaults\n    mode http\n"
      "backend plain\n    server a 127.0.1.1:80\n"
      "backend named from base\n    server a 127.0.1.1:80\n"
      "defaults child from base\n    timeout client 5s\n"
      "backend chained\n    server a 127.0.1.1:80\n";
  CHECK(find_backend(text, "plain")->default_weight == 1);  // a defaults section without `from` starts afresh
  CHECK(find_backend(text, "named")->default_weight == 40);
  CHECK(find_backend(text, "chained")->default_weight == 40);
}

TEST_CASE("default-server disabled in defaults makes lines without a state start in maintenance",
          "[pools][haproxy_cfg]") {
  const std::string text =
      "defaults\n  default-server disabled\nbackend app\n  server a 127.0.1.1:80\n  server b 127.0.1.2:80 enabled\n";
  auto backend = find_backend(text, "app");
  REQUIRE(backend.has_value());
  CHECK(backend->default_disabled);
  CHECK(backend->servers[0].disabled);
  CHECK_FALSE(backend->servers[1].disabled);
}

TEST_CASE("a missing backend is an error that names it", "[pools][haproxy_cfg]") {
  const std::string text = "frontend app\n    bind :80\nbackend other\n";
  CHECK(error_of(find_backend(text, "app")) == "no `backend app` or `listen app` section");
}

TEST_CASE("a backend defined twice is an error naming both lines", "[pools][haproxy_cfg]") {
  const std::string text = "backend app\n    server a 127.0.1.1:80\n\nlisten app\n    bind :80\n";
  CHECK(error_of(find_backend(text, "app")) == "line 4: a second `listen app` (the first is on line 1)");
}

TEST_CASE("a server-template in the backend is an error naming its line", "[pools][haproxy_cfg]") {
  const std::string text = "backend app\n    server a 127.0.1.1:80\n    server-template web 3 127.0.1.10:80\n";
  CHECK_THAT(error_of(find_backend(text, "app")), Contains("line 3: `server-template` in backend `app`"));
}

TEST_CASE("a conditional block in the backend is an error naming its line", "[pools][haproxy_cfg]") {
  const std::string text = "backend app\n.if defined(BLUE)\n    server a 127.0.1.1:80\n  .endif\n";
  CHECK_THAT(error_of(find_backend(text, "app")), Contains("line 2: `.if` in backend `app`"));
  const std::string around = "global\n.if defined(BLUE)\nbackend app\n    server a 127.0.1.1:80\n.else\n";
  CHECK_THAT(error_of(find_backend(around, "app")), Contains("line 5: `.else`"));
}

TEST_CASE("a server name on two lines of the backend is an error naming both", "[pools][haproxy_cfg]") {
  const std::string text =
      "backend app\n    server a 127.0.1.1:80\n    server b 127.0.1.2:80\n    server a 127.0.1.3:80\n";
  CHECK(error_of(find_backend(text, "app")) == "line 4: server `a` again (the first is on line 2)");
}

TEST_CASE("a server line without an address is an error naming its line", "[pools][haproxy_cfg]") {
  const std::string text = "backend app\n    server a 127.0.1.1:80\n    server b   # address lost\n";
  CHECK(error_of(find_backend(text, "app")) == "line 3: `server` needs a name and an address");
}

TEST_CASE("a NUL byte anywhere in the file is an error naming its line", "[pools][haproxy_cfg]") {
  const std::string text = std::string("global\n    maxconn 10\nbackend app\n    server a 127.0.1.1:80") + '\0' + "\n";
  CHECK(error_of(find_backend(text, "app")) == "line 4: a NUL byte");
}

TEST_CASE("an unclosed quote or a weight that is not a number in the backend is an error", "[pools][haproxy_cfg]") {
  CHECK(error_of(find_backend("backend app\n  server a \"127.0.1.1:80\n", "app")) == "line 2: a quote is not closed");
  CHECK(error_of(find_backend("backend app\n  server a 127.0.1.1:80 weight x\n", "app")) ==
        "line 2: weight `x` is not a number");
  CHECK(error_of(find_backend("backend app\n  server a 127.0.1.1:80 id\n", "app")) == "line 2: `id` needs a value");
}

TEST_CASE("`from` naming no defaults section above is an error naming the header", "[pools][haproxy_cfg]") {
  CHECK(error_of(find_backend("backend app from base\n  server a 127.0.1.1:80\ndefaults base\n", "app")) ==
        "line 1: `from base`: no defaults section of that name above it");
}

TEST_CASE("the problems of other sections are not the backend's", "[pools][haproxy_cfg]") {
  const std::string text =
      "backend other\n  server-template w 3 127.0.1.1:80\n  server a 127.0.1.1:80\n  server a 127.0.1.1:80\n"
      ".if defined(X)\n.endif\npeers mine\n  server a\n"
      "backend app\n  server a 127.0.1.1:80\n";
  CHECK(find_backend(text, "app").has_value());
}

TEST_CASE("line_diff shows a small change with three lines of context", "[pools][haproxy_cfg]") {
  const std::string before = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
  const std::string after = "a\nb\nc\nd\nE\nf\ng\nh\ni\n";
  CHECK(line_diff(before, after, "haproxy.cfg") ==
        "--- haproxy.cfg\n+++ haproxy.cfg\n"
        "@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n");
}

TEST_CASE("line_diff keeps distant changes in separate hunks and near ones in one", "[pools][haproxy_cfg]") {
  const std::string before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n";
  const std::string after = "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n15\n16\n";
  CHECK(line_diff(before, after, "f") ==
        "--- f\n+++ f\n"
        "@@ -1,3 +1,4 @@\n+0\n 1\n 2\n 3\n"
        "@@ -11,6 +12,5 @@\n 11\n 12\n 13\n-14\n 15\n 16\n");
  CHECK(line_diff("a\nb\nc\nd\n", "A\nb\nc\nd\ne\n", "f") == "--- f\n+++ f\n@@ -1,4 +1,5 @@\n-a\n+A\n b\n c\n d\n+e\n");
}

TEST_CASE("line_diff is empty for equal texts and marks a missing final newline", "[pools][haproxy_cfg]") {
  CHECK(line_diff("a\nb\n", "a\nb\n", "f").empty());
  CHECK(line_diff("a\nb\n", "a\nb", "f") ==
        "--- f\n+++ f\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n");
  CHECK(line_diff("", "x\n", "f") == "--- f\n+++ f\n@@ -0,0 +1 @@\n+x\n");
}

TEST_CASE("split_words cuts plain lines as the byte-at-a-time reader does", "[pools][haproxy_cfg]") {
  for (const std::string line :
       {"    server v2-1 127.0.0.1:20001 id 1001 check inter 10s fall 2 rise 2", "", "   ", "\t\tserver a b",
        "server a b # a comment", "server a b#c", "#only a comment", "server a b\rweight 3", "a\tb\vc\fd  ",
        "server a \"b c\" weight 2", "server a b\\ c", "server 'a b' c", "server a \"b # c\"", "server a \"open"}) {
    INFO(line);
    const auto fast = haproxy_text::split_words(line);
    const auto general = haproxy_text::split_words_quoted(line);
    CHECK(fast.stop == general.stop);
    CHECK(fast.open_quote == general.open_quote);
    REQUIRE(fast.words.size() == general.words.size());
    for (std::size_t i = 0; i < fast.words.size(); ++i) {
      CHECK(fast.words[i].begin == general.words[i].begin);
      CHECK(fast.words[i].end == general.words[i].end);
      CHECK(fast.words[i].value == general.words[i].value);
    }
  }
  const auto words = haproxy_text::split_words("  server a 1.2.3.4:80 weight 3 # x");
  REQUIRE(words.words.size() == 5);
  CHECK(words.words[4].value == "3");
  CHECK(words.stop == 31);
}

TEST_CASE("hash-type: the backend's own line, else its defaults section's, else none", "[pools][haproxy_cfg]") {
  const std::string text = "defaults base\n  mode http\n  hash-type consistent sdbm\n"
                           "defaults other\n  mode http\n"
                           "backend inherits from base\n  balance source\n  server a 10.0.0.1:80\n"
                           "backend own from base\n  balance source\n  hash-type map-based\n  server a 10.0.0.1:80\n"
                           "backend none from other\n  balance uri\n  server a 10.0.0.1:80\n"
                           "backend commented from other\n  # hash-type consistent\n  server a 10.0.0.1:80\n";
  CHECK(find_backend(text, "inherits")->hash_type == "consistent");
  CHECK(find_backend(text, "own")->hash_type == "map-based");
  CHECK(find_backend(text, "none")->hash_type.empty());
  CHECK(find_backend(text, "commented")->hash_type.empty());
}

TEST_CASE("a backend persistence: cookie (also from defaults), dynamic cookies, stick rules and tables, persist "
          "options, and never the key value",
          "[pools][haproxy_cfg][sticky]") {
  const std::string text =
      "backend plain\n  balance roundrobin\n  server a 10.0.0.1:80\n"
      "defaults base\n  mode http\n  cookie SRV insert indirect nocache\n  option persist\n"
      "backend inherits from base\n  server a 10.0.0.1:80 cookie a\n"
      "backend own from base\n  cookie WEB insert dynamic # derived\n  dynamic-cookie-key \"k3y s3cret\"\n"
      "  no option persist\n  stick-table type ip size 1m expire 30m\n  stick on src\n"
      "  stick match req.cook(x) table shared\n  force-persist if { src 10.0.0.0/8 }\n  server a 10.0.0.1:80\n";
  const auto inherits = find_backend(text, "inherits");
  REQUIRE(inherits.has_value());
  CHECK(inherits->persistence.cookie == "SRV insert indirect nocache");
  CHECK_FALSE(inherits->persistence.cookie_dynamic);
  CHECK_FALSE(inherits->persistence.dynamic_cookie_key);
  CHECK(inherits->persistence.option_persist);
  CHECK(inherits->persistence.any());
  const auto own = find_backend(text, "own");
  REQUIRE(own.has_value());
  const auto& p = own->persistence;
  CHECK(p.cookie == "WEB insert dynamic");
  CHECK(p.cookie_dynamic);
  CHECK(p.dynamic_cookie_key);
  CHECK_FALSE(p.option_persist);
  CHECK(p.force_persist);
  CHECK(p.stick == std::vector<std::string>{"stick-table type ip size 1m expire 30m", "stick on src",
                                            "stick match req.cook(x) table shared"});
  CHECK(p.stick_tables == std::vector<std::string>{"own", "shared"});
  const auto plain = find_backend(text, "plain");
  REQUIRE(plain.has_value());
  CHECK_FALSE(plain->persistence.any());
}

TEST_CASE("line_diff never shows a secret: the dynamic-cookie-key, stats auth, a userlist password", "[pools][haproxy_cfg][sticky]") {
  const std::string before =
      "userlist admins\n  user alice password $6$salt$h4sh\n  user bob insecure-password hunter2\n"
      "listen stats\n  stats auth admin:s3cret\n"
      "backend app\n  cookie SRV insert indirect nocache dynamic\n  dynamic-cookie-key \"k3y s3cret\"\n"
      "  server old-1 127.0.0.1:9001 check\n";
  std::string after = before;
  after.replace(after.find("  server old-1"), 0, "  server v2-1 127.0.0.1:9101 id 1001 check\n");
  after.replace(after.find("  stats auth"), 0, "  stats refresh 5s\n");
  after.replace(after.find("  user bob"), 0, "  user carol password $6$x$y\n");
  const auto diff = line_diff(before, after, "haproxy.cfg");
  INFO(diff);
  CHECK_THAT(diff, Catch::Contains(" dynamic-cookie-key (redacted)\n"));
  CHECK_THAT(diff, Catch::Contains(" stats auth (redacted)\n"));
  CHECK_THAT(diff, Catch::Contains("+  user carol password (redacted)\n"));
  CHECK_THAT(diff, Catch::Contains("+  server v2-1 127.0.0.1:9101 id 1001 check\n"));
  for (const auto* secret : {"k3y", "s3cret", "h4sh", "hunter2", "$6$x$y"}) CHECK(diff.find(secret) == std::string::npos);
}
