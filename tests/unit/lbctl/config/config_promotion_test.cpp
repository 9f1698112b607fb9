// The promotion section: the gate's mode and timers, the undo window, and
// what they cannot be combined with.

#include "tests/support/catch.hpp"

#include "tests/unit/lbctl/config/config_test_support.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;

TEST_CASE("promotion reads its mode, timers and undo window", "[lbctl][config][promotion]") {
  const auto config = parse_config(k_minimal_config + "promotion:\n  mode: manual\n  auto_promote_after: 10m\n"
                                                      "  auto_abort_after: 1h\n  undo_window: 15m\n",
                                   "shop.yaml");
  CHECK(config.promotion.manual());
  CHECK(config.promotion.auto_promote_after == 10min);
  CHECK(config.promotion.auto_abort_after == 1h);
  CHECK(config.promotion.undo_window == 15min);
  const auto defaults = parse_config(k_minimal_config, "shop.yaml");
  CHECK_FALSE(defaults.promotion.manual());
  CHECK(defaults.promotion.undo_window == 0ms);
  // auto with only an undo window is valid.
  CHECK(config_error(k_minimal_config + "promotion: {mode: auto, undo_window: 5m}\n") == "(loaded)");
}

TEST_CASE("promotion errors say where and what", "[lbctl][config][promotion]") {
  CHECK(config_error(k_minimal_config + "promotion:\n  mode: later\n") ==
        "shop.yaml:9:9: promotion.mode: \"later\" is not a promotion mode; expected auto or manual");
  CHECK(config_error(k_minimal_config + "promotion:\n  auto_promote_after: 10m\n") ==
        "shop.yaml:9:23: promotion.auto_promote_after: a timer of the promotion pause, which only mode: manual has; "
        "expected mode: manual, or 0s");
  CHECK(config_error(k_minimal_config + "promotion:\n  mode: manual\n  auto_promote_after: 5m\n  auto_abort_after: 5m\n")
            .find("promotion.auto_abort_after: equal to auto_promote_after") != std::string::npos);
  CHECK(config_error(k_minimal_config + "promotion:\n  undo_window: soon\n").find("promotion.undo_window") !=
        std::string::npos);
  CHECK(config_error(k_minimal_config + "promotion:\n  pause: true\n").find("promotion.pause: unknown key") !=
        std::string::npos);
}

TEST_CASE("maintenance mode has no promotion pause and no undo window", "[lbctl][config][promotion]") {
  const std::string maintenance = k_minimal_config + "mode: maintenance\nmaintenance: {map: /etc/haproxy/m.map}\n";
  CHECK(config_error(maintenance + "promotion: {mode: manual}\n").find("promotion.mode: manual pauses with both pools") !=
        std::string::npos);
  CHECK(config_error(maintenance + "promotion: {undo_window: 5m}\n").find("promotion.undo_window: mode: maintenance") !=
        std::string::npos);
  CHECK(config_error(maintenance + "promotion: {mode: auto}\n") == "(loaded)");
}
