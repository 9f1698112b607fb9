// `lbctl serve` with real HAProxy, Postgres, Prometheus and a headless
// Chromium: the page follows a real cutover live (the step moving on, an
// old server from NOLB to gone, the drain chart gaining points, a
// screenshot saved), Prometheus scrapes /metrics and answers PromQL with the
// drain gauge of each LB; the API's shapes against the commands' --json,
// the actions' 401/403, an event's `<script>` shown as text, no secret in
// any answer.

#include "tests/support/catch.hpp"

#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "tests/e2e/stack.hpp"
#include "tests/support/chromium_fixture.hpp"
#include "tests/support/prometheus_fixture.hpp"
#include "tests/support/test_certificates.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

// The port `lbctl serve --listen 127.0.0.1:0` printed it listens on; 0 when it did not.
std::uint16_t serve_port(const std::filesystem::path& log) { return printed_port(log); }

nlohmann::json get_json(std::uint16_t port, const std::string& path) {
  const auto reply = http_get(port, path);
  INFO(path << " -> " << reply.status << " " << reply.body);
  REQUIRE(reply.status == 200);
  return nlohmann::json::parse(reply.body);
}

// What the test reads of the page each time: the running step, the old
// servers' status on the first LB's table, the chart's points.
const char* k_page_probe = R"js(JSON.stringify({
  steps: [...document.querySelectorAll('#timeline li')].map(li => li.dataset.step),
  running: [...document.querySelectorAll('#timeline li.running')].map(li => li.dataset.step),
  done: [...document.querySelectorAll('#timeline li.done')].map(li => li.dataset.step),
  servers: Object.fromEntries([...document.querySelectorAll('table.lb[data-lb="lb1"] tr[data-server]')]
      .map(tr => [tr.dataset.server, tr.textContent])),
  points: Number((document.querySelector('#drain svg') || {dataset: {points: 0}}).dataset.points || 0),
  updated: (document.querySelector('#updated') || {}).textContent || ''
}))js";

std::set<std::string> keys_of(const nlohmann::json& j) {
  std::set<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.insert(k);
  return keys;
}

}  // namespace

TEST_CASE("serve: the page follows a real cutover, Prometheus scrapes it", "[e2e][serve]") {
  Stack stack;
  TempDir logs;
  auto serve = stack.start_lbctl({"serve", "--listen", "127.0.0.1:0", "--interval", "300ms"}, logs / "serve.txt");
  const auto port = serve_port(logs / "serve.txt");
  INFO(read_file(logs / "serve.txt"));
  REQUIRE(port != 0);
  PrometheusFixture prometheus({{"127.0.0.1:" + std::to_string(port)}});
  REQUIRE(prometheus.wait_for_targets(30s));

  ChromiumFixture page("http://127.0.0.1:" + std::to_string(port) + "/services/shop");
  REQUIRE(eventually([&] { return page.evaluate(k_page_probe).get<std::string>().find("version") != std::string::npos; }, 30s));

  // Sessions that last 6 s on the old servers hold the drain, so its chart and the NOLB state have time to show.
  std::vector<std::future<HttpReply>> held;
  for (std::size_t lb = 0; lb < stack.lb_count(); ++lb) {
    for (int i = 0; i < 2; ++i) {
      held.push_back(std::async(std::launch::async, [&stack, lb] {
        return http_get(stack.lb(lb).frontend_port(), "/slow?ms=6000", 30s);
      }));
    }
  }
  // All four on the old servers before the cutover starts (serve's own view says so).
  const auto held_sessions = [&] {
    std::uint64_t sessions = 0;
    const auto status = get_json(port, "/api/v1/services/shop");
    for (const auto& lb : status["load_balancers"]) {
      for (const auto& server : lb["servers"]) sessions += server["sessions"].get<std::uint64_t>();
    }
    return sessions;
  };
  REQUIRE(eventually([&] { return held_sessions() == 4; }, 10s));
  auto run = std::async(std::launch::async, [&] { return stack.lbctl({"cutover", "--yes"}); });
  std::vector<nlohmann::json> samples;
  double drain_seen = 0;
  const auto build = std::filesystem::path(LBCTL_BINARY).parent_path().parent_path();
  bool drain_shot = false;
  while (run.wait_for(250ms) != std::future_status::ready) {
    samples.push_back(nlohmann::json::parse(page.evaluate(k_page_probe).get<std::string>()));
    if (drain_seen == 0) drain_seen = prometheus.query_value("sum(lbctl_drain_sessions{service=\"shop\"})");
    // The page mid-drain, its chart in view, for people to look at.
    if (!drain_shot && samples.back()["points"].get<int>() >= 8) {
      page.evaluate("document.querySelector('#drain').scrollIntoView()");
      drain_shot = page.screenshot(build / "serve-e2e-drain.png") > 10000;
      page.evaluate("window.scrollTo(0, 0)");
    }
  }
  CHECK(drain_shot);
  const auto result = run.get();
  INFO(result.out);
  REQUIRE(result.exit_code == 0);
  for (auto& h : held) CHECK(h.get().status == 200);
  // The page catches up with the end by itself.
  REQUIRE(eventually(
      [&] {
        samples.push_back(nlohmann::json::parse(page.evaluate(k_page_probe).get<std::string>()));
        return samples.back()["running"].empty() && samples.back()["done"].size() >= 5;
      },
      30s));
  const auto shot = build / "serve-e2e.png";
  CHECK(page.screenshot(shot) > 10000);
  INFO("screenshot: " << shot);

  // The step moved on, live: the running steps seen, in the flow's order.
  std::vector<std::string> running;
  for (const auto& s : samples) {
    for (const auto& step : s["running"]) {
      if (running.empty() || running.back() != step.get<std::string>()) running.push_back(step.get<std::string>());
    }
  }
  INFO(nlohmann::json(running).dump());
  CHECK(running.size() >= 3);
  CHECK(std::find(running.begin(), running.end(), "watch") != running.end());
  // Each running step seen comes later in the flow (the timeline's order) than the one before it.
  const auto flow = samples.back()["steps"].get<std::vector<std::string>>();
  REQUIRE(flow.size() >= 10);
  std::vector<long> places;
  for (const auto& step : running) places.push_back(std::find(flow.begin(), flow.end(), step) - flow.begin());
  CHECK(std::is_sorted(places.begin(), places.end()));
  CHECK(std::adjacent_find(places.begin(), places.end()) == places.end());
  // An old server: NOLB while it drains, then gone from the table.
  bool nolb = false;
  bool gone_after_nolb = false;
  for (const auto& s : samples) {
    const auto& servers = s["servers"];
    if (servers.contains("old-1") && servers["old-1"].get<std::string>().find("NOLB") != std::string::npos) nolb = true;
    if (nolb && !servers.contains("old-1") && !servers.empty()) gone_after_nolb = true;
  }
  CHECK(nolb);
  CHECK(gone_after_nolb);
  // The drain chart gained points.
  int first_points = -1;
  int most_points = 0;
  for (const auto& s : samples) {
    const int points = s["points"];
    if (points > 0 && first_points < 0) first_points = points;
    most_points = std::max(most_points, points);
  }
  CHECK(first_points > 0);
  CHECK(most_points >= first_points + 5);
  CHECK(page.console().empty());
  for (const auto& line : page.console()) WARN(line);

  // Prometheus: the drain gauge of each LB, and its sessions seen while they drained.
  REQUIRE(eventually([&] { return prometheus.query_value("lbctl_cutovers_total{service=\"shop\",outcome=\"completed\"}") == 1; }, 30s));
  const auto reply = prometheus.query("max_over_time(lbctl_drain_sessions{service=\"shop\"}[5m])");
  REQUIRE(reply.status == 200);
  const auto answer = nlohmann::json::parse(reply.body);
  INFO(reply.body);
  std::set<std::string> lbs;
  for (const auto& sample : answer["data"]["result"]) {
    lbs.insert(sample["metric"]["lb"].get<std::string>());
    CHECK(std::stod(sample["value"][1].get<std::string>()) >= 1);  // the held sessions, while they drained
  }
  CHECK(lbs == std::set<std::string>{"lb1", "lb2"});
  CHECK(drain_seen >= 1);
  CHECK(serve->stop() == 0);
}

TEST_CASE("serve: the API against --json, the actions' 401 and 403, text stays text", "[e2e][serve]") {
  Stack stack;
  REQUIRE(stack.lbctl({"cutover", "--yes"}).exit_code == 0);
  const std::string script = "<script>document.title=\"owned\"</script><img src=x onerror=alert(1)>";
  stack.postgres().execute(
      "INSERT INTO lbctl.events (cutover_id, step, kind, detail) VALUES (1, 'terminate', 'warning', "
      "jsonb_build_object('text', '" + script + "'))",
      "lbctl");
  TempDir dir;
  const auto token_file = dir / "token";
  std::ofstream(token_file) << "s3cret-token-0123456789\n";
  auto serve = stack.start_lbctl({"serve", "--listen", "127.0.0.1:0", "--allow-actions", "--token-file", token_file.string()},
                                 dir / "serve.txt");
  const auto port = serve_port(dir / "serve.txt");
  INFO(read_file(dir / "serve.txt"));
  REQUIRE(port != 0);
  REQUIRE(eventually([&] { return http_get(port, "/api/v1/services/shop").status == 200; }, 30s));

  // The service's status is `lbctl status --json`'s object; its history `lbctl history --json`'s.
  const auto status = get_json(port, "/api/v1/services/shop");
  const auto cli = stack.lbctl({"status", "--json"});
  REQUIRE(cli.exit_code == 0);
  const auto cli_status = nlohmann::json::parse(cli.out.substr(cli.out.find('{')));
  CHECK(keys_of(status) == keys_of(cli_status));
  CHECK(keys_of(status["cutover"]) == keys_of(cli_status["cutover"]));
  CHECK(status["cutover"]["id"] == cli_status["cutover"]["id"]);
  CHECK(status["cutover"]["status"] == "completed");
  CHECK(status["load_balancers"] == cli_status["load_balancers"]);
  const auto history = get_json(port, "/api/v1/services/shop/history");
  const auto cli_history = stack.lbctl({"history", "--json"});
  const auto first_line = nlohmann::json::parse(cli_history.out.substr(0, cli_history.out.find('\n')));
  REQUIRE(history.size() == 1);
  CHECK(keys_of(history[0]) == keys_of(first_line));
  CHECK(history[0]["id"] == first_line["id"]);
  CHECK(history[0]["steps"].size() == first_line["steps"].size());
  const auto services = get_json(port, "/api/v1/services");
  CHECK(services["actions_allowed"] == true);
  CHECK(services["services"][0]["service"] == "shop");
  const auto events = get_json(port, "/api/v1/services/shop/events?since=0");
  CHECK(events["events"].back()["details"]["text"] == script);
  const auto later = get_json(port, "/api/v1/services/shop/events?since=" + std::to_string(events["last_id"].get<int>()));
  CHECK(later["events"].empty());
  const auto metrics = http_get(port, "/metrics");
  CHECK(metrics.body.find("lbctl_lb_up{service=\"shop\",lb=\"lb2\"} 1") != std::string::npos);

  // Postgres restarts: the page says so and keeps showing the LBs, then serve connects again by itself.
  stack.postgres().stop();
  REQUIRE(eventually([&] { return get_json(port, "/api/v1/services")["services"][0]["state"] == "error"; }, 30s));
  const auto down = http_get(port, "/metrics").body;
  CHECK(down.find("lbctl_state_database_up{service=\"shop\"} 0") != std::string::npos);
  CHECK(down.find("lbctl_lb_up{service=\"shop\",lb=\"lb1\"} 1") != std::string::npos);
  stack.postgres().start();
  REQUIRE(eventually([&] { return get_json(port, "/api/v1/services")["services"][0]["state"] == "idle"; }, 60s));
  CHECK(get_json(port, "/api/v1/services/shop")["cutover"]["status"] == "completed");

  // Actions: the token in a header, or 401; with nothing to promote, 409.
  const std::string promote = "/api/v1/services/shop/promote";
  CHECK(http_request(port, "POST", promote).status == 401);
  CHECK(http_request(port, "POST", promote, {"Authorization: Bearer wrong-token-0123456789"}).status == 401);
  const auto refused = http_request(port, "POST", promote, {"Authorization: Bearer s3cret-token-0123456789"});
  CHECK(refused.status == 409);
  CHECK(refused.body.find("no cutover of service shop to promote") != std::string::npos);
  CHECK(http_request(port, "GET", "/api/v1/services/shop").headers.find("Content-Security-Policy: default-src 'none'") !=
        std::string::npos);

  // The event's markup is shown as text: no element made of it, the title untouched.
  ChromiumFixture page("http://127.0.0.1:" + std::to_string(port) + "/services/shop");
  const std::string probe = R"js(JSON.stringify({
    text: [...document.querySelectorAll('#events li')].map(li => li.textContent).join('\n'),
    scripts: document.scripts.length, images: document.querySelectorAll('#events img').length, title: document.title}))js";
  nlohmann::json seen;
  REQUIRE(eventually([&] {
    seen = nlohmann::json::parse(page.evaluate(probe).get<std::string>());
    return seen["text"].get<std::string>().find("<script>") != std::string::npos;
  }, 30s));
  CHECK(seen["text"].get<std::string>().find(script) != std::string::npos);
  CHECK(seen["scripts"] == 1);
  CHECK(seen["images"] == 0);
  CHECK(seen["title"].get<std::string>() != "owned");

  // The overview lists the service with its last cutover.
  ChromiumFixture overview("http://127.0.0.1:" + std::to_string(port) + "/");
  std::string row;
  CHECK(eventually([&] {
    row = overview.evaluate("(document.querySelector('tr[data-service=\"shop\"]') || {}).textContent || ''").get<std::string>();
    return row.find("completed") != std::string::npos;
  }, 30s));
  INFO(row);
  CHECK(row.find("2/2") != std::string::npos);  // LBs up

  // No secret anywhere: the database URLs, the token.
  const std::string everything = http_get(port, "/api/v1/services/shop/live").body + http_get(port, "/metrics").body +
                                 http_get(port, "/api/v1/services").body + page.dom() + read_file(dir / "serve.txt");
  for (const auto& [key, value] : stack.env()) CHECK(everything.find(value) == std::string::npos);
  CHECK(everything.find("s3cret-token") == std::string::npos);
  CHECK(serve->stop() == 0);

  // Without --allow-actions a POST is refused, token or not.
  auto closed = stack.start_lbctl({"serve", "--listen", "127.0.0.1:0"}, dir / "closed.txt");
  const auto closed_port = serve_port(dir / "closed.txt");
  REQUIRE(closed_port != 0);
  const auto off = http_request(closed_port, "POST", promote, {"Authorization: Bearer s3cret-token-0123456789"});
  CHECK(off.status == 403);
  CHECK(off.body.find("--allow-actions") != std::string::npos);
}

TEST_CASE("serve: refuses what it cannot do, exit 2, before listening", "[e2e][serve]") {
  Stack stack;
  const auto no_token = stack.lbctl({"serve", "--allow-actions"});
  CHECK(no_token.exit_code == 2);
  CHECK(no_token.out.find("--allow-actions needs a token") != std::string::npos);
  const auto listen = stack.lbctl({"serve", "--listen", "localhost"});
  CHECK(listen.exit_code == 2);
  CHECK(listen.out.find("--listen localhost: expected IP:PORT") != std::string::npos);
  const auto twice = stack.lbctl({"serve", "-c", stack.config_file().string()});
  CHECK(twice.exit_code == 2);
  CHECK(twice.out.find("service `shop` is already served") != std::string::npos);
  TempDir dir;
  std::ofstream(dir / "short") << "abc\n";
  const auto short_token = stack.lbctl({"serve", "--allow-actions", "--token-file", (dir / "short").string()});
  CHECK(short_token.exit_code == 2);
  CHECK(short_token.out.find("at least 16 characters") != std::string::npos);
}

TEST_CASE("serve over https: the page shows the promotion pause, its Promote button promotes", "[e2e][serve]") {
  StackOptions options;
  options.extra_config = "promotion:\n  mode: manual\n  auto_abort_after: 10m\n";
  Stack stack(options);
  TempDir dir;
  const auto token_file = dir / "token";
  std::ofstream(token_file) << "page-token-0123456789abcdef\n";
  const TestCertificates certificates(dir / "tls");
  const auto tls = certificates.server("serve");
  auto serve = stack.start_lbctl({"serve", "--listen", "127.0.0.1:0", "--interval", "300ms", "--allow-actions",
                                  "--token-file", token_file.string(), "--tls-cert", tls.cert.string(), "--tls-key",
                                  tls.key.string()},
                                 dir / "serve.txt");
  const auto port = serve_port(dir / "serve.txt");
  REQUIRE(port != 0);
  REQUIRE(read_file(dir / "serve.txt").find("https://127.0.0.1:") != std::string::npos);
  auto run = std::async(std::launch::async, [&] { return stack.lbctl({"cutover", "--yes"}); });
  // The browser trusts serve's certificate alone (pinned by its key), as it would trust a CA's.
  ChromiumOptions browser;
  browser.flags.push_back("--ignore-certificate-errors-spki-list=" + spki_sha256_base64(tls.cert));
  ChromiumFixture page("https://127.0.0.1:" + std::to_string(port) + "/services/shop", browser);
  const std::string probe = R"js(JSON.stringify({
    promotion: (document.querySelector('#promotion') || {}).textContent || '',
    rows: [...document.querySelectorAll('table.lb[data-lb="lb1"] tr[data-server]')].map(tr => tr.textContent),
    result: (document.querySelector('#action-result') || {}).textContent || ''}))js";
  nlohmann::json seen;
  REQUIRE(eventually([&] {
    seen = nlohmann::json::parse(page.evaluate(probe).get<std::string>());
    return seen["promotion"].get<std::string>().find("paused") != std::string::npos;
  }, 120s));
  INFO(seen.dump());
  CHECK(seen["promotion"].get<std::string>().find("auto abort in") != std::string::npos);
  // Both pools serve during the pause: old and new rows, all UP.
  CHECK(seen["rows"].size() == 4);
  for (const auto& row : seen["rows"]) CHECK(row.get<std::string>().find("UP") != std::string::npos);

  page.evaluate(R"js((() => { const t = document.querySelector('#token'); t.value = 'page-token-0123456789abcdef';
    t.dispatchEvent(new Event('input')); document.querySelector('button[data-action="promote"]').click(); return 1; })())js");
  CHECK(eventually([&] {
    seen = nlohmann::json::parse(page.evaluate(probe).get<std::string>());
    return seen["result"].get<std::string>().find("promote recorded") != std::string::npos;
  }, 30s));
  const auto result = run.get();
  INFO(result.out);
  CHECK(result.exit_code == 0);
  const auto history = stack.lbctl({"history", "--json"});
  const auto last = nlohmann::json::parse(history.out.substr(0, history.out.find('\n')));
  CHECK(last["promoted_by"].get<std::string>().find("lbctl serve on ") == 0);
  CHECK(last["promoted_by"].get<std::string>().find("(a request from 127.0.0.1:") != std::string::npos);
  CHECK(page.console().empty());
  for (const auto& line : page.console()) WARN(line);
}
