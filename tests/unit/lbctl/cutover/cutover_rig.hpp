#pragma once
// A whole cutover in memory: two fake HAProxies whose servers follow the fake
// provider's health files, a fake prober, journal, migrator, backup and
// process runner, all on one manual clock.

#include <memory>
#include <set>
#include <stdexcept>

#include "core/async.hpp"
#include "lbctl/cutover/cutover.hpp"
#include "pools/backend_file.hpp"
#include "tests/support/fake_config_store.hpp"
#include "tests/support/fake_haproxy.hpp"
#include "tests/support/fake_journal.hpp"
#include "tests/support/fake_migrator.hpp"
#include "tests/support/fake_process_runner.hpp"
#include "tests/support/fake_prober.hpp"
#include "tests/support/fake_provider.hpp"
#include "tests/support/manual_clock.hpp"

namespace lbctl::test {

// Records every event; can make one of them "crash" the run (as SIGKILL
// would: nothing after it happens).
struct Recorder final : EventSink {
  std::vector<Event> events;
  std::string crash_on_step;   // throw at this step's step_started
  std::string crash_on_event;  // or at the first event of this kind
  bool crashed = false;
  void emit(const Event& event) override {
    events.push_back(event);
    const bool hit = (!crash_on_step.empty() && event.kind == EventKind::step_started && event.step == crash_on_step) ||
                     (!crash_on_event.empty() && event.name() == crash_on_event);
    if (hit && !crashed) {
      crashed = true;
      throw std::runtime_error("killed at " + event.step + "/" + std::string(event.name()));
    }
  }
  bool saw(std::string_view event) const {
    return std::any_of(events.begin(), events.end(), [&](const Event& e) { return e.name() == event; });
  }
  const Event* first(std::string_view step, std::string_view event) const {
    for (const auto& e : events) {
      if (e.step == step && e.name() == event) return &e;
    }
    return nullptr;
  }
  const Event* last(std::string_view step, std::string_view event) const {
    for (auto e = events.rbegin(); e != events.rend(); ++e) {
      if (e->step == step && e->name() == event) return &*e;
    }
    return nullptr;
  }
};

// What fleet_view() shows of the rig's two LBs before a cutover and after one
// that completed.
inline const std::vector<std::string> k_original_view{"lb1 old-1 UP", "lb1 old-2 UP", "lb2 old-1 UP", "lb2 old-2 UP"};
inline const std::vector<std::string> k_done_view{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"};

struct CutoverRig {
  Simulation sim;
  Config config;
  std::vector<std::shared_ptr<FakeHaproxy>> haproxies;
  std::unique_ptr<pools::Fleet> fleet;
  FakeProvider provider{&sim.clock};
  FakeProber prober{sim.clock};
  FakeJournal journal{&sim.clock};
  FakeMigrator migrator{&sim.clock};
  FakeBackup backup;
  FakeProcessRunner processes;
  Recorder recorder;
  bool with_migrations = false;

  explicit CutoverRig(std::size_t lbs = 2, std::size_t old_servers = 2) {
    config.service = "shop";
    config.new_pool.name_prefix = "v2-";
    config.new_pool.server_options = "check inter 1s fall 2 rise 2";
    config.health.interval = std::chrono::milliseconds(500);
    config.health.rise = 2;
    config.health.deadline = std::chrono::seconds(30);
    config.drain.poll = std::chrono::seconds(1);
    config.drain.timeout = std::chrono::minutes(30);
    config.min_healthy = 1;
    std::vector<std::unique_ptr<pools::LoadBalancer>> balancers;
    for (std::size_t i = 1; i <= lbs; ++i) {
      auto haproxy = std::make_shared<FakeHaproxy>("app", sim.clock);
      for (std::size_t s = 1; s <= old_servers; ++s) {
        haproxy->add_config_server("old-" + std::to_string(s), "127.0.0.1:" + std::to_string(9000 + s));
      }
      LoadBalancerConfig lb;
      lb.name = "lb" + std::to_string(i);
      lb.backend = "app";
      config.load_balancers.push_back(lb);
      balancers.push_back(std::make_unique<pools::LoadBalancer>("lb" + std::to_string(i), "app", haproxy, sim.clock));
      haproxies.push_back(haproxy);
    }
    fleet = std::make_unique<pools::Fleet>(std::move(balancers));
    for (std::size_t s = 1; s <= old_servers; ++s) {
      provider.add_server("old-" + std::to_string(s), "127.0.0.1:" + std::to_string(9000 + s));
    }
    // A health file's absence is what every HAProxy's check sees.
    provider.on_health_file([this](const std::string& server, bool present) {
      for (auto& h : haproxies) h->set_app(server, present ? AppHealth::healthy : AppHealth::not_found);
    });
    prober.set_fallback(FakeReply::ok());
  }

  // Each LB's haproxy.cfg, in memory: /etc/haproxy/lbN.cfg says what the
  // fake holds at the start (old-1, old-2, ...), among other sections.
  std::shared_ptr<FakeConfigStore> store = std::make_shared<FakeConfigStore>();
  static std::string cfg_path(std::size_t lb) { return "/etc/haproxy/lb" + std::to_string(lb + 1) + ".cfg"; }
  // The file around the backend's server lines: the sections before them, and after.
  static inline const std::string cfg_head =
      "# managed by hand, and by lbctl for backend app\n"
      "global\n"
      "    stats socket /run/haproxy/admin.sock mode 600 level admin\n"
      "\n"
      "frontend www\n"
      "    bind 127.0.0.1:8080\n"
      "    default_backend app\n"
      "\n"
      "backend app\n"
      "    balance roundrobin\n"
      "    option httpchk GET /health-check.html\n"
      "    http-check disable-on-404\n";
  static inline const std::string cfg_tail =
      "\nbackend other\n    server old-1 127.0.0.1:7001   # same name, another backend\n";
  static std::string cfg_text(std::size_t old_servers) {
    std::string text = cfg_head;
    for (std::size_t s = 1; s <= old_servers; ++s) {
      text += "    server old-" + std::to_string(s) + " 127.0.0.1:" + std::to_string(9000 + s) +
              " check inter 1000ms rise 2 fall 2\n";
    }
    return text + cfg_tail;
  }
  void persist_all(std::size_t old_servers = 2) {
    for (std::size_t i = 0; i < fleet->size(); ++i) {
      store->put(cfg_path(i), cfg_text(old_servers));
      fleet->at(i).persist_to(std::make_shared<pools::BackendFile>(store, cfg_path(i), "app", true),
                              config.new_pool.server_options);
      PersistConfig persist;
      persist.file = cfg_path(i);
      config.load_balancers[i].persist = persist;
    }
  }

  void enable_migrations(std::vector<std::string> pre, std::vector<std::string> post) {
    with_migrations = true;
    config.migrations = MigrationsConfig{};
    migrator.set_pending(db::Phase::pre, pre);
    migrator.set_pending(db::Phase::post, post);
  }

  std::string release;  // what the next cutover() deploys ("": r<id>)

  CutoverDeps deps() {
    CutoverDeps d{config, *fleet, provider, prober, journal, with_migrations ? &migrator : nullptr, {}, processes,
                  sim.clock, recorder, "test-host", 4242};
    d.release = release;
    if (with_migrations) {
      d.backup = [this](std::int64_t id, std::string name) -> boost::asio::awaitable<Result<std::string>> {
        db::BackupRequest request{config.service, id, "secret-url", name};
        auto result = co_await backup.run(request);
        if (!result) co_return std::unexpected(result.error());
        co_return result->file.string();
      };
    }
    return d;
  }

  CutoverOutcome cutover(CutoverOptions options = {}) { return sim.run(run_cutover(deps(), options)); }
  // A cutover with `other` running beside it on the same clock (an abort, a
  // fault injected mid-step); the cutover's outcome.
  CutoverOutcome cutover_beside(boost::asio::awaitable<CutoverOutcome> other) {
    std::vector<boost::asio::awaitable<CutoverOutcome>> tasks;
    tasks.push_back(run_cutover(deps(), {}));
    tasks.push_back(std::move(other));
    return sim.run(when_all(std::move(tasks)))[0];
  }
  CutoverOutcome resume() { return sim.run(resume_cutover(deps())); }
  CutoverOutcome abort() { return sim.run(rollback_cutover(deps())); }

  // A run that dies where the recorder says; the journal's owner is gone.
  void cutover_until_killed(std::string step, std::string event = "") {
    recorder.crash_on_step = std::move(step);
    recorder.crash_on_event = std::move(event);
    try {
      sim.run(run_cutover(deps(), {}));
    } catch (const std::runtime_error&) {
    }
    if (!recorder.crashed) throw std::logic_error("the run never reached the crash point");
    recorder.crash_on_step.clear();
    recorder.crash_on_event.clear();
    journal.owner_died();
  }

  // The servers of every LB, with their status: "lb1 old-1 UP, ...".
  std::vector<std::string> fleet_view() {
    std::vector<std::string> view;
    for (std::size_t i = 0; i < haproxies.size(); ++i) {
      for (const auto& name : haproxies[i]->server_names()) {
        view.push_back("lb" + std::to_string(i + 1) + " " + name + " " + haproxies[i]->status(name));
      }
    }
    return view;
  }

  db::CutoverStatus status_of(std::int64_t id) const { return journal.rows().at(id).status; }
};

}  // namespace lbctl::test
