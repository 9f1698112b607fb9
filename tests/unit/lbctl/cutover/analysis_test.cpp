// The analysis: the pure parts (counters into intervals, each metric judged,
// the verdict across measurements, Prometheus' answers) and the controller
// running it in a stage's hold on the manual clock with fake HAProxies whose
// counters move as traffic would.

#include "tests/support/catch.hpp"

#include "core/async.hpp"
#include "lbctl/cutover/analysis.hpp"
#include "lbctl/cutover/analysis_run.hpp"
#include "lbctl/cutover/service_status.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

pools::ServerStat stat(std::string name, std::uint64_t responses, std::uint64_t errors_5xx, std::uint64_t rtime = 0) {
  pools::ServerStat s;
  s.name = std::move(name);
  s.responses = responses;
  s.hrsp_5xx = errors_5xx;
  s.rtime = rtime;
  return s;
}

AnalysisMetric haproxy_metric(std::string which) {
  AnalysisMetric m;
  m.haproxy = std::move(which);
  m.floor = m.haproxy == "error_ratio" ? 0.001 : 5;
  return m;
}

const std::set<std::string> k_new{"v2-1"};
const std::set<std::string> k_old{"old-1"};
const Strings k_lbs{"lb1", "lb2"};

}  // namespace

TEST_CASE("counters become per-interval deltas summed over the LBs", "[lbctl][analysis]") {
  HaproxyCounters counters;
  auto first = counters.read(k_lbs, {{stat("v2-1", 100, 1), stat("old-1", 500, 0)}, {stat("v2-1", 50, 0)}}, k_new, k_old);
  CHECK(first.first);
  CHECK(first.new_pool.responses == 0);
  auto second = counters.read(k_lbs, {{stat("v2-1", 200, 6, 30), stat("old-1", 600, 1, 10)}, {stat("v2-1", 150, 5, 50)}},
                              k_new, k_old);
  CHECK(second.new_pool.responses == 200);  // 100 on lb1, 100 on lb2
  CHECK(second.new_pool.errors == 10);
  CHECK(second.new_pool.error_ratio() == Approx(0.05));
  CHECK(second.new_pool.response_time() == Approx(40.0));  // (30 x 100 + 50 x 100) / 200
  CHECK(second.old_pool.responses == 100);
  CHECK(second.old_pool.error_ratio() == Approx(0.01));
  // lb2 reloaded: its counters start again; that LB sits this interval out.
  auto third = counters.read(k_lbs, {{stat("v2-1", 300, 6), stat("old-1", 700, 1)}, {stat("v2-1", 3, 3)}}, k_new, k_old);
  CHECK(third.restarted == Strings{"lb2"});
  CHECK(third.new_pool.responses == 100);
  CHECK(third.new_pool.errors == 0);
  auto fourth = counters.read(k_lbs, {{stat("v2-1", 300, 6), stat("old-1", 700, 1)}, {stat("v2-1", 103, 3)}}, k_new, k_old);
  CHECK(fourth.restarted.empty());
  CHECK(fourth.new_pool.responses == 100);  // lb2's new baseline counted from 3
}

TEST_CASE("a metric fails over max, under min, or past max_vs_old above its floor", "[lbctl][analysis]") {
  auto ratio = haproxy_metric("error_ratio");
  ratio.max = 0.01;
  CHECK(judge(ratio, 0.0101, 0.0).verdict == Verdict::fail);
  CHECK(judge(ratio, 0.0101, 0.0).why == "0.0101 over max 0.01");
  CHECK(judge(ratio, 0.01, 0.0).verdict == Verdict::pass);
  auto relative = haproxy_metric("error_ratio");
  relative.max_vs_old = 2.0;
  // No errors against one in a thousand: under the floor, a pass.
  CHECK(judge(relative, 0.001, 0.0).verdict == Verdict::pass);
  CHECK(judge(relative, 0.002, 0.0).verdict == Verdict::fail);
  CHECK(judge(relative, 0.02, 0.011).verdict == Verdict::pass);
  CHECK(judge(relative, 0.023, 0.011).verdict == Verdict::fail);
  // Nothing to compare with: only max_vs_old, so inconclusive.
  CHECK(judge(relative, 0.5, std::nullopt).verdict == Verdict::inconclusive);
  auto time = haproxy_metric("response_time");
  time.max_vs_old = 1.5;
  CHECK(judge(time, 1.0, 0.0).verdict == Verdict::pass);  // 0 ms against 1 ms
  CHECK(judge(time, 4.0, 1.0).verdict == Verdict::pass);  // under the 5 ms floor
  CHECK(judge(time, 60.0, 20.0).verdict == Verdict::fail);
  CHECK(judge(time, 60.0, 20.0).why == "60.0 ms over 1.5 x old 20.0 ms");
  AnalysisMetric smoke;
  smoke.source = AnalysisMetric::Source::command;
  smoke.min = 0.9;
  CHECK(judge(smoke, 0.5, std::nullopt).verdict == Verdict::fail);
  CHECK(describe_limits(time) == "max_vs_old 1.5 (floor 5)");
}

TEST_CASE("fewer new-pool responses than min_requests is inconclusive", "[lbctl][analysis]") {
  auto ratio = haproxy_metric("error_ratio");
  ratio.max = 0.01;
  CounterInterval interval;
  interval.new_pool = {49, 49, 0};
  const auto r = judge_haproxy(ratio, interval, 50);
  CHECK(r.verdict == Verdict::inconclusive);
  CHECK(r.why == "49 new-pool responses, under min_requests 50");
  interval.new_pool = {50, 49, 0};
  CHECK(judge_haproxy(ratio, interval, 50).verdict == Verdict::fail);
}

TEST_CASE("failure_limit counts failed measurements in a row", "[lbctl][analysis]") {
  auto measurement = [](Verdict v) {
    Measurement m;
    m.verdict = v;
    return m;
  };
  Judge judge(2);
  CHECK_FALSE(judge.add(measurement(Verdict::fail)));
  CHECK_FALSE(judge.add(measurement(Verdict::pass)));  // resets
  CHECK_FALSE(judge.add(measurement(Verdict::fail)));
  CHECK_FALSE(judge.add(measurement(Verdict::inconclusive)));  // neither adds nor resets
  CHECK(judge.add(measurement(Verdict::fail)));
  CHECK(judge.any_conclusive());
  Judge quiet(1);
  CHECK_FALSE(quiet.add(measurement(Verdict::inconclusive)));
  CHECK_FALSE(quiet.any_conclusive());
}

TEST_CASE("Prometheus' answers read as one number, or say why not", "[lbctl][analysis]") {
  CHECK(prometheus_value(R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.5,"0.25"]}]}})")
            .value() == Approx(0.25));
  CHECK(prometheus_value(R"({"status":"success","data":{"resultType":"scalar","result":[1.5,"3"]}})").value() == 3);
  CHECK(prometheus_value(R"({"status":"success","data":{"resultType":"vector","result":[]}})").error().message ==
        "no series (nothing matched the query)");
  CHECK(prometheus_value(R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]},{"value":[1,"2"]}]}})")
            .error()
            .message.starts_with("2 series"));
  CHECK(prometheus_value(R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"NaN"]}]}})")
            .error()
            .message.starts_with("NaN"));
  CHECK(prometheus_value(R"({"status":"error","error":"parse error"})").error().message == "status error: parse error");
  CHECK_FALSE(prometheus_value("<html>"));
  const auto target = prometheus_target("http://127.0.0.1:9090/prom/", "sum(rate(x[1m]))");
  REQUIRE(target);
  CHECK(target->host == "127.0.0.1");
  CHECK(target->port == 9090);
  CHECK(target->path == "/prom/api/v1/query?query=sum%28rate%28x%5B1m%5D%29%29");
  CHECK_FALSE(prometheus_target("https://127.0.0.1:9090", "x"));
  CHECK_FALSE(prometheus_target("http://:9090", "x"));
}

// --- in a cutover ---

namespace {

// Traffic through every LB each second: each UP server answers 100
// requests, the new ones `new_errors` of them with 5xx, at these mean times.
struct Traffic {
  std::uint64_t new_errors = 0;
  std::uint64_t old_errors = 0;
  std::uint64_t new_rtime = 10;
  std::uint64_t old_rtime = 10;
  std::uint64_t per_second = 100;
  bool stop = false;
};

boost::asio::awaitable<CutoverOutcome> flow(CutoverRig& rig, Traffic& traffic) {
  while (!traffic.stop) {
    co_await rig.sim.clock.sleep_for(1s);
    for (auto& h : rig.haproxies) {
      for (const auto& name : h->server_names()) {
        if (h->status(name) != "UP") continue;
        const bool is_new = name.starts_with("v2-");
        h->add_responses(name, traffic.per_second, is_new ? traffic.new_errors : traffic.old_errors);
        h->set_rtime(name, is_new ? traffic.new_rtime : traffic.old_rtime);
      }
    }
  }
  co_return CutoverOutcome{};
}

void analyse(CutoverRig& rig, std::vector<AnalysisMetric> metrics) {
  rig.config.stages.push_back(StageConfig{50, 30s, std::nullopt});
  AnalysisConfig analysis;
  analysis.interval = 10s;
  analysis.min_requests = 50;
  analysis.metrics = std::move(metrics);
  rig.config.analysis = analysis;
}

CutoverOutcome cutover_under(CutoverRig& rig, Traffic& traffic) {
  auto run = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    auto outcome = co_await run_cutover(rig.deps(), {});
    traffic.stop = true;
    co_return outcome;
  };
  std::vector<boost::asio::awaitable<CutoverOutcome>> both;
  both.push_back(run());
  both.push_back(flow(rig, traffic));
  return rig.sim.run(when_all(std::move(both)))[0];
}

std::size_t count(const CutoverRig& rig, std::string_view event, std::string_view verdict) {
  std::size_t n = 0;
  for (const auto& e : rig.recorder.events) {
    if (e.name() == event && e.details.value("verdict", std::string()) == verdict) ++n;
  }
  return n;
}


}  // namespace

TEST_CASE("a new pool answering 5% 500s rolls back at the first measurement", "[lbctl][analysis]") {
  CutoverRig rig;
  auto ratio = haproxy_metric("error_ratio");
  ratio.max = 0.01;
  ratio.max_vs_old = 2.0;
  analyse(rig, {ratio});
  Traffic traffic{.new_errors = 5};
  const auto outcome = cutover_under(rig, traffic);
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message.find("error_ratio: new 0.05, old 0") != std::string::npos);
  CHECK(outcome.message.find("max 0.01") != std::string::npos);
  CHECK(count(rig, "analysis", "fail") == 1);
  CHECK(rig.fleet_view() == k_original_view);
}

TEST_CASE("a new pool three times slower rolls back by response_time", "[lbctl][analysis]") {
  CutoverRig rig;
  auto time = haproxy_metric("response_time");
  time.max_vs_old = 1.5;
  analyse(rig, {time});
  Traffic traffic{.new_rtime = 60, .old_rtime = 20};
  const auto outcome = cutover_under(rig, traffic);
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message.find("response_time: new 60, old 20: 60.0 ms over 1.5 x old 20.0 ms") != std::string::npos);
}

TEST_CASE("a healthy new pool passes every measurement and completes", "[lbctl][analysis]") {
  CutoverRig rig;
  auto ratio = haproxy_metric("error_ratio");
  ratio.max = 0.01;
  auto time = haproxy_metric("response_time");
  time.max_vs_old = 1.5;
  analyse(rig, {ratio, time});
  Traffic traffic{.new_errors = 0, .new_rtime = 11, .old_rtime = 10};
  const auto outcome = cutover_under(rig, traffic);
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::done);
  CHECK(count(rig, "analysis", "pass") == 3);  // 30 s hold, one every 10 s
  CHECK(count(rig, "analysis", "fail") == 0);
}

TEST_CASE("an LB reloaded during the analysis gives no false verdict", "[lbctl][analysis]") {
  CutoverRig rig;
  auto ratio = haproxy_metric("error_ratio");
  ratio.max = 0.01;
  analyse(rig, {ratio});
  rig.config.analysis->min_requests = 1;
  Traffic traffic;
  auto reload = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    while (!rig.recorder.saw("stage")) co_await rig.sim.clock.sleep_for(100ms);
    co_await rig.sim.clock.sleep_for(15s);
    rig.haproxies[1]->reload_original();  // counters back to zero, the new pool gone until re-ensured
    co_return CutoverOutcome{};
  };
  auto run = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    auto outcome = co_await run_cutover(rig.deps(), {});
    traffic.stop = true;
    co_return outcome;
  };
  std::vector<boost::asio::awaitable<CutoverOutcome>> all;
  all.push_back(run());
  all.push_back(flow(rig, traffic));
  all.push_back(reload());
  const auto outcome = rig.sim.run(when_all(std::move(all)))[0];
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::done);
  CHECK(count(rig, "analysis", "fail") == 0);
  CHECK(rig.recorder.saw("reloaded"));
}

TEST_CASE("a command metric: exit 1 fails, a value over max fails, a timeout is inconclusive", "[lbctl][analysis]") {
  AnalysisMetric smoke;
  smoke.source = AnalysisMetric::Source::command;
  smoke.command = {"/usr/local/bin/smoke-test", "--release", "{release}"};
  {
    CutoverRig rig;
    analyse(rig, {smoke});
    rig.processes.script("/usr/local/bin/smoke-test", ProcessResult{1, "", "checkout broke", 10ms, false});
    Traffic traffic;
    const auto outcome = cutover_under(rig, traffic);
    CHECK(outcome.outcome == Outcome::failed);
    CHECK(outcome.message.find("smoke-test exited 1: checkout broke") != std::string::npos);
    REQUIRE_FALSE(rig.processes.runs.empty());
    CHECK(rig.processes.runs.front().argv == Strings{"/usr/local/bin/smoke-test", "--release", "r1"});
  }
  {
    CutoverRig rig;
    smoke.max = 5;
    analyse(rig, {smoke});
    rig.processes.script("/usr/local/bin/smoke-test", ProcessResult{0, R"({"value": 7.5})", "", 10ms, false});
    Traffic traffic;
    const auto outcome = cutover_under(rig, traffic);
    CHECK(outcome.outcome == Outcome::failed);
    CHECK(outcome.message.find("7.5 over max 5") != std::string::npos);
  }
  {
    CutoverRig rig;
    analyse(rig, {smoke});
    rig.config.analysis->on_inconclusive = AnalysisConfig::OnInconclusive::pass;
    rig.processes.time_out("/usr/local/bin/smoke-test");
    Traffic traffic;
    const auto outcome = cutover_under(rig, traffic);
    CHECK(outcome.outcome == Outcome::done);
    CHECK(count(rig, "analysis", "inconclusive") == 3);
  }
}

TEST_CASE("a Prometheus query gates the stage, one that does not answer is inconclusive", "[lbctl][analysis]") {
  AnalysisMetric query;
  query.source = AnalysisMetric::Source::prometheus;
  query.url = "http://127.0.0.1:9090";
  query.query = "sum(rate(haproxy_server_http_responses_total{code=\"5xx\"}[1m]))";
  query.max = 5;
  const auto path = prometheus_target(query.url, query.query)->path;
  {
    CutoverRig rig;
    analyse(rig, {query});
    rig.prober.script("127.0.0.1:9090", path,
                      FakeReply::ok(R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"9.5"]}]}})"));
    Traffic traffic;
    const auto outcome = cutover_under(rig, traffic);
    CHECK(outcome.outcome == Outcome::failed);
    CHECK(outcome.message.find("prometheus: new 9.5") != std::string::npos);
  }
  {
    CutoverRig rig;
    analyse(rig, {query});
    rig.prober.script("127.0.0.1:9090", path, FakeReply::refused());
    Traffic traffic;
    const auto outcome = cutover_under(rig, traffic);
    CHECK(outcome.outcome == Outcome::failed);  // on_inconclusive: fail (the default)
    CHECK(outcome.message.find("analysis inconclusive for the whole of stage 1's hold") != std::string::npos);
  }
}

TEST_CASE("too little traffic: inconclusive, then on_inconclusive decides", "[lbctl][analysis]") {
  auto ratio = haproxy_metric("error_ratio");
  ratio.max = 0.01;
  CutoverRig rig;
  analyse(rig, {ratio});
  rig.config.analysis->min_requests = 100000;
  Traffic traffic;
  const auto outcome = cutover_under(rig, traffic);
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message.find("on_inconclusive fail") != std::string::npos);
  CutoverRig passing;
  analyse(passing, {ratio});
  passing.config.analysis->min_requests = 100000;
  passing.config.analysis->on_inconclusive = AnalysisConfig::OnInconclusive::pass;
  Traffic more;
  CHECK(cutover_under(passing, more).outcome == Outcome::done);
}

TEST_CASE("a failed analysis in the promotion pause rolls back", "[lbctl][analysis][promotion]") {
  CutoverRig rig;
  auto ratio = haproxy_metric("error_ratio");
  ratio.max = 0.01;
  analyse(rig, {ratio});
  rig.config.stages.clear();
  rig.config.promotion.mode = PromotionConfig::Mode::manual;
  Traffic traffic{.new_errors = 3};
  const auto outcome = cutover_under(rig, traffic);
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message.find("promote: analysis failed") != std::string::npos);
  CHECK(rig.recorder.first("promote", "promoted") == nullptr);
  CHECK(rig.fleet_view() == k_original_view);
}

TEST_CASE("a failed analysis in the undo window undoes the cutover", "[lbctl][analysis][undo]") {
  CutoverRig rig;
  auto ratio = haproxy_metric("error_ratio");
  ratio.max = 0.01;
  ratio.max_vs_old = 2;  // no old pool in the window: the absolute limit decides
  analyse(rig, {ratio});
  rig.config.stages.clear();
  rig.config.promotion.undo_window = 5min;
  Traffic traffic;
  auto go_bad = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    while (!rig.recorder.saw("undo_window")) co_await rig.sim.clock.sleep_for(100ms);
    traffic.new_errors = 4;
    co_return CutoverOutcome{};
  };
  auto run = [&]() -> boost::asio::awaitable<CutoverOutcome> {
    auto outcome = co_await run_cutover(rig.deps(), {});
    traffic.stop = true;
    co_return outcome;
  };
  std::vector<boost::asio::awaitable<CutoverOutcome>> all;
  all.push_back(run());
  all.push_back(flow(rig, traffic));
  all.push_back(go_bad());
  const auto outcome = rig.sim.run(when_all(std::move(all)))[0];
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::failed);
  CHECK(outcome.message.find("undo_window: analysis failed") != std::string::npos);
  CHECK(outcome.message.find("error_ratio: new 0.04") != std::string::npos);
  CHECK(rig.fleet_view() == k_original_view);
  CHECK(rig.provider.running_servers() == Strings{"old-1", "old-2"});
}

TEST_CASE("status shows the latest measurement, in --json too", "[lbctl][analysis]") {
  CutoverRig rig;
  auto ratio = haproxy_metric("error_ratio");
  ratio.max = 0.01;
  analyse(rig, {ratio});
  Traffic traffic;
  REQUIRE(cutover_under(rig, traffic).outcome == Outcome::done);
  const auto status = rig.sim.run(gather_status(rig.config, *rig.fleet, rig.journal));
  REQUIRE(status.analysis.is_object());
  CHECK(status.analysis["verdict"] == "pass");
  CHECK(status.analysis["metrics"][0]["metric"] == "error_ratio");
  CHECK(status.analysis["metrics"][0]["new"] == 0.0);
  CHECK(status.analysis["metrics"][0]["threshold"] == "max 0.01");
  CHECK(status.analysis_text.starts_with("analysis pass: error_ratio 0 (old 0) pass"));
  CHECK(nlohmann::json(status)["analysis"] == status.analysis);
}
