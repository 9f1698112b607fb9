#include "tests/support/catch.hpp"

#include "pools/haproxy_cfg.hpp"

using namespace lbctl;
using namespace lbctl::pools;
using Catch::Contains;

namespace {

std::string rewritten(std::string_view text, std::string_view key, const std::optional<std::string>& value) {
  auto result = rewrite_map_key(text, key, value);
  if (!result) FAIL(result.error().message);
  // A second run over the result is a no-op.
  auto again = rewrite_map_key(*result, key, value);
  REQUIRE(again.has_value());
  CHECK(*again == *result);
  return *result;
}

std::string error_of(std::string_view text, std::string_view key, const std::optional<std::string>& value) {
  auto result = rewrite_map_key(text, key, value);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().kind == ErrorKind::invalid);
  return result.error().message;
}

const std::string k_map_file =
    "# host -> backend\n"
    "\n"
    "api.example.com\tapp_blue\n"
    "www.example.com   app_blue   # not a comment: part of the value\n"
    "  old.example.com legacy\n";

}  // namespace

TEST_CASE("a map key that is absent is appended as `key value`", "[pools][haproxy_cfg]") {
  CHECK(rewritten(k_map_file, "new.example.com", "app_green") == k_map_file + "new.example.com app_green\n");
  CHECK(rewritten("", "a", "b") == "a b\n");
}

TEST_CASE("a map key's line is replaced as `key value`, comments and blank lines kept", "[pools][haproxy_cfg]") {
  CHECK(rewritten(k_map_file, "api.example.com", "app_green") ==
        "# host -> backend\n\napi.example.com app_green\n"
        "www.example.com   app_blue   # not a comment: part of the value\n  old.example.com legacy\n");
  CHECK(rewritten(k_map_file, "old.example.com", "app_green") ==
        "# host -> backend\n\napi.example.com\tapp_blue\n"
        "www.example.com   app_blue   # not a comment: part of the value\nold.example.com app_green\n");
}

TEST_CASE("a map file that already says the value comes back byte-equal", "[pools][haproxy_cfg]") {
  auto same = rewrite_map_key(k_map_file, "api.example.com", std::string("app_blue"));
  REQUIRE(same.has_value());
  CHECK(*same == k_map_file);
  auto absent = rewrite_map_key(k_map_file, "nothing.example.com", std::nullopt);
  REQUIRE(absent.has_value());
  CHECK(*absent == k_map_file);
}

TEST_CASE("later lines of a map key are removed when it is set", "[pools][haproxy_cfg]") {
  const std::string text = "a 1\nb 2\na 3\n# a 4\na 5\n";
  CHECK(rewritten(text, "a", "1") == "a 1\nb 2\n# a 4\n");
  CHECK(rewritten(text, "a", "9") == "a 9\nb 2\n# a 4\n");
}

TEST_CASE("removing a map key removes every line of it", "[pools][haproxy_cfg]") {
  CHECK(rewritten("a 1\nb 2\n a 3\n", "a", std::nullopt) == "b 2\n");
  CHECK(rewritten("a 1\n", "a", std::nullopt).empty());
}

TEST_CASE("a CRLF map file stays CRLF", "[pools][haproxy_cfg]") {
  const std::string text = "# hosts\r\na 1\r\nb 2\r\n";
  CHECK(rewritten(text, "b", "3") == "# hosts\r\na 1\r\nb 3\r\n");
  CHECK(rewritten(text, "c", "4") == "# hosts\r\na 1\r\nb 2\r\nc 4\r\n");
  CHECK(rewritten(text, "a", std::nullopt) == "# hosts\r\nb 2\r\n");
  CHECK(map_file_value(text, "a") == "1");
}

TEST_CASE("a map file without a final newline still has none", "[pools][haproxy_cfg]") {
  CHECK(rewritten("a 1\nb 2", "c", "3") == "a 1\nb 2\nc 3");
  CHECK(rewritten("a 1\nb 2", "b", std::nullopt) == "a 1");
  CHECK(rewritten("a 1\nb 2", "b", "4") == "a 1\nb 4");
  CHECK(rewritten("a 1\r\nb 2", "c", "3") == "a 1\r\nb 2\r\nc 3");
  CHECK(rewritten("a 1\n\nb 2", "b", std::nullopt) == "a 1\n\n");  // the blank line stays a line
}

TEST_CASE("a last line that ends in a lone CR keeps it when a line is added after it", "[pools][haproxy_cfg]") {
  // Found by the haproxy_map fuzz target: the CR was replaced by the newline.
  CHECK(rewritten("other 0\r", "maintenance", std::string("on")) == "other 0\r\nmaintenance on\r");
  CHECK(rewritten("# notes\r\r", "maintenance", std::string("on")) == "# notes\r\r\nmaintenance on\r");
}

TEST_CASE("map_file_value reads a map line as HAProxy does", "[pools][haproxy_cfg]") {
  CHECK(map_file_value(k_map_file, "api.example.com") == "app_blue");
  CHECK(map_file_value(k_map_file, "www.example.com") == "app_blue   # not a comment: part of the value");
  CHECK(map_file_value(k_map_file, "old.example.com") == "legacy");
  CHECK(map_file_value(k_map_file, "#") == std::nullopt);
  CHECK(map_file_value(k_map_file, "host") == std::nullopt);
  CHECK(map_file_value("a 1\na 2\n", "a") == "1");
  CHECK(map_file_value("lonely\n", "lonely") == "");
}

TEST_CASE("a map key or value HAProxy would not read back is refused", "[pools][haproxy_cfg]") {
  CHECK_THAT(error_of(k_map_file, "", std::string("x")), Contains("a map key is one word"));
  CHECK_THAT(error_of(k_map_file, "a b", std::string("x")), Contains("a map key is one word"));
  CHECK_THAT(error_of(k_map_file, "#a", std::string("x")), Contains("a map key is one word"));
  CHECK(error_of(k_map_file, "a", std::string("x\nb y")) == "the value of map key `a` must be one line");
  CHECK_THAT(error_of(k_map_file, "a", std::string(" x")), Contains("starts with a blank"));
  CHECK(error_of(std::string("a 1\n") + '\0', "a", std::nullopt) == "line 2: a NUL byte");
}
