// The analysis section: each metric's source and limits, what validate
// refuses, and the warnings for an analysis that would never run.

#include "tests/support/catch.hpp"

#include "tests/unit/lbctl/config/config_test_support.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

const std::string k_analysis = R"yaml(stages: [{weight_percent: 50, hold: 1m}]
analysis:
  interval: 10s
  failure_limit: 2
  min_requests: 20
  on_inconclusive: pass
  metrics:
    - haproxy: error_ratio
      max: 0.01
      max_vs_old: 2.0
    - haproxy: response_time
      max_vs_old: 1.5
      floor: 8
    - prometheus: {url: "http://127.0.0.1:9090", query: "sum(rate(app_errors_total[1m]))"}
      max: 5
    - command: ["/usr/local/bin/smoke-test", "--release", "{release}"]
      timeout: 30s
)yaml";

}  // namespace

TEST_CASE("analysis reads every metric with its limits", "[lbctl][config][analysis]") {
  const auto config = parse_config(k_minimal_config + k_analysis, "shop.yaml");
  REQUIRE(config.analysis);
  const auto& a = *config.analysis;
  CHECK(a.interval == 10s);
  CHECK(a.failure_limit == 2);
  CHECK(a.min_requests == 20);
  CHECK(a.on_inconclusive == AnalysisConfig::OnInconclusive::pass);
  REQUIRE(a.metrics.size() == 4);
  CHECK(a.metrics[0].haproxy == "error_ratio");
  CHECK(a.metrics[0].max == 0.01);
  CHECK(a.metrics[0].max_vs_old == 2.0);
  CHECK(a.metrics[0].floor == 0.001);
  CHECK(a.metrics[1].floor == 8);
  CHECK(a.metrics[2].source == AnalysisMetric::Source::prometheus);
  CHECK(a.metrics[2].url == "http://127.0.0.1:9090");
  CHECK(a.metrics[3].source == AnalysisMetric::Source::command);
  CHECK(a.metrics[3].command.back() == "{release}");
  CHECK(a.metrics[3].timeout == 30s);
  const auto defaults = parse_config(k_minimal_config + "analysis:\n  metrics: [{haproxy: error_ratio, max: 0.1}]\n", "s.yaml");
  CHECK(defaults.analysis->interval == 10s);
  CHECK(defaults.analysis->failure_limit == 1);
  CHECK(defaults.analysis->min_requests == 50);
  CHECK(defaults.analysis->on_inconclusive == AnalysisConfig::OnInconclusive::fail);
}

TEST_CASE("analysis errors name the metric and what is wrong", "[lbctl][config][analysis]") {
  const std::string head = k_minimal_config + "analysis:\n  metrics:\n";
  CHECK(config_error(head + "    - haproxy: latency\n      max: 5\n") ==
        "shop.yaml:10:16: analysis.metrics[0].haproxy: \"latency\" is not a HAProxy metric; expected error_ratio or "
        "response_time");
  CHECK(config_error(head + "    - haproxy: error_ratio\n").find("no limit, so it could never fail") != std::string::npos);
  CHECK(config_error(head + "    - max: 5\n").find("names no source") != std::string::npos);
  CHECK(config_error(head + "    - {haproxy: error_ratio, command: [x], max: 1}\n").find("more than one source") !=
        std::string::npos);
  CHECK(config_error(head + "    - {prometheus: {url: \"https://p:9090\", query: x}, max: 1}\n")
            .find("is not an http:// URL") != std::string::npos);
  CHECK(config_error(head + "    - {prometheus: {url: \"http://p:9090\"}, max: 1}\n").find("query") != std::string::npos);
  CHECK(config_error(head + "    - {prometheus: {url: \"http://p:9090\", query: x}}\n").find("expected max or min") !=
        std::string::npos);
  CHECK(config_error(head + "    - {prometheus: {url: \"http://p:9090\", query: x}, max_vs_old: 2}\n")
            .find("max_vs_old: not a key of a prometheus metric") != std::string::npos);
  CHECK(config_error(head + "    - {haproxy: error_ratio, max: 2}\n").find("a ratio above 1") != std::string::npos);
  CHECK(config_error(head + "    - {haproxy: response_time, max: 5, min: 10}\n").find("is above max") != std::string::npos);
  CHECK(config_error(head + "    - {command: [\"/bin/x\", \"{nope}\"]}\n").find("{nope}") != std::string::npos);
  CHECK(config_error(k_minimal_config + "analysis:\n  failure_limit: 0\n  metrics: [{haproxy: error_ratio, max: 1}]\n")
            .find("analysis.failure_limit") != std::string::npos);
  CHECK(config_error(k_minimal_config + "analysis:\n  on_inconclusive: maybe\n  metrics: [{haproxy: error_ratio, max: 1}]\n")
            .find("expected pass or fail") != std::string::npos);
  CHECK(config_error(k_minimal_config + "analysis:\n  metrics: []\n").find("is empty") != std::string::npos);
  CHECK(config_error(k_minimal_config + "analysis:\n  interval: 10s\n").find("analysis.metrics") != std::string::npos);
}

TEST_CASE("an analysis with nothing to run in is warned about", "[lbctl][config][analysis]") {
  const std::string metrics = "analysis:\n  metrics: [{haproxy: error_ratio, max: 0.01}]\n";
  auto warned = [](const Config& c, std::string_view text) {
    const auto w = config_warnings(c);
    return std::any_of(w.begin(), w.end(), [&](const std::string& s) { return s.find(text) != std::string::npos; });
  };
  CHECK(warned(parse_config(k_minimal_config + metrics, "s.yaml"), "analysis never runs"));
  CHECK_FALSE(warned(parse_config(k_minimal_config + metrics + "promotion: {mode: manual}\n", "s.yaml"), "analysis"));
  CHECK_FALSE(warned(parse_config(k_minimal_config + metrics + "promotion: {undo_window: 5m}\n", "s.yaml"), "analysis"));
  const auto short_hold =
      parse_config(k_minimal_config + metrics + "stages: [{weight_percent: 10, hold: 1m}, {weight_percent: 100}]\n", "s.yaml");
  CHECK(warned(short_hold, "analysis: stage 2 holds less than analysis.interval, so it is not analysed"));
}
