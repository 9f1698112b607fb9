// Persistence cookies for new servers: `cookie VALUE` on `add server` from
// HAProxy 3.0 on (new_pool.cookie, else each server's name), refused before
// any change on an older LB; a fleet with an LB before 3.0 gets dynamic
// cookies (`enable dynamic-cookie backend`), refused when the persisted file
// shows a backend cannot derive them.

#include "tests/support/catch.hpp"

#include "lbctl/cutover/plan_report.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using Strings = std::vector<std::string>;

namespace {

bool warned(const Recorder& recorder, std::string_view text) {
  return std::any_of(recorder.events.begin(), recorder.events.end(), [&](const Event& e) {
    return e.kind == EventKind::warning && e.text.find(text) != std::string::npos;
  });
}

}  // namespace

TEST_CASE("on HAProxy 3.0 every new server gets the cookie new_pool.cookie gives it, on every LB",
          "[lbctl][cutover][cookie]") {
  CutoverRig rig;
  rig.config.new_pool.cookie = "web-{name}";
  for (auto& h : rig.haproxies) {
    h->set_version("3.0.11-1+deb13u4");
    h->set_cookie_name("SRV");
  }
  const auto outcome = rig.cutover();
  REQUIRE(outcome.outcome == Outcome::done);
  for (auto& h : rig.haproxies) {
    CHECK(h->server_names() == Strings{"v2-1", "v2-2"});
    CHECK(h->server("v2-1")->cookie == "web-v2-1");
    CHECK(h->server("v2-2")->cookie == "web-v2-2");
  }
  CHECK_FALSE(warned(rig.recorder, "new_pool.cookie"));
  CHECK_FALSE(warned(rig.recorder, "`cookie` line"));
}

TEST_CASE("new_pool.cookie with an LB before HAProxy 3.0 is refused before any change: exit 2 naming the LB and its "
          "version",
          "[lbctl][cutover][cookie]") {
  CutoverRig rig;
  rig.config.new_pool.cookie = "{name}";
  rig.haproxies[0]->set_version("3.0.11");
  // lb2 stays 2.6.12
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::usage);
  CHECK_THAT(outcome.message, Catch::Contains("new_pool.cookie: lb2 runs HAProxy 2.6.12, which refuses `cookie` on a "
                                              "server added at runtime (HAProxy 3.0 and later take it)"));
  for (auto& h : rig.haproxies) CHECK(h->mutations().empty());
  CHECK(rig.provider.calls().empty());
}

TEST_CASE("without new_pool.cookie, a backend with dynamic cookies gives each new server one before it takes a "
          "request, on HAProxy 2.6 and 3.0",
          "[lbctl][cutover][cookie]") {
  CutoverRig rig;
  rig.haproxies[1]->set_version("3.0.11");  // lb1 stays 2.6.12
  for (auto& h : rig.haproxies) {
    h->set_cookie_name("SRV");
    h->set_dynamic_cookie_key(true);
  }
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  REQUIRE(outcome.outcome == Outcome::done);
  for (auto& h : rig.haproxies) {
    for (const std::string name : {"v2-1", "v2-2"}) {
      REQUIRE(h->server(name));
      CHECK(h->server(name)->cookie.size() == 16);
    }
  }
  // The same address gives the same cookie on every LB: a user's cookie names one server through both.
  CHECK(rig.haproxies[0]->server("v2-1")->cookie == rig.haproxies[1]->server("v2-1")->cookie);
  // 2.6 derives it only when asked, after the add and before `state ready`; 3.0 at the add.
  const auto first = rig.haproxies[0]->mutations();
  const auto enable = std::find(first.begin(), first.end(), "enable dynamic-cookie backend app");
  const auto ready = std::find(first.begin(), first.end(), "set server app/v2-1 state ready");
  REQUIRE(enable != first.end());
  CHECK(enable < ready);
  const auto second = rig.haproxies[1]->mutations();
  CHECK(std::find(second.begin(), second.end(), "enable dynamic-cookie backend app") == second.end());
  CHECK(warned(rig.recorder, "lb1: backend app keeps users on their server with cookie SRV; without its file lbctl "
                             "cannot tell whether it has dynamic cookies"));
}

TEST_CASE("no dynamic-cookie-key on a 2.6 fleet: new servers get no cookie, rolled back, the old "
          "servers' cookies as they were",
          "[lbctl][cutover][cookie][rollback]") {
  CutoverRig rig;
  rig.haproxies[1]->set_cookie_name("SRV");
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::failed);
  CHECK_THAT(outcome.message, Catch::Contains("lb2: backend app gave v2-1, v2-2 no persistence cookie"));
  CHECK_THAT(outcome.message, Catch::Contains("`dynamic-cookie-key`"));
  CHECK(rig.fleet_view() == Strings{"lb1 old-1 UP", "lb1 old-2 UP", "lb2 old-1 UP", "lb2 old-2 UP"});
  CHECK(rig.provider.running_servers() == Strings{"old-1", "old-2"});
}

namespace {

// Each LB persisted, its backend keeping users with `cookie SRV insert
// indirect nocache` (not dynamic, no key).
void plain_cookie_files(CutoverRig& rig) {
  rig.persist_all();
  for (std::size_t i = 0; i < rig.haproxies.size(); ++i) {
    rig.haproxies[i]->set_cookie_name("SRV");
    std::string text = CutoverRig::cfg_text(2);
    text.replace(text.find("    balance roundrobin\n"), 0, "    cookie SRV insert indirect nocache\n");
    rig.store->put(CutoverRig::cfg_path(i), text);
  }
}

}  // namespace

TEST_CASE("an LB before HAProxy 3.0 whose persisted cookie is not dynamic is refused before any change, naming the "
          "two fixes",
          "[lbctl][cutover][cookie]") {
  CutoverRig rig;
  plain_cookie_files(rig);
  rig.haproxies[1]->set_version("3.0.11");  // lb1 stays 2.6.12: the fleet's new servers need dynamic cookies
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  CHECK(outcome.outcome == Outcome::usage);
  CHECK_THAT(outcome.message, Catch::Contains("lb1: backend app keeps users on their server with cookie SRV, and new "
                                              "servers would get none"));
  CHECK_THAT(outcome.message, Catch::Contains("no `dynamic` on its `cookie` line"));
  CHECK_THAT(outcome.message, Catch::Contains("Either add `dynamic` to the `cookie` line and a `dynamic-cookie-key`"));
  CHECK_THAT(outcome.message, Catch::Contains("or upgrade it to HAProxy 3.0 or later (it runs 2.6.12), as every LB of "
                                              "the service"));
  for (auto& h : rig.haproxies) CHECK(h->mutations().empty());
  CHECK(rig.provider.calls().empty());
}

TEST_CASE("on HAProxy 3.0 without new_pool.cookie, each new server gets its name as its cookie, in the file too",
          "[lbctl][cutover][cookie]") {
  CutoverRig rig;
  plain_cookie_files(rig);
  for (auto& h : rig.haproxies) h->set_version("3.0.11");
  const auto report = rig.sim.run(gather_plan(rig.config, *rig.fleet, rig.provider, nullptr, 1000, "r2"));
  REQUIRE(report.has_value());
  CHECK(report->cookie_rule == "{name}");
  CHECK(report->lbs[0].persistence_plan.front() ==
        "new servers get `cookie {name}` on `add server` (each its name; new_pool.cookie changes it)");
  const auto outcome = rig.cutover();
  INFO(outcome.message);
  REQUIRE(outcome.outcome == Outcome::done);
  for (std::size_t i = 0; i < rig.haproxies.size(); ++i) {
    CHECK(rig.haproxies[i]->server("v2-1")->cookie == "v2-1");
    CHECK(rig.haproxies[i]->server("v2-2")->cookie == "v2-2");
    CHECK_THAT(rig.store->text(CutoverRig::cfg_path(i)), Catch::Contains("cookie v2-1"));
  }
}

TEST_CASE("new_pool.cookie for a backend without a cookie line is warned about: its cookies would never be sent",
          "[lbctl][cutover][cookie]") {
  CutoverRig rig;
  rig.config.new_pool.cookie = "{name}";
  for (auto& h : rig.haproxies) h->set_version("3.0.11");
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::done);
  CHECK(warned(rig.recorder, "lb1: backend app has no `cookie` line"));
}

TEST_CASE("a release that makes a cookie too long is refused before any change", "[lbctl][cutover][cookie]") {
  CutoverRig rig;
  rig.config.new_pool.name_prefix = "{release}-";
  rig.config.new_pool.cookie = std::string(40, 'c') + "{name}";
  rig.release = std::string(30, 'r');
  for (auto& h : rig.haproxies) {
    h->set_version("3.0.11");
    h->set_cookie_name("SRV");
  }
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::usage);
  CHECK_THAT(outcome.message, Catch::Contains("new_pool.cookie: the new server"));
  CHECK_THAT(outcome.message, Catch::Contains("a cookie has 1 to 64 of [A-Za-z0-9._-]"));
  for (auto& h : rig.haproxies) CHECK(h->mutations().empty());
}
