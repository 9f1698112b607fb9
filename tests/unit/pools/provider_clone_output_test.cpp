#include "tests/support/catch.hpp"

#include "pools/clone_output.hpp"

using namespace lbctl;
using namespace lbctl::pools;
using Strings = std::vector<std::string>;

namespace {

bool has_part(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("clone output gives the servers in the order asked, whatever the line order", "[pools][clone_output]") {
  const std::string out =
      "{\"name\": \"v2-2\", \"address\": \"127.0.0.22:8080\"}\n"
      "{\"name\": \"v2-1\", \"address\": \"127.0.0.21:8080\", \"id\": \"i-123\"}\n";
  auto servers = parse_clone_output(out, Strings{"v2-1", "v2-2"});
  REQUIRE(servers.has_value());
  CHECK(*servers == std::vector<Server>{{"v2-1", "127.0.0.21:8080"}, {"v2-2", "127.0.0.22:8080"}});
}

TEST_CASE("blank lines and a missing final newline are fine in clone output", "[pools][clone_output]") {
  const std::string out = "\n\r\n  \n{\"name\": \"v2-1\", \"address\": \"[::1]:8080\"}\r\n\n\n"
                          "{\"name\": \"v2-2\", \"address\": \"host-2.internal:80\"}";
  auto servers = parse_clone_output(out, Strings{"v2-1", "v2-2"});
  REQUIRE(servers.has_value());
  CHECK((*servers)[0].address == "[::1]:8080");
  CHECK((*servers)[1].address == "host-2.internal:80");
}

TEST_CASE("clone output without a name is an error naming the line", "[pools][clone_output]") {
  auto servers = parse_clone_output("{\"address\": \"127.0.0.21:8080\"}\n", Strings{"v2-1"});
  REQUIRE_FALSE(servers.has_value());
  CHECK(servers.error().kind == ErrorKind::invalid);
  CHECK(has_part(servers.error().message, "line 1"));
  CHECK(has_part(servers.error().message, "name"));
}

TEST_CASE("clone output with a bad address is an error naming the address", "[pools][clone_output]") {
  for (const std::string address : {"127.0.0.21", "127.0.0.21:0", "127.0.0.21:70000", "127.0.0.21:80;x", "a b:80"}) {
    auto servers = parse_clone_output("{\"name\": \"v2-1\", \"address\": \"" + address + "\"}", Strings{"v2-1"});
    REQUIRE_FALSE(servers.has_value());
    CHECK(has_part(servers.error().message, "is not HOST:PORT"));
    CHECK(has_part(servers.error().message, address));
  }
}

TEST_CASE("a hostile name in clone output is refused and shown escaped", "[pools][clone_output]") {
  const std::string out = "{\"name\": \"v2-1;shutdown sessions server app/old-1\\nforged line\", "
                          "\"address\": \"127.0.0.21:8080\"}";
  auto servers = parse_clone_output(out, Strings{"v2-1"});
  REQUIRE_FALSE(servers.has_value());
  CHECK(has_part(servers.error().message, "is not valid"));
  // The newline arrives escaped: the message stays one line.
  CHECK_FALSE(has_part(servers.error().message, "\n"));
  CHECK(has_part(servers.error().message, "\\n"));
}

TEST_CASE("clone output that is not JSON is an error quoting the line", "[pools][clone_output]") {
  auto servers = parse_clone_output("created v2-1 at 127.0.0.21\n", Strings{"v2-1"});
  REQUIRE_FALSE(servers.has_value());
  CHECK(has_part(servers.error().message, "line 1: not JSON: \"created v2-1 at 127.0.0.21\""));
}

TEST_CASE("clone output that is JSON but not an object is an error", "[pools][clone_output]") {
  auto servers = parse_clone_output("[\"v2-1\", \"127.0.0.21:8080\"]\n", Strings{"v2-1"});
  REQUIRE_FALSE(servers.has_value());
  CHECK(has_part(servers.error().message, "expected an object"));
}

TEST_CASE("a requested name missing from clone output is an error naming it", "[pools][clone_output]") {
  auto servers = parse_clone_output("{\"name\": \"v2-1\", \"address\": \"127.0.0.21:8080\"}\n", Strings{"v2-1", "v2-2"});
  REQUIRE_FALSE(servers.has_value());
  CHECK(has_part(servers.error().message, "no line for v2-2"));
}

TEST_CASE("a server not asked for in clone output is an error", "[pools][clone_output]") {
  auto servers = parse_clone_output("{\"name\": \"v2-9\", \"address\": \"127.0.0.29:8080\"}\n", Strings{"v2-1"});
  REQUIRE_FALSE(servers.has_value());
  CHECK(has_part(servers.error().message, "v2-9 was not asked for"));
}

TEST_CASE("a name given twice with two addresses is an error, with one address it is not", "[pools][clone_output]") {
  const std::string line1 = "{\"name\": \"v2-1\", \"address\": \"127.0.0.21:8080\"}\n";
  CHECK(parse_clone_output(line1 + line1, Strings{"v2-1"}).has_value());
  auto servers = parse_clone_output(line1 + "{\"name\": \"v2-1\", \"address\": \"127.0.0.99:8080\"}\n", Strings{"v2-1"});
  REQUIRE_FALSE(servers.has_value());
  CHECK(has_part(servers.error().message, "given twice"));
}

TEST_CASE("a name or address that is not a string is an error", "[pools][clone_output]") {
  CHECK_FALSE(parse_clone_output("{\"name\": 1, \"address\": \"127.0.0.21:8080\"}", Strings{"v2-1"}).has_value());
  CHECK_FALSE(parse_clone_output("{\"name\": \"v2-1\", \"address\": 8080}", Strings{"v2-1"}).has_value());
}

TEST_CASE("quote_for_message escapes control characters and cuts long text", "[pools][clone_output]") {
  CHECK(quote_for_message("a\nb") == "\"a\\nb\"");
  CHECK(quote_for_message(std::string(200, 'x'), 10) == "\"xxxxxxxxxx\"...");
}
