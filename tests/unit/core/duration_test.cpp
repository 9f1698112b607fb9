#include "tests/support/catch.hpp"

#include "core/duration.hpp"
#include "core/names.hpp"

using namespace lbctl;
using namespace std::chrono_literals;

TEST_CASE("durations in ms, s, m and h parse to milliseconds", "[core]") {
  CHECK(parse_duration("100ms") == Duration(100));
  CHECK(parse_duration("2s") == Duration(2000));
  CHECK(parse_duration("5m") == Duration(300000));
  CHECK(parse_duration("1h") == Duration(3600000));
  CHECK(parse_duration("0s") == Duration(0));
}

TEST_CASE("durations without a unit, with a sign, a fraction or spaces are refused", "[core]") {
  for (const char* bad : {"", "10", "ms", "-1s", "1.5s", "1 s", "1sec", "2d", "1s ", " 1s", "1m30s"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
}

TEST_CASE("durations format to their shortest exact spelling", "[core]") {
  CHECK(format_duration(Duration(1500)) == "1500ms");
  CHECK(format_duration(Duration(120000)) == "2m");
  CHECK(format_duration(Duration(7200000)) == "2h");
  CHECK(format_duration(Duration(0)) == "0s");
  CHECK(format_duration(Duration(3000)) == "3s");
  CHECK(format_seconds(Duration(1234)) == "1.2s");
}

TEST_CASE("names are 1 to 64 letters, digits, dots, underscores and dashes, never a dash first", "[core]") {
  CHECK(is_valid_name("v2-1"));
  CHECK(is_valid_name("app_backend.eu-1"));
  CHECK(is_valid_name(std::string(64, 'a')));
  CHECK_FALSE(is_valid_name(std::string(65, 'a')));
  CHECK_FALSE(is_valid_name(""));
  for (const char* hostile : {"a;b", "a b", "a\nb", "a\\b", "a/b", "a#b", "a$b", "a\tb", "ü", "-oProxyCommand", "-"}) {
    INFO(hostile);
    CHECK_FALSE(is_valid_name(hostile));
  }
}
