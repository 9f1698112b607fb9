#include "health/verify.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "core/async.hpp"
#include "health/address.hpp"
#include "health/classify.hpp"
#include "health/counter.hpp"

namespace lbctl::health {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

// What every target's loop shares; lives in verify()'s frame, which outlives them.
struct Run {
  Clock::TimePoint start;
  Clock::TimePoint deadline_at;
  std::function<bool()> should_stop;
  bool stopped = false;

  // Once asked to stop, stay stopped, even if the predicate changes its mind.
  bool stop_requested() {
    if (!stopped && should_stop && should_stop()) stopped = true;
    return stopped;
  }
};

asio::awaitable<CheckResult> check_round(HttpProber& prober, Endpoint endpoint, CheckPolicy policy) {
  if (policy.database_path.empty()) {
    auto outcome = co_await prober.get(endpoint.host, endpoint.port, policy.path, policy.timeout);
    co_return classify(outcome, policy);
  }
  std::vector<asio::awaitable<ProbeOutcome>> probes;
  probes.push_back(prober.get(endpoint.host, endpoint.port, policy.path, policy.timeout));
  probes.push_back(prober.get(endpoint.host, endpoint.port, policy.database_path, policy.timeout));
  auto outcomes = co_await when_all(std::move(probes));
  CheckResult app = classify(outcomes[0], policy);
  if (!app.passed) co_return app;
  co_return classify_database(outcomes[1], policy);
}

std::string unfinished_reason(const HealthCounter& counter, int rise, const std::string& last_failure) {
  if (counter.passes() == 0) return last_failure;
  const std::string progress = fmt::format("deadline reached with {} of {} passes", counter.passes(), rise);
  if (last_failure.empty()) return progress;
  return progress + "; last failure: " + last_failure;
}

asio::awaitable<Verdict> verify_one(Target target, std::uint64_t index, CheckPolicy policy, HttpProber& prober,
                                    Clock& clock, Run& run) {
  Verdict verdict{target.name, target.address, false, 0, "", milliseconds(0)};
  const auto endpoint = split_host_port(target.address);
  if (!endpoint) {
    verdict.reason = fmt::format("bad address '{}' (expected HOST:PORT)", target.address);
    co_return verdict;
  }
  HealthCounter counter(policy.rise);
  Random random(policy.jitter_seed + index * 0x9e3779b97f4a7c15ULL);
  std::string last_failure;
  bool stopped = false;
  while (!counter.healthy()) {
    if (run.stop_requested()) {
      stopped = true;
      break;
    }
    const auto round_started = clock.now();
    if (round_started >= run.deadline_at) break;
    // The deadline bounds the whole verification, the last request included.
    CheckPolicy round_policy = policy;
    round_policy.timeout = std::clamp(std::chrono::duration_cast<milliseconds>(run.deadline_at - round_started),
                                      milliseconds(1), std::max(policy.timeout, milliseconds(1)));
    const CheckResult result = co_await check_round(prober, *endpoint, round_policy);
    counter.record(result.passed);
    if (!result.passed) {
      // A wait the deadline cut short says less than an earlier failure.
      const bool cut_short = result.failure == Failure::timeout && round_policy.timeout < policy.timeout;
      if (!cut_short) last_failure = result.reason;
      else if (last_failure.empty()) last_failure = result.reason + " (the deadline cut the wait short)";
    }
    if (counter.healthy()) break;
    const auto next = next_check_at(round_started, policy.interval,
                                    jitter(policy.interval, policy.jitter_percent, random.next()));
    if (next >= run.deadline_at) break;
    // Rounded up: a round must never start before its time (truncating could
    // make it up to 1 ms early).
    co_await clock.sleep_for(std::chrono::ceil<milliseconds>(next - clock.now()));
  }
  verdict.healthy = counter.healthy();
  verdict.passes = counter.passes();
  if (verdict.healthy) verdict.reason = "healthy";
  else if (stopped) verdict.reason = "stopped";
  else if (last_failure.empty() && counter.passes() == 0) verdict.reason = "deadline reached before the first check";
  else verdict.reason = unfinished_reason(counter, policy.rise, last_failure);
  verdict.elapsed = std::chrono::duration_cast<milliseconds>(clock.now() - run.start);
  co_return verdict;
}

}  // namespace

asio::awaitable<std::vector<Verdict>> verify(std::vector<Target> targets, CheckPolicy policy, HttpProber& prober,
                                             Clock& clock, std::function<bool()> should_stop) {
  const auto start = clock.now();
  Run run{start, start + std::max(policy.deadline, milliseconds(0)), std::move(should_stop)};
  std::vector<asio::awaitable<Verdict>> tasks;
  tasks.reserve(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i)
    tasks.push_back(verify_one(std::move(targets[i]), i, policy, prober, clock, run));
  co_return co_await when_all(std::move(tasks));
}

}  // namespace lbctl::health
