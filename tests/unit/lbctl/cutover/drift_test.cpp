// Drift and reconcile, in memory: what lbctl records after a cutover, how a
// reload without persistence shows against it, and how reconcile brings the
// LB back in the safe order.

#include "tests/support/catch.hpp"

#include "lbctl/cutover/drift.hpp"
#include "lbctl/cutover/fleet_look.hpp"
#include "lbctl/cutover/reconcile.hpp"
#include "tests/unit/lbctl/cutover/cutover_rig.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

pools::BackendState backend(std::vector<std::tuple<std::string, std::string, unsigned, unsigned>> servers) {
  pools::BackendState state;
  std::uint64_t id = 1;
  for (const auto& [name, address, admin, weight] : servers) {
    pools::ServerStat stat;
    stat.name = name;
    stat.address = address;
    stat.status = "UP";
    stat.id = id;
    state.stats.push_back(stat);
    state.admin.push_back({name, id++, admin, 2, weight, address});
  }
  state.index();
  return state;
}

RecordedBackend recorded(std::vector<RecordedServer> servers) {
  RecordedBackend record;
  record.servers = std::move(servers);
  return record;
}

Strings kinds(const std::vector<Drift>& drift) {
  Strings out;
  for (const auto& d : drift) out.push_back(d.server + " " + d.kind);
  return out;
}

FleetLook look(CutoverRig& rig) {
  auto records = rig.journal.lb_records("shop");
  REQUIRE(records.has_value());
  return rig.sim.run(look_at_fleet(rig.config, *rig.fleet, *records, ""));
}

}  // namespace

TEST_CASE("a live backend equal to the record has no drift", "[lbctl][drift]") {
  const auto live = backend({{"v2-1", "127.0.0.1:9100", 0, 1}});
  CHECK(drift_from_record("lb1", recorded({{"v2-1", "127.0.0.1:9100", 1000, "ready", 1, ""}}), live).empty());
}

TEST_CASE("each kind of drift from the record is named", "[lbctl][drift]") {
  const auto live = backend({{"v2-1", "127.0.0.1:9999", 0x01, 1}, {"v2-2", "127.0.0.1:9101", 0, 7}, {"old-1", "127.0.0.1:9001", 0, 1}});
  const auto drift = drift_from_record("lb1",
                                       recorded({{"v2-1", "127.0.0.1:9100", 1000, "ready", 1, ""},
                                                 {"v2-2", "127.0.0.1:9101", 1001, "ready", 1, ""},
                                                 {"v2-3", "127.0.0.1:9102", 1002, "ready", 1, ""}}),
                                       live);
  CHECK(kinds(drift) == Strings{"v2-1 address", "v2-1 state", "v2-2 weight", "v2-3 missing", "old-1 extra"});
  CHECK(drift[0].text == "lb1: v2-1 is at 127.0.0.1:9999, lbctl left it at 127.0.0.1:9100");
  CHECK(drift[1].text == "lb1: v2-1 is maint, lbctl left it ready");
  CHECK(drift[3].text == "lb1: v2-3 is missing (lbctl left it at 127.0.0.1:9102, ready)");
  CHECK(drift[4].text.find("old-1 (127.0.0.1:9001, UP) is one too many") != std::string::npos);
}

TEST_CASE("a persisted file that differs from the live LB is drift", "[lbctl][drift]") {
  const auto file = pools::find_backend("backend app\n  server a 127.0.0.1:1 disabled\n  server b 127.0.0.1:2\n", "app");
  REQUIRE(file.has_value());
  const auto drift = drift_from_file("lb1", "/etc/haproxy/haproxy.cfg", *file,
                                     backend({{"a", "127.0.0.1:1", 0, 1}, {"c", "127.0.0.1:3", 0, 1}}));
  CHECK(kinds(drift) == Strings{"a file", "b file", "c file"});
  CHECK(drift[2].text == "lb1: c is on the LB but not in /etc/haproxy/haproxy.cfg: a reload would drop it");
}

TEST_CASE("a record survives the journal's JSON, anything else reads as no record", "[lbctl][drift]") {
  db::LbRecord record;
  record.state_json = nlohmann::json(recorded({{"v2-1", "127.0.0.1:9100", 1000, "drain", 3, "check"}})).dump();
  const auto back = from_journal(record);
  REQUIRE(back.has_value());
  CHECK(back->servers.at(0).admin == "drain");
  CHECK(back->servers.at(0).weight == 3);
  record.state_json = R"({"format": 9})";
  CHECK_FALSE(from_journal(record).has_value());
  record.state_json = "[]";
  CHECK_FALSE(from_journal(record).has_value());
}

TEST_CASE("a record is written as JSON that reads back whole, whatever its options hold", "[lbctl][drift]") {
  auto record = recorded({{"v2-1", "127.0.0.1:9100", 1000, "drain", 3, "check"},
                          {"v2-2", "[::1]:9101", 18446744073709551615ULL, "maint", 256,
                           "check \"quoted\" back\\slash\nnew line\ttab\x01 caf\xc3\xa9"}});
  const auto text = record_json(record);
  CHECK(nlohmann::json::parse(text) == nlohmann::json(record));
  db::LbRecord journaled;
  journaled.state_json = text;
  const auto back = from_journal(journaled);
  REQUIRE(back.has_value());
  REQUIRE(back->servers.size() == 2);
  CHECK(back->servers[1].options == record.servers[1].options);
  CHECK(back->servers[1].id == record.servers[1].id);
  CHECK(back->servers[1].address == "[::1]:9101");
  CHECK(record_json(RecordedBackend{}) == nlohmann::json(RecordedBackend{}).dump());
}

TEST_CASE("the journal's record of an LB is the record of what it holds, written as record_json writes it",
          "[lbctl][drift]") {
  test::Simulation sim;
  auto haproxy = std::make_shared<FakeHaproxy>("app", sim.clock);
  pools::LoadBalancer lb("lb1", "app", haproxy, sim.clock);
  const auto state = backend({{"old-1", "127.0.0.1:9001", 0, 1},
                              {"old-2", "127.0.0.1:9002", pools::k_admin_forced_drain, 0},
                              {"v2-1", "[::1]:9101", pools::k_admin_forced_maint, 256}});
  const auto record = to_journal(lb, state, 7);
  CHECK(record.cutover_id == 7);
  CHECK(record.lb == "lb1");
  CHECK(record.state_json == record_json(record_of(lb, state)));
  const auto back = from_journal(record);
  REQUIRE(back.has_value());
  REQUIRE(back->servers.size() == 3);
  CHECK(back->servers[1].admin == "drain");
  CHECK(back->servers[2].admin == "maint");
  CHECK(back->servers[2].address == "[::1]:9101");
  CHECK(back->servers[2].weight == 256);
}

TEST_CASE("a cutover records what it left on every LB", "[lbctl][drift]") {
  CutoverRig rig;
  REQUIRE(rig.cutover().outcome == Outcome::done);
  const auto records = rig.journal.lb_records("shop");
  REQUIRE(records.has_value());
  REQUIRE(records->size() == 2);
  const auto lb1 = from_journal(records->at(0));
  REQUIRE(lb1.has_value());
  REQUIRE(lb1->servers.size() == 2);
  CHECK(lb1->servers[0].name == "v2-1");
  CHECK(lb1->servers[0].id == 1000);
  CHECK(lb1->servers[0].options == "check inter 1s fall 2 rise 2");
  CHECK(look(rig).all_drift().empty());
}

TEST_CASE("a reload without persistence after a cutover shows as drift, and reconcile repairs it in the safe order",
          "[lbctl][drift]") {
  CutoverRig rig;
  REQUIRE(rig.cutover().outcome == Outcome::done);
  rig.haproxies[0]->reload_original();  // the old, terminated servers back; the new ones gone
  for (const auto& name : {"old-1", "old-2"}) rig.haproxies[0]->set_app(name, AppHealth::down);
  rig.sim.clock.advance_by(5s);
  const auto before = look(rig);
  CHECK(kinds(before.all_drift()) == Strings{"v2-1 missing", "v2-2 missing", "old-1 extra", "old-2 extra"});
  CHECK(reconcile_actions(before.lbs[0], false) ==
        Strings{"add v2-1 at 127.0.0.1:9100 and make it as recorded", "add v2-2 at 127.0.0.1:9101 and make it as recorded",
                "take old-1 out (MAINT) and delete it", "take old-2 out (MAINT) and delete it"});
  rig.haproxies[0]->clear_log();
  auto target = rig.sim.run(target_of(before.lbs[0], rig.fleet->at(0), rig.config));
  REQUIRE(target.has_value());
  auto done = rig.sim.run(reconcile_lb(rig.fleet->at(0), *target, *before.lbs[0].live, rig.config));
  INFO((done ? std::string() : done.error().message));
  REQUIRE(done.has_value());
  CHECK(rig.haproxies[0]->mutations() ==
        Strings{"add server app/v2-1 127.0.0.1:9100 id 1000 check inter 1s fall 2 rise 2",
                "add server app/v2-2 127.0.0.1:9101 id 1001 check inter 1s fall 2 rise 2", "enable health app/v2-1",
                "enable health app/v2-2", "set server app/v2-1 state ready", "set server app/v2-2 state ready",
                "set server app/old-1 state maint", "del server app/old-1", "set server app/old-2 state maint",
                "del server app/old-2"});
  CHECK(look(rig).all_drift().empty());
  CHECK(rig.fleet_view() == Strings{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"});
}

TEST_CASE("with persistence, a file put back by hand is drift and reconcile rewrites it", "[lbctl][drift]") {
  CutoverRig rig;
  rig.persist_all();
  REQUIRE(rig.cutover().outcome == Outcome::done);
  const auto written = rig.store->text(CutoverRig::cfg_path(1));
  rig.store->put(CutoverRig::cfg_path(1), CutoverRig::cfg_text(2));  // config management put the old one back
  const auto before = look(rig);
  CHECK(kinds(before.lbs[1].drift) == Strings{"old-1 file", "old-2 file", "v2-1 file", "v2-2 file"});
  auto target = rig.sim.run(target_of(before.lbs[1], rig.fleet->at(1), rig.config));
  REQUIRE(target.has_value());
  REQUIRE(rig.sim.run(reconcile_lb(rig.fleet->at(1), *target, *before.lbs[1].live, rig.config)).has_value());
  CHECK(rig.store->text(CutoverRig::cfg_path(1)) == written);
  CHECK(look(rig).all_drift().empty());
}
