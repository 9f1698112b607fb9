// The analysis' other sources on the real stack: a real Prometheus scraping
// each LB's exporter, and command metrics (exit 1, a value over max, a hang
// cut at its timeout).

#include "tests/support/catch.hpp"

#include "tests/e2e/analysis_support.hpp"

using namespace lbctl::test;
using namespace lbctl::test::analysis_e2e;

TEST_CASE("a Prometheus query on the new servers' 5xx rate rolls back", "[e2e][analysis]") {
  // Each LB's exporter on a port of its own, known before the LBs start.
  std::vector<std::uint16_t> exporters{free_port()};
  while (exporters.size() < 2) {
    const auto port = free_port();
    if (port != exporters.front()) exporters.push_back(port);
  }
  const std::string query =
      R"(sum(rate(haproxy_server_http_responses_total{proxy="app",server=~"v2-.*",code="5xx"}[10s])) or vector(0))";
  StackOptions options;
  options.migrations = false;
  options.new_server_args = {"--error-percent", "5"};
  options.edit_lb_config = [exporters](std::size_t i, const std::string& text) {
    const auto at = text.find("\nbackend app\n");
    REQUIRE(at != std::string::npos);
    return text.substr(0, at + 1) + "frontend metrics\n  bind 127.0.0.1:" + std::to_string(exporters.at(i)) +
           "\n  http-request use-service prometheus-exporter if { path /metrics }\n" + text.substr(at + 1);
  };
  // Prometheus first (the config names its URL), scraping the LBs once they run.
  Strings targets;
  for (const auto port : exporters) targets.push_back("127.0.0.1:" + std::to_string(port));
  PrometheusFixture prometheus({.targets = targets});
  options.extra_config = analysis_config(
      {"prometheus: {url: \"" + prometheus.url() + "\", query: '" + query + "'}\n      max: 0.5"}, "12s");
  Stack stack(options);
  REQUIRE(prometheus.wait_for_targets(30s));
  UnderLoad load(stack);
  const auto run = stack.lbctl({"cutover", "--yes", "--json"});
  INFO(run.out);
  INFO("prometheus log:\n" << prometheus.log());
  CHECK(run.exit_code == 1);
  const auto events = analysis_events(run.out);
  REQUIRE(!events.empty());
  CHECK(count_verdict(events, "fail") == 1);
  CHECK(events.back().value("verdict", "") == "fail");
  const auto rate = metric_in(events.back(), "prometheus");
  REQUIRE(rate["new"].is_number());
  CHECK(rate["new"].get<double>() > 0.5);
  const auto message = exit_message(run.out);
  INFO("message: " << message);
  CHECK(std::regex_search(message, std::regex(R"(analysis failed \(1 failed measurement in a row\): prometheus: )"
                                              R"(new [0-9.e+]+, old -: [0-9.e+]+ over max 0\.5)")));
  check_old_pool_back(stack);
  // Prometheus saw each new server's 5xx on each LB under these names.
  CHECK(prometheus.query_value(R"(count(max_over_time(haproxy_server_http_responses_total{proxy="app",)"
                               R"(server=~"v2-.*",code="5xx"}[5m]) > 0))") == 4);
  const auto results = load.stop();
  for (std::size_t i = 0; i < stack.lb_count(); ++i) {
    INFO("lb" << i + 1);
    for (const auto& name : stack.old_names()) CHECK(stat_number(stack.lb(i), "app", 4, name, "hrsp_5xx") == 0);
    CHECK(stat_number(stack.lb(i), "app", 2, "BACKEND", "econ") == 0);
    CHECK(stat_number(stack.lb(i), "app", 2, "BACKEND", "eresp") == 0);
    CHECK(results[i].non_2xx <= stat_number(stack.lb(i), "app", 2, "BACKEND", "hrsp_5xx"));
  }
}

TEST_CASE("a command metric that exits 1 rolls the cutover back", "[e2e][analysis]") {
  TempDir dir;
  const auto calls = dir / "calls.txt";
  const auto check = script(dir, "check.sh", "echo \"$@\" >> " + calls.string() +
                                                 "\necho 'canary: checkout is broken' >&2\nexit 1\n");
  Stack stack(analysed({"command: [\"" + check + "\", \"--release\", \"{release}\"]\n      timeout: 10s"}));
  UnderLoad load(stack);
  const auto run = stack.lbctl({"cutover", "--yes", "--json"});
  INFO(run.out);
  CHECK(run.exit_code == 1);
  const auto failed = check_failed_at_first_measurement(run.out);
  CHECK(metric_in(failed, "command")["verdict"] == "fail");
  const auto message = exit_message(run.out);
  INFO("message: " << message);
  CHECK(message.find("analysis failed (1 failed measurement in a row): command: ") != std::string::npos);
  CHECK(message.find("exited 1: canary: checkout is broken") != std::string::npos);
  CHECK(read_file(calls) == "--release r1\n");  // one call, its placeholder expanded
  check_old_pool_back(stack);
  load.check();
}

TEST_CASE("a command metric printing a value over max rolls back", "[e2e][analysis]") {
  TempDir dir;
  const auto check = script(dir, "value.sh", "echo '{\"value\": 9}'\n");
  Stack stack(analysed({"command: [\"" + check + "\"]\n      max: 5\n      timeout: 10s"}));
  UnderLoad load(stack);
  const auto run = stack.lbctl({"cutover", "--yes", "--json"});
  INFO(run.out);
  CHECK(run.exit_code == 1);
  const auto failed = check_failed_at_first_measurement(run.out);
  const auto value = metric_in(failed, "command");
  CHECK(value["new"] == 9);
  const auto message = exit_message(run.out);
  INFO("message: " << message);
  CHECK(message.find("analysis failed (1 failed measurement in a row): command: new 9, old -: 9 over max 5") !=
        std::string::npos);
  check_old_pool_back(stack);
  load.check();
}

TEST_CASE("a command metric cut at its timeout is inconclusive", "[e2e][analysis]") {
  TempDir dir;
  // The sleep carries a marker in its environment: none may outlive its cut.
  const std::string marker = "LBCTL_ANALYSIS_TEST_MARK=" + dir.path().string();
  const auto check = script(dir, "slow.sh", marker + " sleep 30\necho '{\"value\": 0}'\n");
  StackOptions options;
  options.migrations = false;
  options.extra_config =
      analysis_config({"command: [\"" + check + "\"]\n      max: 5\n      timeout: 1s"}, "6s", "pass");
  Stack stack(options);
  UnderLoad load(stack);
  const auto started = std::chrono::steady_clock::now();
  const auto run = stack.lbctl({"cutover", "--yes", "--json"});
  const auto took = std::chrono::steady_clock::now() - started;
  INFO(run.out);
  CHECK(run.exit_code == 0);
  const auto events = analysis_events(run.out);
  CHECK(events.size() >= 2);
  CHECK(count_verdict(events, "inconclusive") == events.size());
  for (const auto& e : events) {
    const auto cut = metric_in(e, "command");
    CHECK(cut["verdict"] == "inconclusive");
    CHECK(cut.value("why", "").find("timeout 1s") != std::string::npos);
  }
  CHECK(run.out.find("analysis inconclusive for the whole of stage 1's hold") != std::string::npos);
  CHECK(run.out.find("on_inconclusive pass") != std::string::npos);
  CHECK(took < 45s);  // no measurement waited for the 30 s sleep
  CHECK(stack.fleet_view() == k_done_view);
  CHECK_FALSE(process_with_marker(marker));
  load.check();
}
