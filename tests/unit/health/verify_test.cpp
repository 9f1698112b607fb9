#include "tests/support/catch.hpp"

#include "health/verify.hpp"
#include "tests/support/fake_prober.hpp"
#include "tests/support/manual_clock.hpp"

using namespace lbctl;
using namespace lbctl::health;
using namespace std::chrono_literals;
using test::FakeReply;
using Strings = std::vector<std::string>;

namespace {

const std::string k_path = "/health-check.html";
const std::string k_db = "/health/db";

CheckPolicy fast_policy() {
  CheckPolicy policy;
  policy.path = k_path;
  policy.expect_body = "ok";
  policy.timeout = 50ms;
  policy.interval = 100ms;
  policy.rise = 2;
  policy.deadline = 10s;
  policy.jitter_percent = 0;
  return policy;
}

struct VerifyRig {
  test::Simulation sim;
  test::FakeProber prober{sim.clock};

  std::vector<Verdict> verify(std::vector<Target> targets, CheckPolicy policy, std::function<bool()> stop = {}) {
    return sim.run(health::verify(std::move(targets), std::move(policy), prober, sim.clock, std::move(stop)));
  }
  Verdict verify_one(const std::string& address, CheckPolicy policy) {
    std::vector<Target> targets{{"web-1", address}};
    auto verdicts = verify(std::move(targets), std::move(policy));
    REQUIRE(verdicts.size() == 1);
    return verdicts.front();
  }
  std::vector<std::chrono::milliseconds> request_times() const {
    std::vector<std::chrono::milliseconds> times;
    for (const auto& r : prober.requests())
      times.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(r.at - prober.requests().front().at));
    return times;
  }
};

std::vector<FakeReply> replies(std::initializer_list<FakeReply> list) { return list; }

}  // namespace

TEST_CASE("a server that passes rise rounds in a row is healthy, one round per interval", "[health][verify]") {
  VerifyRig rig;
  rig.prober.script("127.0.0.1:9001", k_path, FakeReply::ok("ok", 5ms));
  const Verdict verdict = rig.verify_one("127.0.0.1:9001", fast_policy());
  CHECK(verdict == Verdict{"web-1", "127.0.0.1:9001", true, 2, "healthy", 105ms});
  CHECK(rig.prober.request_log() == Strings{"127.0.0.1:9001/health-check.html", "127.0.0.1:9001/health-check.html"});
  CHECK(rig.request_times() == std::vector<std::chrono::milliseconds>{0ms, 100ms});
}

TEST_CASE("a failed round resets the passes, so rise passes must follow the last failure", "[health][verify]") {
  VerifyRig rig;
  rig.prober.script("127.0.0.1:9001", k_path,
                    replies({FakeReply::ok(), FakeReply::status_code(503), FakeReply::ok(), FakeReply::ok()}));
  const Verdict verdict = rig.verify_one("127.0.0.1:9001", fast_policy());
  CHECK(verdict.healthy);
  CHECK(verdict.passes == 2);
  CHECK(rig.prober.requests().size() == 4);
  CHECK(verdict.elapsed == 301ms);
}

TEST_CASE("with a database path, each round checks both paths and both must pass", "[health][verify]") {
  VerifyRig rig;
  rig.prober.script("127.0.0.1:9001", k_path, FakeReply::ok());
  rig.prober.script("127.0.0.1:9001", k_db,
                    replies({FakeReply::status_code(503), FakeReply::ok("db"), FakeReply::ok("db")}));
  CheckPolicy policy = fast_policy();
  policy.database_path = k_db;
  const Verdict verdict = rig.verify_one("127.0.0.1:9001", policy);
  CHECK(verdict.healthy);
  CHECK(rig.prober.count("127.0.0.1:9001", k_path) == 3);
  CHECK(rig.prober.count("127.0.0.1:9001", k_db) == 3);
  CHECK(rig.prober.max_in_flight() == 2);  // the two paths of a round run together
}

TEST_CASE("a failing database check keeps a server with a healthy app unhealthy and says why", "[health][verify]") {
  VerifyRig rig;
  rig.prober.script("127.0.0.1:9001", k_path, FakeReply::ok());
  rig.prober.script("127.0.0.1:9001", k_db, FakeReply::status_code(500, "no database"));
  CheckPolicy policy = fast_policy();
  policy.database_path = k_db;
  policy.deadline = 1s;
  const Verdict verdict = rig.verify_one("127.0.0.1:9001", policy);
  CHECK_FALSE(verdict.healthy);
  CHECK(verdict.reason == "database check /health/db: status 500, expected 200");
}

TEST_CASE("a server still failing at the deadline is unhealthy with its last failure's reason", "[health][verify]") {
  VerifyRig rig;
  rig.prober.script("127.0.0.1:9001", k_path,
                    replies({FakeReply::refused(), FakeReply::status_code(404, "not found")}));
  CheckPolicy policy = fast_policy();
  policy.deadline = 1s;
  const Verdict verdict = rig.verify_one("127.0.0.1:9001", policy);
  CHECK_FALSE(verdict.healthy);
  CHECK(verdict.passes == 0);
  CHECK(verdict.reason == "status 404, expected 200");
  CHECK(rig.prober.requests().size() == 10);  // rounds at 0, 100, ... 900 ms
  CHECK(verdict.elapsed <= 1s);
  CHECK(rig.sim.clock.elapsed() < 1s);
}

TEST_CASE("a server that started passing too late says how far it got and its last failure", "[health][verify]") {
  VerifyRig rig;
  rig.prober.script("127.0.0.1:9001", k_path, replies({FakeReply::ok("maintenance"), FakeReply::ok()}));
  CheckPolicy policy = fast_policy();
  policy.rise = 3;
  policy.deadline = 250ms;
  const Verdict verdict = rig.verify_one("127.0.0.1:9001", policy);
  CHECK_FALSE(verdict.healthy);
  CHECK(verdict.passes == 2);
  CHECK(verdict.reason == "deadline reached with 2 of 3 passes; last failure: body does not contain 'ok'");
}

TEST_CASE("the deadline also bounds the last request's timeout", "[health][verify]") {
  VerifyRig rig;
  rig.prober.script("127.0.0.1:9001", k_path, FakeReply::hang());
  CheckPolicy policy = fast_policy();
  policy.deadline = 120ms;
  const Verdict verdict = rig.verify_one("127.0.0.1:9001", policy);
  CHECK_FALSE(verdict.healthy);
  CHECK(verdict.elapsed == 120ms);
  CHECK(verdict.reason == "timeout: no answer within 50ms");  // not the shortened last wait
  REQUIRE(rig.prober.requests().size() == 2);
  CHECK(rig.prober.requests()[0].timeout == 50ms);
  CHECK(rig.prober.requests()[1].timeout == 20ms);
}

TEST_CASE("a deadline shorter than the timeout shortens the only wait and says so", "[health][verify]") {
  VerifyRig rig;
  rig.prober.script("127.0.0.1:9001", k_path, FakeReply::hang());
  CheckPolicy policy = fast_policy();
  policy.deadline = 30ms;
  const Verdict verdict = rig.verify_one("127.0.0.1:9001", policy);
  CHECK(verdict.reason == "timeout: no answer within 30ms (the deadline cut the wait short)");
  CHECK(verdict.elapsed == 30ms);
}

TEST_CASE("should_stop ends the checks and the unfinished targets are stopped", "[health][verify]") {
  VerifyRig rig;
  rig.prober.script("127.0.0.1:9001", k_path, FakeReply::ok());
  rig.prober.script("127.0.0.1:9002", k_path, FakeReply::refused());
  CheckPolicy policy = fast_policy();
  policy.rise = 1;
  std::vector<Target> targets{{"web-1", "127.0.0.1:9001"}, {"web-2", "127.0.0.1:9002"}};
  auto verdicts = rig.verify(std::move(targets), policy, [&] { return rig.prober.requests().size() >= 4; });
  REQUIRE(verdicts.size() == 2);
  CHECK(verdicts[0].healthy);
  CHECK(verdicts[1] == Verdict{"web-2", "127.0.0.1:9002", false, 0, "stopped", 300ms});
  CHECK(rig.prober.count("127.0.0.1:9002", k_path) == 3);
}

TEST_CASE("each target gets its own verdict and reason", "[health][verify]") {
  VerifyRig rig;
  rig.prober.script("127.0.0.1:9001", k_path, FakeReply::ok());
  rig.prober.script("127.0.0.1:9002", k_path, FakeReply::refused());
  rig.prober.script("127.0.0.1:9003", k_path, FakeReply::hang());
  rig.prober.script("127.0.0.1:9004", k_path, FakeReply::status_code(404));
  rig.prober.script("127.0.0.1:9005", k_path, FakeReply::ok("maintenance"));
  CheckPolicy policy = fast_policy();
  policy.deadline = 500ms;
  std::vector<Target> targets{{"ok", "127.0.0.1:9001"},      {"refused", "127.0.0.1:9002"},
                              {"hangs", "127.0.0.1:9003"},   {"missing", "127.0.0.1:9004"},
                              {"wrong-body", "127.0.0.1:9005"}, {"bad", "127.0.0.1;x:1"}};
  const auto verdicts = rig.verify(std::move(targets), policy);
  REQUIRE(verdicts.size() == 6);
  CHECK(verdicts[0].reason == "healthy");
  CHECK(verdicts[1].reason == "connection refused");
  CHECK(verdicts[2].reason == "timeout: no answer within 50ms");
  CHECK(verdicts[3].reason == "status 404, expected 200");
  CHECK(verdicts[4].reason == "body does not contain 'ok'");
  CHECK(verdicts[5].reason == "bad address '127.0.0.1;x:1' (expected HOST:PORT)");
  CHECK(verdicts[5].elapsed == 0ms);
  for (std::size_t i = 1; i < verdicts.size(); ++i) CHECK_FALSE(verdicts[i].healthy);
  CHECK(rig.prober.count("127.0.0.1;x", k_path) == 0);
}

TEST_CASE("many targets are checked concurrently: rise rounds of time, not the sum", "[health][verify]") {
  VerifyRig rig;
  std::vector<Target> targets;
  for (int i = 0; i < 200; ++i) {
    const std::string address = "127.0.0.1:" + std::to_string(10000 + i);
    rig.prober.script(address, k_path, FakeReply::ok("ok", 10ms));
    targets.push_back({"web-" + std::to_string(i), address});
  }
  CheckPolicy policy = fast_policy();
  policy.rise = 3;
  const auto verdicts = rig.verify(std::move(targets), policy);
  for (const auto& verdict : verdicts) CHECK(verdict.healthy);
  CHECK(rig.prober.max_in_flight() == 200);
  CHECK(rig.sim.clock.elapsed() == 210ms);  // rounds at 0, 100, 200 ms, each answered in 10 ms
  CHECK(rig.sim.clock.elapsed() <= policy.rise * policy.interval);
}

TEST_CASE("jitter delays rounds by at most its share of the interval, the same way for the same seed", "[health][verify]") {
  CheckPolicy policy = fast_policy();
  policy.jitter_percent = 10;
  policy.rise = 5;
  std::vector<std::chrono::milliseconds> first_run;
  for (int run = 0; run < 2; ++run) {
    VerifyRig rig;
    rig.prober.script("127.0.0.1:9001", k_path, FakeReply::ok());
    rig.verify_one("127.0.0.1:9001", policy);
    const auto times = rig.request_times();
    REQUIRE(times.size() == 5);
    for (std::size_t i = 1; i < times.size(); ++i) {
      CHECK(times[i] - times[i - 1] >= 100ms);
      CHECK(times[i] - times[i - 1] <= 110ms);
    }
    if (run == 0) first_run = times;
    else CHECK(times == first_run);
  }
}

TEST_CASE("no targets, no checks", "[health][verify]") {
  VerifyRig rig;
  CHECK(rig.verify({}, fast_policy()).empty());
  CHECK(rig.prober.requests().empty());
}
