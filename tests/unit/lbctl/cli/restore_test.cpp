// `lbctl restore`'s flow on fakes: the journal's record of the backup, the
// service lock, the maintenance page around the restore, and how it ends.

#include "lbctl/cli/restore.hpp"

#include "tests/support/catch.hpp"
#include <nlohmann/json.hpp>

#include "lbctl/cli/exit_codes.hpp"
#include "tests/support/fake_haproxy.hpp"
#include "tests/support/fake_journal.hpp"
#include "tests/support/manual_clock.hpp"

using namespace lbctl;
using namespace lbctl::test;
using Strings = std::vector<std::string>;

namespace {

const std::string k_restore_map = "/etc/haproxy/maintenance.map";
const std::string k_backup = "/var/backups/lbctl/shop-1.dump";

// Records what was asked; answers as told; `during_restore` looks at the
// world while the restore runs.
class FakeRestore final : public db::DatabaseRestore {
 public:
  std::vector<std::string> calls;
  std::optional<Error> preview_error;
  std::optional<Error> restore_error;
  std::function<void()> during_restore;

  boost::asio::awaitable<Result<db::RestorePreview>> preview(std::filesystem::path backup) override {
    calls.push_back("preview " + backup.string());
    if (preview_error) co_return std::unexpected(*preview_error);
    db::RestorePreview p;
    p.file = backup;
    p.schemas = {"public"};
    p.pending_again = {"pre/04_add_total.sql"};
    co_return p;
  }
  boost::asio::awaitable<Result<db::RestoreReport>> restore(db::RestorePreview preview) override {
    calls.push_back("restore " + preview.file.string());
    if (during_restore) during_restore();
    if (restore_error) co_return std::unexpected(*restore_error);
    db::RestoreReport report;
    report.attempts = 1;
    report.pending = {"pre/04_add_total.sql"};
    co_return report;
  }
};

struct RestoreRig {
  Simulation sim;
  Config config;
  FakeJournal journal{&sim.clock};
  FakeRestore database;
  std::vector<std::shared_ptr<FakeHaproxy>> haproxies;
  std::unique_ptr<pools::Fleet> fleet;
  std::int64_t cutover_id = 0;

  RestoreRig() {
    config.service = "shop";
    config.maintenance = MaintenanceConfig{k_restore_map, "Restoring the database", std::nullopt};
    std::vector<std::unique_ptr<pools::LoadBalancer>> lbs;
    for (int i = 1; i <= 2; ++i) {
      auto haproxy = std::make_shared<FakeHaproxy>("app", sim.clock);
      haproxy->add_map_file(k_restore_map);
      lbs.push_back(std::make_unique<pools::LoadBalancer>("lb" + std::to_string(i), "app", haproxy, sim.clock));
      haproxies.push_back(haproxy);
    }
    fleet = std::make_unique<pools::Fleet>(std::move(lbs));
    db::Cutover done;
    done.service = "shop";
    done.status = db::CutoverStatus::completed;
    done.step = "terminate";
    done.progress_json = nlohmann::json{{"backup_path", k_backup}}.dump();
    cutover_id = journal.seed(done);
    journal.calls.clear();
  }

  RestoreDeps deps() { return RestoreDeps{config, journal, database, *fleet, sim.clock}; }
  static RestoreWho who() { return RestoreWho{"alice@web1", "web1", 4242}; }

  bool page_on_everywhere() {
    return std::all_of(haproxies.begin(), haproxies.end(),
                       [](const auto& h) { return h->map_entries(k_restore_map).contains("maintenance"); });
  }

  RestoreOutcome prepare_and_run() {
    auto prepared = sim.run(prepare_restore(deps(), cutover_id, who()));
    REQUIRE(prepared);
    return sim.run(run_restore(deps(), std::move(*prepared), who()));
  }
};

}  // namespace

TEST_CASE("a restore runs behind the maintenance page, journaled, and the page stays on", "[lbctl][restore]") {
  RestoreRig rig;
  bool page_during_restore = false;
  bool locked_during_restore = false;
  rig.database.during_restore = [&] {
    page_during_restore = rig.page_on_everywhere();
    locked_during_restore = rig.journal.held_service() == "shop";
  };
  const auto outcome = rig.prepare_and_run();
  INFO(outcome.message);
  CHECK(outcome.exit_code == k_exit_done);
  CHECK(rig.database.calls == Strings{"preview " + k_backup, "restore " + k_backup});
  CHECK(rig.journal.calls ==
        Strings{"get 1", "lock_service shop", "begin_restore shop cutover=1", "finish_restore 1 done"});
  CHECK(page_during_restore);
  CHECK(locked_during_restore);
  // The servers still run the newer release: the page stays until the previous one is back.
  CHECK(rig.page_on_everywhere());
  CHECK(outcome.page_on);
  CHECK_FALSE(outcome.page_was_on);
  const auto& stored = rig.journal.restore_rows().at(outcome.restore_id);
  CHECK(stored.run_by == "alice@web1");
  CHECK(stored.backup_path == k_backup);
  CHECK(nlohmann::json::parse(stored.detail_json)["pending"].get<Strings>() == Strings{"pre/04_add_total.sql"});
}

TEST_CASE("a failed restore turns the page off again and is journaled failed", "[lbctl][restore]") {
  RestoreRig rig;
  rig.database.restore_error = Error{ErrorKind::refused, "the restore failed and was rolled back: boom"};
  const auto outcome = rig.prepare_and_run();
  CHECK(outcome.exit_code == k_exit_failed);
  CHECK(outcome.message.find("boom") != std::string::npos);
  CHECK_FALSE(rig.page_on_everywhere());
  CHECK_FALSE(outcome.page_on);
  CHECK(rig.journal.calls.back() == "finish_restore 1 failed");
  CHECK(rig.journal.restore_rows().at(1).error.find("boom") != std::string::npos);
}

TEST_CASE("a page an operator turned on stays on after a failed restore", "[lbctl][restore]") {
  RestoreRig rig;
  for (auto& h : rig.haproxies) h->reload_map(k_restore_map, "maintenance Upgrading\n");
  rig.database.restore_error = Error{ErrorKind::refused, "boom"};
  const auto outcome = rig.prepare_and_run();
  CHECK(outcome.exit_code == k_exit_failed);
  CHECK(outcome.page_was_on);
  CHECK(rig.page_on_everywhere());
  CHECK(rig.haproxies[0]->map_entries(k_restore_map).at("maintenance") == "Upgrading");
}

TEST_CASE("a connection lost mid-restore leaves the page on and needs an operator", "[lbctl][restore]") {
  RestoreRig rig;
  rig.database.restore_error = Error{ErrorKind::cancelled, "it may or may not have committed"};
  const auto outcome = rig.prepare_and_run();
  CHECK(outcome.exit_code == k_exit_operator);
  CHECK(rig.page_on_everywhere());
}

TEST_CASE("an LB without the maintenance map stops the restore before the database is touched", "[lbctl][restore]") {
  RestoreRig rig;
  rig.config.maintenance->map = "/etc/haproxy/other.map";
  const auto outcome = rig.prepare_and_run();
  CHECK(outcome.exit_code == k_exit_usage);
  CHECK(outcome.message.find("did not load the map /etc/haproxy/other.map") != std::string::npos);
  CHECK(rig.database.calls == Strings{"preview " + k_backup});
  CHECK(rig.journal.calls.back() == "finish_restore 1 failed");
}

TEST_CASE("a cutover that took no backup has nothing to restore: exit 2, nothing locked", "[lbctl][restore]") {
  RestoreRig rig;
  db::Cutover bare;
  bare.service = "shop";
  bare.status = db::CutoverStatus::completed;
  const auto id = rig.journal.seed(bare);
  auto prepared = rig.sim.run(prepare_restore(rig.deps(), id, RestoreRig::who()));
  REQUIRE_FALSE(prepared);
  CHECK(prepared.error().exit_code == k_exit_usage);
  CHECK(prepared.error().message.starts_with("cutover 2 took no backup"));
  CHECK_FALSE(rig.journal.held_service());
  CHECK(rig.database.calls.empty());
}

TEST_CASE("a restore while a cutover holds the service is refused with exit 4", "[lbctl][restore]") {
  RestoreRig rig;
  rig.journal.hold_lock("shop");
  auto prepared = rig.sim.run(prepare_restore(rig.deps(), rig.cutover_id, RestoreRig::who()));
  REQUIRE_FALSE(prepared);
  CHECK(prepared.error().exit_code == k_exit_locked);
  CHECK(rig.database.calls.empty());
}

TEST_CASE("another service's cutover, or one that does not exist, is refused", "[lbctl][restore]") {
  RestoreRig rig;
  rig.config.service = "blog";
  auto other = rig.sim.run(prepare_restore(rig.deps(), rig.cutover_id, RestoreRig::who()));
  REQUIRE_FALSE(other);
  CHECK(other.error().exit_code == k_exit_usage);
  CHECK(other.error().message == "cutover 1 belongs to service shop, not to blog (the config's)");
  auto missing = rig.sim.run(prepare_restore(rig.deps(), 9, RestoreRig::who()));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "journal: no cutover 9");
}
