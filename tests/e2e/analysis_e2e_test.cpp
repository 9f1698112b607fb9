// The analysis (analysis: in the config) on the real stack, under wrk through
// both LBs: HAProxy's counters (error_ratio, response_time) catch a new pool
// that answers 5% 500s or is three times slower and roll it back at the first
// measurement over the limit; a healthy pool passes every measurement; LBs
// reloaded mid-analysis give no false verdict.

#include "tests/support/catch.hpp"

#include "tests/e2e/analysis_support.hpp"

using namespace lbctl::test;
using namespace lbctl::test::analysis_e2e;

TEST_CASE("a new pool answering 5% 500s rolls back at the first measurement", "[e2e][analysis]") {
  StackOptions options = analysed({k_error_ratio});
  options.new_server_args = {"--error-percent", "5"};
  Stack stack(options);
  UnderLoad load(stack);
  const auto run = stack.lbctl({"cutover", "--yes", "--json"});
  INFO(run.out);
  CHECK(run.exit_code == 1);
  const auto failed = check_failed_at_first_measurement(run.out);
  const auto ratio = metric_in(failed, "error_ratio");
  CHECK(ratio["verdict"] == "fail");
  REQUIRE(ratio["new"].is_number());
  REQUIRE(ratio["old"].is_number());
  CHECK(ratio["new"].get<double>() > 0.03);
  CHECK(ratio["new"].get<double>() < 0.07);
  CHECK(ratio["old"].get<double>() == 0);
  // The message names the metric, both values and the limits.
  const auto message = exit_message(run.out);
  INFO("message: " << message);
  std::smatch m;
  REQUIRE(std::regex_search(message, m,
                            std::regex(R"(analysis failed \(1 failed measurement in a row\): error_ratio: new ([0-9.e-]+), )"
                                       R"(old ([0-9.e-]+): [0-9.]+ over max 0\.01 \(limits: max 0\.01)")));
  CHECK(std::stod(m[1]) == Approx(ratio["new"].get<double>()).epsilon(1e-4));
  CHECK(std::stod(m[2]) == 0);
  check_old_pool_back(stack);
  const auto results = load.stop();
  // Every failed request was one of the new pool's 500s: on each LB the old
  // servers answered no 5xx and no connection or response failed, so every
  // 5xx the backend answered (which the frontend sent on) came from the new pool.
  long seen_by_wrk = 0;
  for (std::size_t i = 0; i < stack.lb_count(); ++i) {
    auto& lb = stack.lb(i);
    INFO("lb" << i + 1 << "\n" << results[i].text);
    for (const auto& name : stack.old_names()) {
      INFO(name);
      CHECK(stat_number(lb, "app", 4, name, "hrsp_5xx") == 0);
      CHECK(stat_number(lb, "app", 4, name, "eresp") == 0);
      CHECK(stat_number(lb, "app", 4, name, "econ") == 0);
      CHECK(stat_number(lb, "app", 4, name, "hrsp_2xx") > 0);
    }
    const long backend_5xx = stat_number(lb, "app", 2, "BACKEND", "hrsp_5xx");
    CHECK(stat_number(lb, "app", 2, "BACKEND", "econ") == 0);
    CHECK(stat_number(lb, "app", 2, "BACKEND", "eresp") == 0);
    // (Not hrsp_4xx: HAProxy counts the requests wrk cuts as it stops there.)
    CHECK(stat_number(lb, "fe", 1, "FRONTEND", "hrsp_5xx") == backend_5xx);
    CHECK(results[i].non_2xx <= backend_5xx);
    seen_by_wrk += results[i].non_2xx;
  }
  CHECK(seen_by_wrk > 0);  // the new pool's 500s did reach wrk
}

TEST_CASE("a new pool three times slower rolls back by response_time", "[e2e][analysis]") {
  StackOptions options = analysed({k_response_time});
  options.old_server_args = {"--delay-ms", "20"};
  options.new_server_args = {"--delay-ms", "60"};
  Stack stack(options);
  UnderLoad load(stack);
  const auto run = stack.lbctl({"cutover", "--yes", "--json"});
  INFO(run.out);
  CHECK(run.exit_code == 1);
  const auto failed = check_failed_at_first_measurement(run.out);
  const auto time = metric_in(failed, "response_time");
  REQUIRE(time["new"].is_number());
  REQUIRE(time["old"].is_number());
  CHECK(time["new"].get<double>() >= 55);
  CHECK(time["old"].get<double>() >= 18);
  CHECK(time["old"].get<double>() < 40);
  const auto message = exit_message(run.out);
  INFO("message: " << message);
  CHECK(std::regex_search(message, std::regex(R"(analysis failed \(1 failed measurement in a row\): response_time: )"
                                              R"(new [0-9.]+, old [0-9.]+: [0-9.]+ ms over 1\.5 x old [0-9.]+ ms)")));
  check_old_pool_back(stack);
  load.check();  // slow, never failed
}


TEST_CASE("a healthy new pool passes every measurement and completes", "[e2e][analysis]") {
  Stack stack(healthy({k_error_ratio, k_response_time}));
  UnderLoad load(stack);
  const auto run = stack.lbctl({"cutover", "--yes", "--json"});
  INFO(run.out);
  CHECK(run.exit_code == 0);
  const auto events = analysis_events(run.out);
  CHECK(events.size() >= 2);
  CHECK(count_verdict(events, "pass") == events.size());
  for (const auto& e : events) {
    CHECK(e["metrics"].size() == 2);
    CHECK(e.value("new_responses", 0) >= 20);
    CHECK(e.value("old_responses", 0) >= 20);
  }
  CHECK(stack.fleet_view() == k_done_view);
  CHECK_FALSE(stack.server_running("old-1"));
  load.check();
}

TEST_CASE("LBs reloaded mid-analysis: no false verdict and exit 0", "[e2e][analysis][both-haproxy]") {
  // A reload starts every counter again in the new worker.
  StackOptions options = healthy({k_error_ratio, k_response_time}, "12s");
  options.master_worker = true;
  options.persist = true;
  Stack stack(options);
  UnderLoad load(stack);
  TempDir logs;
  const auto log = logs / "cutover.txt";
  auto cutover = stack.start_lbctl({"cutover", "--yes", "--json"}, log);
  const auto measured = [&](std::size_t n) {
    if (!eventually([&] { return analysis_events(read_file(log)).size() >= n || !cutover->running(); }, 90s) ||
        analysis_events(read_file(log)).size() < n) {
      FAIL("lbctl ended, or 90 s passed, before " << n << " analysis events; its output:\n" << read_file(log));
    }
    // Still in the stage's hold.
    REQUIRE(read_file(log).find("\"event\":\"stage_passed\"") == std::string::npos);
  };
  measured(1);
  stack.lb(0).reload_via_master_cli();
  measured(3);
  stack.lb(1).reload();
  const int code = cutover->wait(120s);
  const auto out = read_file(log);
  INFO(out);
  CHECK(code == 0);
  const auto events = analysis_events(out);
  CHECK(events.size() >= 4);
  CHECK(count_verdict(events, "fail") == 0);
  CHECK(count_verdict(events, "pass") >= 2);
  CHECK(reloaded_lbs(out) == std::set<std::string>{"lb1", "lb2"});
  CHECK(stack.fleet_view() == k_done_view);
  load.check();
}
