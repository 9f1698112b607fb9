#include "tests/support/catch.hpp"

#include "lbctl/cutover/drain_progress.hpp"
#include "lbctl/cutover/weights.hpp"

using namespace lbctl;
using namespace std::chrono_literals;

namespace {

double new_share(StageWeights w, std::size_t old_count, std::size_t new_count) {
  const double n = static_cast<double>(w.new_weight * new_count);
  const double o = static_cast<double>(w.old_weight * old_count);
  return n / (n + o);
}

}  // namespace

TEST_CASE("stage weights give the new pool its share of the traffic", "[lbctl][stages]") {
  for (auto [percent, old_count, new_count] : {std::tuple{10, 4, 4}, std::tuple{10, 2, 6}, std::tuple{50, 3, 1},
                                               std::tuple{1, 20, 20}, std::tuple{90, 1000, 1000}}) {
    INFO(percent << "% with " << old_count << " old, " << new_count << " new");
    const auto w = stage_weights(percent, old_count, new_count);
    CHECK(w.new_weight >= 1);
    CHECK(w.new_weight <= 256);
    CHECK(w.old_weight <= 256);
    CHECK(new_share(w, old_count, new_count) == Approx(percent / 100.0).margin(0.01));
  }
}

TEST_CASE("the last stage at 100% gives the old pool no weight", "[lbctl][stages]") {
  const auto w = stage_weights(100, 4, 4);
  CHECK(w.old_weight == 0);
  CHECK(w.new_weight == 1);
}

TEST_CASE("the drain rate and ETA come from the fall of sessions over the window", "[lbctl][drain]") {
  DrainProgress progress(10s);
  const auto t0 = std::chrono::steady_clock::time_point{};
  progress.add(t0, 100);
  CHECK_FALSE(progress.rate_per_second().has_value());
  progress.add(t0 + 5s, 50);
  REQUIRE(progress.rate_per_second().has_value());
  CHECK(*progress.rate_per_second() == Approx(10.0));
  CHECK(progress.eta_seconds() == 5);
  CHECK(progress.at_start() == 100);
  CHECK(progress.left() == 50);
}

TEST_CASE("sessions that do not fall give no ETA rather than a negative one", "[lbctl][drain]") {
  DrainProgress progress(10s);
  const auto t0 = std::chrono::steady_clock::time_point{};
  progress.add(t0, 5);
  progress.add(t0 + 2s, 7);
  CHECK(*progress.rate_per_second() == 0.0);
  CHECK_FALSE(progress.eta_seconds().has_value());
}
