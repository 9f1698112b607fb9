#include "tests/support/catch.hpp"

#include "core/time_format.hpp"

using namespace lbctl;
using namespace std::chrono_literals;

TEST_CASE("UTC times come in the four formats lbctl writes", "[core]") {
  // 2026-11-21 10:15:30.042 UTC
  const std::chrono::system_clock::time_point t{std::chrono::seconds(1795256130) + 42ms};
  CHECK(format_time(t, TimeFormat::human) == "2026-11-21 10:15:30 UTC");
  CHECK(format_time(t, TimeFormat::iso) == "2026-11-21T10:15:30Z");
  CHECK(format_time(t, TimeFormat::iso_ms) == "2026-11-21T10:15:30.042Z");
  CHECK(format_time(t, TimeFormat::compact) == "20261121T101530Z");
}
