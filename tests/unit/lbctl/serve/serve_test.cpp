// serve on a manual clock: what a poll keeps (timeline, drain series,
// events, history, outcome counts), /metrics' text, the routes (the API,
// the actions' 401/403, the security headers) and the load on HAProxy:
// one `show stat` per LB per poll, however many read the page.

#include "tests/support/catch.hpp"

#include <fstream>
#include <sstream>

#include "core/async.hpp"
#include "lbctl/cutover/promotion_requests.hpp"
#include "lbctl/cutover/step_table.hpp"
#include "lbctl/serve/assets.hpp"
#include "lbctl/serve/metrics.hpp"
#include "lbctl/serve/poller.hpp"
#include "lbctl/serve/routes.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::serve;
using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

std::int64_t wall_ms_of(CutoverRig& rig) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(rig.sim.clock.wall_now().time_since_epoch()).count();
}

// The journal, in the test's own thread: what PollerBackend does in serve.
class RigBackend final : public Backend {
 public:
  explicit RigBackend(CutoverRig& rig) : m_rig(rig) {}
  boost::asio::awaitable<Result<std::vector<db::Event>>> events(const std::string& service, std::int64_t cutover,
                                                                std::int64_t after, std::size_t limit) override {
    co_return service_events(m_rig.journal, service, cutover, after, limit);
  }
  boost::asio::awaitable<CutoverOutcome> request(const std::string& service, Request what, const std::string& by) override {
    co_return record_request(m_rig.journal, service, what, by, wall_ms_of(m_rig));
  }
  boost::asio::awaitable<Result<db::CutoverRequest>> submit(const std::string& service, std::string release,
                                                            bool queue, std::string by) override {
    db::NewRequest request;
    request.service = service;
    request.release = std::move(release);
    request.requested_by = std::move(by);
    request.queue = queue;
    co_return m_rig.journal.submit_request(request);
  }

 private:
  CutoverRig& m_rig;
};

std::size_t show_stats(const FakeHaproxy& haproxy) {
  std::size_t n = 0;
  for (const auto& command : haproxy.log()) {
    if (command.starts_with("show stat")) ++n;
  }
  return n;
}

// A poll every second until `stop`, each published to the hub.
boost::asio::awaitable<CutoverOutcome> poll_until(CutoverRig& rig, ServiceLive& live, Hub& hub, const bool& stop,
                                                  std::vector<nlohmann::json>* seen = nullptr) {
  while (!stop) {
    co_await poll_service(rig.config, *rig.fleet, rig.journal, live, wall_ms_of(rig));
    hub.publish(live.service(), make_snapshot(live, hub.actions_allowed()));
    if (seen != nullptr) seen->push_back(live.live_json(false));
    co_await rig.sim.clock.sleep_for(1s);
  }
  co_return CutoverOutcome{};
}

Reply answer(CutoverRig& rig, Router& router, std::string method, std::string target, std::string authorization = "") {
  return rig.sim.run(router.answer(HttpRequest{std::move(method), std::move(target), std::move(authorization),
                                               "127.0.0.1:5555", "127.0.0.1:8480", "127.0.0.1", rig.sim.clock.now()}));
}

// Once the cutover pauses: an undo (too early), then a promote, from the page.
boost::asio::awaitable<CutoverOutcome> act_in_pause(CutoverRig& rig, Router& router, Reply& undo, Reply& promote) {
  while (!rig.recorder.saw("paused")) co_await rig.sim.clock.sleep_for(100ms);
  const HttpRequest undo_request{"POST", "/api/v1/services/shop/undo", "Bearer 0123456789abcdef-token",
                                 "127.0.0.9:4000", "127.0.0.1", "127.0.0.9", rig.sim.clock.now()};
  undo = co_await router.answer(undo_request);
  const HttpRequest promote_request{"POST", "/api/v1/services/shop/promote", "Bearer 0123456789abcdef-token",
                                    "127.0.0.9:4000", "127.0.0.1", "127.0.0.9", rig.sim.clock.now()};
  promote = co_await router.answer(promote_request);
  co_return CutoverOutcome{};
}

bool has_header(const Reply& reply, const std::string& name) {
  return std::any_of(reply.headers.begin(), reply.headers.end(), [&](const auto& h) { return h.first == name; });
}

}  // namespace

TEST_CASE("serve: a poll per interval, one show stat per LB, for any number of viewers", "[lbctl][serve]") {
  CutoverRig rig;
  ServiceLive live("shop", flow_step_names(rig.config));
  Hub hub({"shop"}, false);
  RigBackend backend(rig);
  Router router(hub, backend, "", "web1");
  for (int poll = 0; poll < 5; ++poll) {
    rig.sim.run(poll_service(rig.config, *rig.fleet, rig.journal, live, wall_ms_of(rig)));
    hub.publish("shop", make_snapshot(live, false));
    for (int viewer = 0; viewer < 50; ++viewer) {
      CHECK(answer(rig, router, "GET", "/api/v1/services/shop/live").status == 200);
      CHECK(answer(rig, router, "GET", "/metrics").status == 200);
      CHECK(answer(rig, router, "GET", "/api/v1/services").status == 200);
    }
  }
  for (const auto& haproxy : rig.haproxies) CHECK(show_stats(*haproxy) == 5);
}

TEST_CASE("serve: a cutover's timeline, drain series, events and history", "[lbctl][serve]") {
  CutoverRig rig;
  ServiceLive live("shop", flow_step_names(rig.config));
  Hub hub({"shop"}, false);
  for (auto& h : rig.haproxies) h->set_sessions("old-1", 3);
  bool stop = false;
  std::vector<nlohmann::json> seen;
  std::vector<boost::asio::awaitable<CutoverOutcome>> all;
  all.push_back([](CutoverRig& r, bool& done) -> boost::asio::awaitable<CutoverOutcome> {
    auto outcome = co_await run_cutover(r.deps(), {});
    co_await r.sim.clock.sleep_for(1500ms);  // one more poll sees the end
    done = true;
    co_return outcome;
  }(rig, stop));
  all.push_back([](CutoverRig& r) -> boost::asio::awaitable<CutoverOutcome> {
    while (!r.recorder.saw("drain_progress")) co_await r.sim.clock.sleep_for(100ms);
    co_await r.sim.clock.sleep_for(4s);
    for (auto& h : r.haproxies) h->set_sessions("old-1", 0);
    co_return CutoverOutcome{};
  }(rig));
  all.push_back(poll_until(rig, live, hub, stop, &seen));
  const auto outcome = rig.sim.run(when_all(std::move(all)))[0];
  REQUIRE(outcome.outcome == Outcome::done);

  // While it ran: the step moved on, each step running in turn.
  std::vector<std::string> running;
  bool saw_old_sessions = false;
  for (const auto& j : seen) {
    for (const auto& row : j["timeline"]) {
      const auto step = row["step"].get<std::string>();
      if (row["state"] == "running" && (running.empty() || running.back() != step)) running.push_back(step);
    }
    for (const auto& lb : j["drain"]["lbs"]) {
      for (const auto& point : lb["points"]) saw_old_sessions |= point[1].get<int>() == 3;
    }
  }
  INFO(nlohmann::json(running).dump());
  // Polled once a second on the manual clock: the steps that take time.
  CHECK(running == std::vector<std::string>{"preflight", "drain", "watch"});
  CHECK(saw_old_sessions);

  // Once it ended: every step done with a duration, each LB's series ending at 0.
  const auto j = live.live_json(false);
  for (const auto& row : j["timeline"]) {
    INFO(row.dump());
    CHECK(row["state"] == "done");
    CHECK(row["duration_ms"].is_number());
  }
  REQUIRE(j["drain"]["lbs"].size() == 2);
  const auto* drain = rig.recorder.first("drain", "step_started");
  REQUIRE(drain != nullptr);
  const auto drain_ms = std::chrono::duration_cast<std::chrono::milliseconds>(drain->time.time_since_epoch()).count();
  for (const auto& lb : j["drain"]["lbs"]) {
    CHECK(lb["points"].size() >= 4);
    CHECK(lb["points"][0][0].get<std::int64_t>() >= drain_ms);  // the service's traffic before it is not "left"
    CHECK(lb["points"].back()[1] == 0);
  }
  CHECK(j["events"].back()["event"] == "completed");
  CHECK(j["events"].size() <= 50);
  REQUIRE(j["history"].size() == 1);
  CHECK(j["history"][0]["status"] == "completed");
  CHECK(j["history"][0]["steps"].size() >= 5);
  CHECK(j["lock"].is_null());
  CHECK(live.outcomes().at("completed") == 1);
  CHECK(live.summary_json()["state"] == "idle");
}

TEST_CASE("serve: /metrics in Prometheus' text format", "[lbctl][serve]") {
  CutoverRig rig;
  ServiceLive live("shop", flow_step_names(rig.config));
  for (auto& h : rig.haproxies) h->set_sessions("old-1", 2);
  rig.sim.run(poll_service(rig.config, *rig.fleet, rig.journal, live, wall_ms_of(rig)));
  auto text = render_metrics({&live});
  INFO(text);
  CHECK(text.find("# TYPE lbctl_cutover_running gauge\nlbctl_cutover_running{service=\"shop\"} 0\n") != std::string::npos);
  CHECK(text.find("lbctl_lb_up{service=\"shop\",lb=\"lb1\"} 1\n") != std::string::npos);
  CHECK(text.find("lbctl_servers{service=\"shop\",lb=\"lb2\",pool=\"none\",status=\"UP\"} 2\n") != std::string::npos);
  CHECK(text.find("lbctl_drift{service=\"shop\",lb=\"lb1\"} 0\n") != std::string::npos);
  CHECK(text.find("lbctl_cutovers_total{service=\"shop\",outcome=\"completed\"} 0\n") != std::string::npos);
  CHECK(text.find("lbctl_state_database_up{service=\"shop\"} 1\n") != std::string::npos);
  // No sessions on an old pool with no cutover; every family declared once.
  CHECK(text.find("lbctl_drain_sessions{service=\"shop\",lb=\"lb1\"} 0\n") != std::string::npos);
  std::istringstream lines(text);
  std::map<std::string, int> types;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# TYPE ")) ++types[line.substr(7, line.find(' ', 7) - 7)];
  }
  for (const auto& [family, n] : types) CHECK(n == 1);
  CHECK(types.size() == 12);
  CHECK(text.find("lbctl_cutover_takeovers_total{service=\"shop\"} 0\n") != std::string::npos);
  CHECK(text.find("lbctl_requests_queued{service=\"shop\"} 0\n") != std::string::npos);
  // An LB that does not answer: down, and no drift claimed for it.
  rig.haproxies[1]->set_reachable(false);
  rig.sim.run(poll_service(rig.config, *rig.fleet, rig.journal, live, wall_ms_of(rig)));
  text = render_metrics({&live});
  CHECK(text.find("lbctl_lb_up{service=\"shop\",lb=\"lb2\"} 0\n") != std::string::npos);
  // ...with why, as a companion metric and in the API.
  CHECK(text.find("lbctl_lb_down{service=\"shop\",lb=\"lb2\",reason=\"refused\"} 1\n") != std::string::npos);
  CHECK(text.find("lbctl_lb_down{service=\"shop\",lb=\"lb1\"") == std::string::npos);
  CHECK(live.status().load_balancers[1].reason == "refused");
  CHECK(text.find("lbctl_drift{service=\"shop\",lb=\"lb2\"}") == std::string::npos);
  CHECK(escape_label("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
}

TEST_CASE("serve: the API's shapes and errors", "[lbctl][serve]") {
  CutoverRig rig;
  REQUIRE(rig.sim.run(run_cutover(rig.deps(), {})).outcome == Outcome::done);
  ServiceLive live("shop", flow_step_names(rig.config));
  Hub hub({"shop", "cart"}, false);
  RigBackend backend(rig);
  Router router(hub, backend, "", "web1");
  CHECK(answer(rig, router, "GET", "/api/v1/services/shop").status == 503);  // not polled yet
  rig.sim.run(poll_service(rig.config, *rig.fleet, rig.journal, live, wall_ms_of(rig)));
  hub.publish("shop", make_snapshot(live, false));

  auto services = nlohmann::json::parse(answer(rig, router, "GET", "/api/v1/services").body);
  REQUIRE(services["services"].size() == 2);
  CHECK(services["services"][0]["service"] == "shop");
  CHECK(services["services"][0]["state"] == "idle");
  CHECK(services["services"][0]["cutover"]["status"] == "completed");
  CHECK(services["services"][1]["state"] == "unknown");
  CHECK(services["actions_allowed"] == false);

  // status --json's shape.
  const auto status = nlohmann::json::parse(answer(rig, router, "GET", "/api/v1/services/shop").body);
  CHECK(status == nlohmann::json(live.status()));
  CHECK(status["cutover"]["status"] == "completed");
  CHECK(status["load_balancers"].size() == 2);
  const auto history = nlohmann::json::parse(answer(rig, router, "GET", "/api/v1/services/shop/history").body);
  REQUIRE(history.size() == 1);
  CHECK(history[0]["id"] == status["cutover"]["id"]);

  const auto all = nlohmann::json::parse(answer(rig, router, "GET", "/api/v1/services/shop/events").body);
  REQUIRE(all["events"].size() > 5);
  const std::int64_t middle = all["events"][3]["id"];
  const auto since = nlohmann::json::parse(answer(rig, router, "GET", "/api/v1/services/shop/events?since=" + std::to_string(middle)).body);
  CHECK(since["events"].size() == all["events"].size() - 4);
  CHECK(since["events"][0]["id"] == middle + 1);
  CHECK(since["last_id"] == all["last_id"]);
  for (const char* key : {"id", "cutover_id", "at", "step", "event", "details"}) CHECK(since["events"][0].contains(key));

  CHECK(answer(rig, router, "GET", "/api/v1/services/shop/events?since=x").status == 400);
  CHECK(answer(rig, router, "GET", "/api/v1/services/shop/events?limit=0").status == 400);
  CHECK(answer(rig, router, "GET", "/api/v1/services/nope").status == 404);
  CHECK(answer(rig, router, "GET", "/api/v1/services/shop/nope").status == 404);
  CHECK(answer(rig, router, "GET", "/nowhere").status == 404);
  CHECK(answer(rig, router, "DELETE", "/api/v1/services/shop").status == 405);
  CHECK(answer(rig, router, "POST", "/api/v1/services/shop").status == 405);
  CHECK(answer(rig, router, "GET", "/api/v1/services/%zz").status == 400);
  CHECK(answer(rig, router, "GET", "/services/nope").status == 404);

  // Every answer carries the CSP; the page's files are served from the binary.
  for (const char* target : {"/", "/services/shop", "/assets/app.js", "/assets/app.css", "/metrics", "/api/v1/services"}) {
    const auto reply = answer(rig, router, "GET", target);
    INFO(target);
    CHECK(reply.status == 200);
  }
  CHECK(answer(rig, router, "GET", "/assets/app.js").content_type.starts_with("text/javascript"));
  CHECK(answer(rig, router, "GET", "/assets/../index.html").status == 404);
  CHECK(security_headers().front().second.find("script-src 'self'") != std::string::npos);
}

TEST_CASE("serve: the page's script never writes HTML from data", "[lbctl][serve]") {
  const auto* html = find_asset("index.html");
  const auto* js = find_asset("app.js");
  REQUIRE(html != nullptr);
  REQUIRE(js != nullptr);
  // No inline script or style for the CSP to refuse; no HTML parsed from data.
  CHECK(html->body.find("<script src=\"/assets/app.js\"") != std::string_view::npos);
  CHECK(html->body.find("<script>") == std::string_view::npos);
  CHECK(html->body.find("style=") == std::string_view::npos);
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"}) {
    INFO(sink);
    CHECK(js->body.find(sink) == std::string_view::npos);
  }
}

TEST_CASE("serve: actions need --allow-actions and the token", "[lbctl][serve]") {
  CutoverRig rig;
  rig.config.promotion.mode = PromotionConfig::Mode::manual;
  ServiceLive live("shop", flow_step_names(rig.config));
  Hub off({"shop"}, false);
  Hub on({"shop"}, true);
  RigBackend backend(rig);
  Router closed(off, backend, "", "web1");
  Router open(on, backend, "0123456789abcdef-token", "web1");
  const std::string target = "/api/v1/services/shop/promote";
  CHECK(answer(rig, closed, "POST", target, "Bearer 0123456789abcdef-token").status == 403);
  const auto unauthorized = answer(rig, open, "POST", target);
  CHECK(unauthorized.status == 401);
  CHECK(has_header(unauthorized, "WWW-Authenticate"));
  CHECK(answer(rig, open, "POST", target, "Bearer 0123456789abcdef-tokex").status == 401);
  CHECK(answer(rig, open, "POST", target, "0123456789abcdef-token").status == 401);
  CHECK(answer(rig, open, "POST", "/api/v1/services/nope/promote", "Bearer 0123456789abcdef-token").status == 404);
  // No cutover yet: nothing to promote.
  CHECK(answer(rig, open, "POST", target, "Bearer 0123456789abcdef-token").status == 409);

  // In the pause: recorded with where it came from, and the run goes on.
  Reply promoted;
  Reply undo_early;
  std::vector<boost::asio::awaitable<CutoverOutcome>> both;
  both.push_back(run_cutover(rig.deps(), {}));
  both.push_back(act_in_pause(rig, open, undo_early, promoted));
  const auto outcome = rig.sim.run(when_all(std::move(both)))[0];
  CHECK(outcome.outcome == Outcome::done);
  INFO(undo_early.body);
  CHECK(undo_early.status == 409);  // no undo window in this config
  INFO(promoted.body);
  CHECK(promoted.status == 202);
  const auto* promoted_event = rig.recorder.first("promote", "promoted");
  REQUIRE(promoted_event != nullptr);
  CHECK(promoted_event->text.find("lbctl serve on web1 (a request from 127.0.0.9:4000)") != std::string::npos);
  auto events = rig.journal.events(outcome.cutover_id, 0, 1000).value();
  const auto requested = std::find_if(events.begin(), events.end(), [](const db::Event& e) { return e.kind == "requested"; });
  REQUIRE(requested != events.end());
  CHECK(requested->detail_json.find("promote requested by lbctl serve on web1 (a request from 127.0.0.9:4000)") != std::string::npos);
}

TEST_CASE("serve: POST .../cutovers queues a request for the agents, with the token, and 409 while one waits",
          "[lbctl][serve][agent]") {
  CutoverRig rig;
  Hub on({"shop"}, true);
  RigBackend backend(rig);
  Router open(on, backend, "0123456789abcdef-token", "web1");
  const std::string token = "Bearer 0123456789abcdef-token";
  CHECK(answer(rig, open, "POST", "/api/v1/services/shop/cutovers?release=v7").status == 401);
  const auto queued = answer(rig, open, "POST", "/api/v1/services/shop/cutovers?release=v7", token);
  INFO(queued.body);
  REQUIRE(queued.status == 202);
  const auto body = nlohmann::json::parse(queued.body);
  CHECK(body["request_id"] == 1);
  CHECK(body["release"] == "v7");
  CHECK(rig.journal.request_rows().at(1).requested_by == "lbctl serve on web1 (a request from 127.0.0.1:5555)");
  const auto busy = answer(rig, open, "POST", "/api/v1/services/shop/cutovers?release=v8", token);
  CHECK(busy.status == 409);
  CHECK(busy.body.find("queue") != std::string::npos);
  CHECK(answer(rig, open, "POST", "/api/v1/services/shop/cutovers?release=v8&queue=true", token).status == 202);
  CHECK(answer(rig, open, "POST", "/api/v1/services/shop/cutovers?release=v8&queue=maybe", token).status == 400);
  CHECK(answer(rig, open, "POST", "/api/v1/services/shop/cutovers?release=v%208&queue=true", token).status == 400);
  CHECK(answer(rig, open, "POST", "/api/v1/services/nope/cutovers", token).status == 404);
  CHECK(rig.journal.request_rows().size() == 2);
  // The queue shows in status (and so on the page and in /metrics).
  ServiceLive live("shop", flow_step_names(rig.config));
  rig.sim.run(poll_service(rig.config, *rig.fleet, rig.journal, live, wall_ms_of(rig)));
  const auto status = nlohmann::json(live.status());
  REQUIRE(status["requests"].size() == 2);
  CHECK(status["requests"][0]["state"] == "queued");
  CHECK(status["requests"][0]["release"] == "v7");
  CHECK(render_metrics({&live}).find("lbctl_requests_queued{service=\"shop\"} 2\n") != std::string::npos);
}

TEST_CASE("serve: an abort of a cutover whose process is gone is left to a shell", "[lbctl][serve]") {
  CutoverRig rig;
  db::Cutover row;
  row.service = "shop";
  row.status = db::CutoverStatus::interrupted;
  row.step = "watch";
  row.progress_json = "{}";
  rig.journal.seed(row);
  const auto outcome = record_request(rig.journal, "shop", Request::abort, "lbctl serve on web1", wall_ms_of(rig));
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::locked);
  CHECK(outcome.message.find("`lbctl abort` on a host") != std::string::npos);
}

TEST_CASE("serve: a rolled-back cutover's timeline: failed, rollback, skipped", "[lbctl][serve]") {
  CutoverRig rig;
  rig.prober.script("127.0.0.1:9101", "/health-check.html", FakeReply::refused());
  REQUIRE(rig.cutover().outcome == Outcome::failed);
  ServiceLive live("shop", flow_step_names(rig.config));
  rig.sim.run(poll_service(rig.config, *rig.fleet, rig.journal, live, wall_ms_of(rig)));
  std::map<std::string, std::string> state;
  std::vector<std::string> order;
  for (const auto& row : live.timeline_json()) {
    state[row["step"]] = row["state"];
    order.push_back(row["step"]);
  }
  INFO(live.timeline_json().dump());
  CHECK(state["preflight"] == "done");
  CHECK(state["clone"] == "done");
  CHECK(state["verify"] == "failed");  // where it failed
  CHECK(state["attach"] == "skipped");
  CHECK(state["terminate"] == "skipped");
  CHECK(order.back() == "rollback");  // not in the flow: after it
  CHECK(state["rollback"] == "done");
  CHECK(live.summary_json()["cutover"]["status"] == "rolled_back");
  CHECK(live.outcomes().at("rolled_back") == 1);
  CHECK(render_metrics({&live}).find("lbctl_cutovers_total{service=\"shop\",outcome=\"rolled_back\"} 1\n") !=
        std::string::npos);
}

TEST_CASE("serve: a Host header it does not answer to gets 421, page, API and stream alike", "[lbctl][serve][security]") {
  CutoverRig rig;
  ServiceLive live("shop", flow_step_names(rig.config));
  Hub hub({"shop"}, false);
  RigBackend backend(rig);
  Router router(hub, backend, "", "web1", HostAllowList(true, {"lbctl.internal"}));
  rig.sim.run(poll_service(rig.config, *rig.fleet, rig.journal, live, wall_ms_of(rig)));
  hub.publish("shop", make_snapshot(live, false));
  const auto ask = [&](std::string host, std::string target) {
    return rig.sim.run(router.answer(HttpRequest{"GET", std::move(target), "", "127.0.0.1:5555", std::move(host),
                                                 "127.0.0.1", rig.sim.clock.now()}));
  };
  for (const char* target : {"/", "/api/v1/services/shop", "/metrics", "/api/v1/services/shop/events"}) {
    INFO(target);
    const auto rebound = ask("rebind.example.com", target);
    CHECK(rebound.status == 421);
    CHECK(rebound.body.find("--allow-host") != std::string::npos);
    CHECK(ask("rebind.example.com:8480", target).status == 421);
    CHECK(ask("127.0.0.1:8480", target).status == 200);
    CHECK(ask("localhost:8480", target).status == 200);
    CHECK(ask("[::1]:8480", target).status == 200);
    CHECK(ask("LBCTL.internal", target).status == 200);
  }
  const HttpRequest stream{"GET", "/api/v1/stream", "", "127.0.0.1:5555", "rebind.example.com", "127.0.0.1", {}};
  const auto refused = router.stream_services(stream, parse_target(stream.target));
  REQUIRE(std::holds_alternative<Reply>(refused));
  CHECK(std::get<Reply>(refused).status == 421);
}

TEST_CASE("serve: /events reads only the cutovers of the service in its path", "[lbctl][serve][security]") {
  CutoverRig rig;
  REQUIRE(rig.cutover().outcome == Outcome::done);
  db::Cutover other;
  other.service = "billing";
  other.status = db::CutoverStatus::completed;
  other.step = "terminate";
  other.progress_json = "{}";
  const auto billing = rig.journal.seed(other);
  rig.journal.add_event(billing, "terminate", "completed", "{\"secret\": \"billing's hook output\"}");
  ServiceLive live("shop", flow_step_names(rig.config));
  Hub hub({"shop"}, false);
  RigBackend backend(rig);
  Router router(hub, backend, "", "web1");
  rig.sim.run(poll_service(rig.config, *rig.fleet, rig.journal, live, wall_ms_of(rig)));
  hub.publish("shop", make_snapshot(live, false));
  const auto foreign = answer(rig, router, "GET", "/api/v1/services/shop/events?cutover=" + std::to_string(billing));
  CHECK(foreign.status == 404);
  CHECK(foreign.body.find("billing's hook output") == std::string::npos);
  CHECK(answer(rig, router, "GET", "/api/v1/services/shop/events?cutover=1").status == 200);
}

TEST_CASE("serve: wrong tokens from one address are slowed down, others are not", "[lbctl][serve][security]") {
  CutoverRig rig;
  Hub hub({"shop"}, true);
  RigBackend backend(rig);
  Router router(hub, backend, "0123456789abcdef-token", "web1");
  const auto post = [&](std::string client, std::string token) {
    return rig.sim.run(router.answer(HttpRequest{"POST", "/api/v1/services/shop/promote", "Bearer " + token,
                                                 client + ":4000", "127.0.0.1", client, rig.sim.clock.now()}));
  };
  for (int i = 0; i < TokenThrottle::k_free_failures; ++i) CHECK(post("127.0.0.7", "guess").status == 401);
  CHECK(post("127.0.0.7", "guess").status == 401);  // counted: the next must wait 1 s
  const auto slowed = post("127.0.0.7", "0123456789abcdef-token");
  CHECK(slowed.status == 429);
  CHECK(has_header(slowed, "Retry-After"));
  // Another address is not held up, and the right token still works once the wait is over.
  CHECK(post("127.0.0.8", "0123456789abcdef-token").status == 409);
  rig.sim.run(rig.sim.clock.sleep_for(1100ms));
  CHECK(post("127.0.0.7", "0123456789abcdef-token").status == 409);  // no cutover to promote: past the token
}
