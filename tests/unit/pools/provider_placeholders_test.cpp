#include "tests/support/catch.hpp"

#include "pools/placeholders.hpp"

using namespace lbctl::pools;
using Strings = std::vector<std::string>;

namespace {

Placeholders values() {
  Placeholders v;
  v.emplace_back("name", "v2-1");
  v.emplace_back("port", "18301");
  v.emplace_back("dir", "/srv/a b;rm -rf x");
  return v;
}

}  // namespace

TEST_CASE("placeholders are replaced inside each argv element", "[pools][placeholders]") {
  const Strings argv{"serve", "--port={port}", "{name}.{port}", "--bind", "127.0.0.1"};
  CHECK(expand_argv(argv, values()) == Strings{"serve", "--port=18301", "v2-1.18301", "--bind", "127.0.0.1"});
}

TEST_CASE("a value that would start an argument with a dash is refused, never passed as an option",
          "[pools][placeholders][security]") {
  Placeholders v;
  v.emplace_back("host", "-oProxyCommand=touch /tmp/owned");
  v.emplace_back("name", "-v");
  const auto host = expand_argv(Strings{"ssh", "{host}", "true"}, v);
  REQUIRE_FALSE(host);
  CHECK(host.error().kind == lbctl::ErrorKind::invalid);
  CHECK_THAT(host.error().message, Catch::Contains("{host}") && Catch::Contains("-oProxyCommand") &&
                                       Catch::Contains("as an option"));
  CHECK_FALSE(expand_argv(Strings{"stop", "{name}"}, v));
  // Inside an argument, or after a literal option, the value is only a value.
  CHECK(expand_argv(Strings{"ssh", "--", "x{host}", "--name={name}"}, v) ==
        Strings{"ssh", "--", "x-oProxyCommand=touch /tmp/owned", "--name=-v"});
  // An option the user wrote stays one.
  CHECK(expand_argv(Strings{"app", "-p", "{port}"}, values()) == Strings{"app", "-p", "18301"});
}

TEST_CASE("a value with spaces and semicolons stays one argv element", "[pools][placeholders]") {
  const Strings argv{"serve", "--directory", "{dir}"};
  const auto expanded = expand_argv(argv, values());
  REQUIRE(expanded);
  REQUIRE(expanded->size() == 3);
  CHECK((*expanded)[2] == "/srv/a b;rm -rf x");
}

TEST_CASE("unknown placeholders, empty braces and lone braces are kept as written", "[pools][placeholders]") {
  CHECK(expand_placeholders("{unknown} {} { {name", values()) == "{unknown} {} { {name");
  CHECK(expand_placeholders("{\"json\": 1}", values()) == "{\"json\": 1}");
  CHECK(expand_placeholders("}{name}{", values()) == "}v2-1{");
}

TEST_CASE("a doubled opening brace keeps the first and expands the key", "[pools][placeholders]") {
  CHECK(expand_placeholders("{{name}", values()) == "{v2-1");
}

TEST_CASE("a value that reads like a placeholder is not expanded again", "[pools][placeholders]") {
  Placeholders v;
  v.emplace_back("name", "{port}");
  v.emplace_back("port", "1");
  CHECK(expand_placeholders("{name}-{port}", v) == "{port}-1");
}

TEST_CASE("uses_placeholder finds a key anywhere in the argv", "[pools][placeholders]") {
  CHECK(uses_placeholder(Strings{"clone", "--name={name}"}, "name"));
  CHECK_FALSE(uses_placeholder(Strings{"clone", "{names}"}, "name"));
}

TEST_CASE("find_unknown_placeholder names the first key that is not a placeholder, and where", "[pools][placeholders]") {
  const auto unknown = find_unknown_placeholder(Strings{"app", "--port={port}", "--dir", "{dri}/x", "{nmae}"},
                                                {"port", "dir", "name"});
  REQUIRE(unknown);
  CHECK(unknown->index == 3);
  CHECK(unknown->key == "dri");
  CHECK_FALSE(find_unknown_placeholder(Strings{"app", "{port}", "{{name}}", "x{dir}y"}, {"port", "dir", "name"}));
}

TEST_CASE("braces around anything but a lower-case word are not taken for placeholders", "[pools][placeholders]") {
  CHECK_FALSE(find_unknown_placeholder(Strings{"curl", "-d", "{\"text\": \"hi\"}", "{}", "{print $1}", "{Name}", "{",
                                               "}{", "{1}"},
                                       {"port"}));
  CHECK(find_unknown_placeholder(Strings{"jq", "{name}"}, {})->key == "name");
}
