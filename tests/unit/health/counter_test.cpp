#include "tests/support/catch.hpp"

#include "health/counter.hpp"

using namespace lbctl;
using namespace lbctl::health;
using namespace std::chrono_literals;

TEST_CASE("consecutive passes up to rise make a server healthy", "[health][counter]") {
  HealthCounter counter(3);
  CHECK(counter.record(true) == Transition::pending);
  CHECK(counter.record(true) == Transition::pending);
  CHECK_FALSE(counter.healthy());
  CHECK(counter.record(true) == Transition::changed);
  CHECK(counter.healthy());
  CHECK(counter.record(true) == Transition::unchanged);
  CHECK(counter.passes() == 4);
}

TEST_CASE("a failure resets the passes counted toward rise", "[health][counter]") {
  HealthCounter counter(2);
  CHECK(counter.record(true) == Transition::pending);
  CHECK(counter.record(false) == Transition::unchanged);
  CHECK(counter.passes() == 0);
  CHECK(counter.failures() == 1);
  CHECK(counter.record(true) == Transition::pending);
  CHECK_FALSE(counter.healthy());
  CHECK(counter.record(true) == Transition::changed);
}

TEST_CASE("a healthy server turns unhealthy after fall failures in a row, and a pass resets them", "[health][counter]") {
  HealthCounter counter(1, 2);
  CHECK(counter.record(true) == Transition::changed);
  CHECK(counter.record(false) == Transition::pending);
  CHECK(counter.record(true) == Transition::unchanged);
  CHECK(counter.failures() == 0);
  CHECK(counter.record(false) == Transition::pending);
  CHECK(counter.record(false) == Transition::changed);
  CHECK_FALSE(counter.healthy());
}

TEST_CASE("a rise below one counts as one", "[health][counter]") {
  HealthCounter counter(0);
  CHECK(counter.record(true) == Transition::changed);
}

TEST_CASE("jitter stays within its share of the interval", "[health][schedule]") {
  Random random(42);
  for (int i = 0; i < 1000; ++i) {
    const auto j = jitter(100ms, 5, random.next());
    CHECK(j >= 0ms);
    CHECK(j <= 5ms);
  }
  CHECK(jitter(100ms, 0, 12345) == 0ms);
  CHECK(jitter(100ms, 10, 10) == 10ms);
  CHECK(jitter(100ms, 10, 11) == 0ms);
}

TEST_CASE("the next round starts one interval plus jitter after the last one started", "[health][schedule]") {
  const Clock::TimePoint start{std::chrono::hours(5)};
  CHECK(next_check_at(start, 500ms, 7ms) == start + 507ms);
  CHECK(next_check_at(start, 500ms, 0ms) == start + 500ms);
}

TEST_CASE("the same seed draws the same numbers", "[health][schedule]") {
  Random a(7);
  Random b(7);
  Random c(8);
  const auto first = a.next();
  CHECK(first == b.next());
  CHECK(first != c.next());
  CHECK(a.next() == b.next());
}
