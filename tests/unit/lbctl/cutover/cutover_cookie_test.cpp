// Persistence cookies for new servers (new_pool.cookie): `cookie VALUE` on
// `add server` from HAProxy 3.0 on, refused before any change on an older LB,
// and the warnings plan gives when the backend and the config disagree.

#include "tests/support/catch.hpp"

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
  CHECK_FALSE(warned(rig.recorder, "cookie"));
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

TEST_CASE("a backend with a persistence cookie and no new_pool.cookie is warned about, and the cutover goes on",
          "[lbctl][cutover][cookie]") {
  CutoverRig rig;
  rig.haproxies[1]->set_cookie_name("SRV");
  const auto outcome = rig.cutover();
  CHECK(outcome.outcome == Outcome::done);
  CHECK(warned(rig.recorder, "lb2: backend app keeps users on a server with cookie SRV, and new servers get none"));
  CHECK(warned(rig.recorder, "once the LB runs HAProxy 3.0 or later (it runs 2.6.12)"));
  CHECK_FALSE(warned(rig.recorder, "lb1: backend app keeps users"));
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
