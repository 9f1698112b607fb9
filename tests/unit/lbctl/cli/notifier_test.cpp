#include "tests/support/catch.hpp"

#include <sstream>

#include "core/async.hpp"
#include "lbctl/cli/notifier.hpp"
#include "tests/support/manual_clock.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

// Answers POSTs as scripted: a status, or a hang until the request's timeout.
class FakePoster final : public health::HttpPoster {
 public:
  explicit FakePoster(Clock& clock) : m_clock(clock) {}
  int status = 200;
  bool hang = false;
  int fail_first = 0;  // this many attempts answer 500 first
  std::vector<nlohmann::json> received;
  int attempts = 0;

  boost::asio::awaitable<health::ProbeOutcome> post(std::string, std::string body, std::chrono::milliseconds timeout) override {
    ++attempts;
    if (hang) {
      co_await m_clock.sleep_for(timeout);
      co_return std::unexpected(health::ProbeFailure{health::ProbeError::timeout, "Operation timed out", timeout});
    }
    co_await m_clock.sleep_for(5ms);
    if (fail_first > 0) {
      --fail_first;
      co_return health::HttpResponse{500, "", 5ms, false};
    }
    received.push_back(nlohmann::json::parse(body));
    co_return health::HttpResponse{status, "ok", 5ms, false};
  }

 private:
  Clock& m_clock;
};

Event event(std::string step, std::string kind, std::string text) {
  Event e;
  e.cutover_id = 7;
  e.step = std::move(step);
  e.kind = parse_event_kind(kind).value();
  e.text = std::move(text);
  return e;
}

WebhookConfig webhook(std::vector<std::string> events = {}, std::chrono::milliseconds timeout = 5s) {
  return WebhookConfig{"https://hooks.example.com/services/T000/B000/SECRET", std::move(events), timeout};
}

}  // namespace

TEST_CASE("webhooks get the cutover's events in order, Slack-compatible", "[lbctl][notifier]") {
  Simulation sim;
  FakePoster poster(sim.clock);
  std::ostringstream log;
  WebhookNotifier notifier({webhook()}, "shop", poster, sim.clock, sim.io.get_executor(), log);
  auto run = [&]() -> boost::asio::awaitable<void> {
    notifier.emit(event("preflight", "started", "cutover 7 started"));
    notifier.emit(event("attach", "step_started", "attach started"));
    notifier.emit(event("attach", "haproxy", "lb1: add server ..."));  // not a webhook event
    notifier.emit(event("drain", "drain_progress", "3 sessions left"));
    notifier.emit(event("terminate", "completed", "cutover 7 completed"));
    co_await notifier.flush();
  };
  sim.run(run());
  Strings kinds;
  for (const auto& body : poster.received) kinds.push_back(body["event"]);
  CHECK(kinds == Strings{"started", "step", "completed"});
  const auto& first = poster.received.front();
  CHECK(first["text"] == "lbctl shop cutover 7: cutover 7 started");
  CHECK(first["service"] == "shop");
  CHECK(first["cutover_id"] == 7);
  CHECK(first["step"] == "preflight");
  CHECK(first["attachments"][0]["fields"].size() == 5);
  CHECK(log.str().empty());
}

TEST_CASE("a webhook gets only the events it asked for", "[lbctl][notifier]") {
  Simulation sim;
  FakePoster poster(sim.clock);
  std::ostringstream log;
  WebhookNotifier notifier({webhook({"failed", "rolled_back"})}, "shop", poster, sim.clock, sim.io.get_executor(), log);
  auto run = [&]() -> boost::asio::awaitable<void> {
    notifier.emit(event("preflight", "started", "started"));
    notifier.emit(event("verify", "step_failed", "verify: v2-1: connection refused"));
    notifier.emit(event("rollback", "rolled_back", "rolled back"));
    co_await notifier.flush();
  };
  sim.run(run());
  REQUIRE(poster.received.size() == 2);
  CHECK(poster.received[0]["event"] == "failed");
  CHECK(poster.received[1]["event"] == "rolled_back");
}

TEST_CASE("the promotion gate and undo window reach webhooks as promotion", "[lbctl][notifier]") {
  Simulation sim;
  FakePoster poster(sim.clock);
  std::ostringstream log;
  WebhookNotifier notifier({webhook({"promotion"})}, "shop", poster, sim.clock, sim.io.get_executor(), log);
  auto run = [&]() -> boost::asio::awaitable<void> {
    notifier.emit(event("promote", "step_started", "promote started"));
    notifier.emit(event("promote", "paused", "paused, waiting for promote"));
    notifier.emit(event("promote", "promoted", "promoted by alice@web1"));
    notifier.emit(event("undo_window", "undo_window", "old servers kept ready until ..."));
    notifier.emit(event("undo_window", "undo_closed", "undo window closed"));
    co_await notifier.flush();
  };
  sim.run(run());
  Strings texts;
  for (const auto& body : poster.received) texts.push_back(body["text"]);
  CHECK(texts == Strings{"lbctl shop cutover 7: paused, waiting for promote", "lbctl shop cutover 7: promoted by alice@web1",
                         "lbctl shop cutover 7: old servers kept ready until ...", "lbctl shop cutover 7: undo window closed"});
}

TEST_CASE("a failing receiver is retried with backoff, then dropped and logged without its URL", "[lbctl][notifier]") {
  Simulation sim;
  FakePoster poster(sim.clock);
  poster.fail_first = 2;
  std::ostringstream log;
  WebhookNotifier notifier({webhook({}, 3s)}, "shop", poster, sim.clock, sim.io.get_executor(), log);
  auto run = [&]() -> boost::asio::awaitable<void> {
    notifier.emit(event("preflight", "started", "started"));
    co_await notifier.flush();
  };
  sim.run(run());
  CHECK(poster.attempts == 3);
  CHECK(poster.received.size() == 1);
  CHECK(notifier.delivered() == 1);

  poster.status = 503;
  poster.received.clear();
  auto again = [&]() -> boost::asio::awaitable<void> {
    notifier.emit(event("terminate", "completed", "completed"));
    co_await notifier.flush();
  };
  sim.run(again());
  CHECK(notifier.dropped() == 1);
  CHECK(log.str().find("webhook https://hooks.example.com/...: 'completed' not delivered within 3s: status 503") !=
        std::string::npos);
  CHECK(log.str().find("SECRET") == std::string::npos);
}

TEST_CASE("a receiver that never answers delays the end by at most its timeout", "[lbctl][notifier]") {
  Simulation sim;
  FakePoster poster(sim.clock);
  poster.hang = true;
  std::ostringstream log;
  WebhookNotifier notifier({webhook({}, 2s)}, "shop", poster, sim.clock, sim.io.get_executor(), log);
  Clock::TimePoint flushed{};
  auto run = [&]() -> boost::asio::awaitable<void> {
    for (int i = 0; i < 20; ++i) notifier.emit(event("attach", "step_started", "step " + std::to_string(i)));
    co_await sim.clock.sleep_for(1s);  // the cutover goes on meanwhile, not blocked
    flushed = sim.clock.now();
    co_await notifier.flush();
  };
  sim.run(run());
  CHECK(sim.clock.now() - flushed <= 2s);
  CHECK(notifier.delivered() == 0);
  CHECK(notifier.dropped() == 20);
  CHECK(log.str().find("dropped at exit") != std::string::npos);
}

TEST_CASE("webhook URLs are shown by scheme and host only", "[lbctl][notifier]") {
  CHECK(webhook_origin("https://hooks.slack.com/services/T/B/xyz") == "https://hooks.slack.com/...");
  CHECK(webhook_origin("http://user:pass@127.0.0.1:8080/hook?token=1") == "http://127.0.0.1:8080/...");
  CHECK(webhook_origin("not a url") == "(webhook)");
}
