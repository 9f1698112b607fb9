#include "tests/support/catch.hpp"

#include <cstdio>
#include <deque>
#include <map>
#include <fmt/format.h>

#include "pools/load_balancer.hpp"
#include "tests/support/fake_haproxy.hpp"
#include "tests/support/manual_clock.hpp"

// The sessions that workers a reload left behind still hold, read over a
// scripted master CLI: `show proc` answers in turn, and each worker's
// `show stat` answers in turn.

using namespace lbctl;
using namespace lbctl::pools;

namespace {

std::string proc_listing(const std::vector<std::uint64_t>& old_pids) {
  std::string text =
      "#<PID>          <type>          <reloads>       <uptime>        <version>\n"
      "100             master          2               0d00h01m00s     2.6.12\n"
      "# workers\n"
      "300             worker          0               0d00h00m05s     2.6.12\n"
      "# old workers\n";
  for (const auto pid : old_pids) text += fmt::format("{}             worker          1     0d00h00m30s     2.6.12\n", pid);
  return text;
}

std::string worker_stat(std::uint64_t old_sessions) {
  return fmt::format(
      "# pxname,svname,qcur,qmax,scur,smax,slim,stot,status,weight,type\n"
      "app,old-1,0,0,{},1,,9,UP,1,2\n",
      old_sessions);
}

class ScriptedMaster final : public RuntimeApi {
 public:
  std::deque<std::string> procs;                           // each `show proc`, in turn
  std::map<std::uint64_t, std::deque<std::string>> stats;  // each worker's `show stat`, in turn
  int proc_reads = 0;

  boost::asio::awaitable<Result<std::vector<std::string>>> run(std::vector<std::string> commands) override {
    std::vector<std::string> answers;
    for (const auto& command : commands) {
      if (command == "show proc") {
        ++proc_reads;
        answers.push_back(procs.size() > 1 ? take(procs) : procs.front());
        continue;
      }
      std::uint64_t pid = 0;
      std::sscanf(command.c_str(), "@!%lu", &pid);
      auto& queue = stats[pid];
      if (queue.empty()) {
        answers.push_back("Can't find the target for this command\n");
      } else {
        answers.push_back(queue.size() > 1 ? take(queue) : queue.front());
      }
    }
    co_return answers;
  }
  std::string describe() const override { return "master.sock"; }

 private:
  static std::string take(std::deque<std::string>& queue) {
    auto front = queue.front();
    queue.pop_front();
    return front;
  }
};

struct OldWorkerRig {
  test::Simulation sim;
  std::shared_ptr<test::FakeHaproxy> haproxy = std::make_shared<test::FakeHaproxy>("app", sim.clock);
  std::shared_ptr<ScriptedMaster> master = std::make_shared<ScriptedMaster>();
  LoadBalancer lb{"lb1", "app", haproxy, sim.clock};

  OldWorkerRig() { lb.use_master(master); }
  Result<std::unordered_map<std::string, std::uint64_t>> read() {
    return sim.run(lb.old_worker_sessions({"old-1"}));
  }
};

}  // namespace

TEST_CASE("an old worker's sessions are counted", "[pools][reload]") {
  OldWorkerRig rig;
  rig.master->procs = {proc_listing({200})};
  rig.master->stats[200] = {worker_stat(3)};
  auto sessions = rig.read();
  REQUIRE(sessions.has_value());
  CHECK(sessions->at("old-1") == 3);
}

TEST_CASE("an old worker that answers nothing and is then gone has no sessions", "[pools][reload]") {
  OldWorkerRig rig;
  rig.master->procs = {proc_listing({200}), proc_listing({})};
  rig.master->stats[200] = {""};
  auto sessions = rig.read();
  REQUIRE(sessions.has_value());
  CHECK(sessions->empty());
  CHECK(rig.master->proc_reads == 2);
}

TEST_CASE("an old worker that answers nothing once is read again while still listed", "[pools][reload]") {
  OldWorkerRig rig;
  rig.master->procs = {proc_listing({200, 201})};
  rig.master->stats[200] = {"\n", worker_stat(2)};
  rig.master->stats[201] = {worker_stat(1), worker_stat(7)};  // read once: its first answer
  auto sessions = rig.read();
  REQUIRE(sessions.has_value());
  CHECK(sessions->at("old-1") == 3);
}

TEST_CASE("an old worker still listed that never answers fails the read, naming it", "[pools][reload]") {
  OldWorkerRig rig;
  rig.master->procs = {proc_listing({200})};
  rig.master->stats[200] = {""};
  auto sessions = rig.read();
  REQUIRE_FALSE(sessions.has_value());
  CHECK_THAT(sessions.error().message, Catch::Contains("200") && Catch::Contains("lb1"));
  CHECK(rig.master->proc_reads == 3);
}

TEST_CASE("an old worker whose CLI the master cannot reach is asked about again, as HAProxy 3.0 says it",
          "[pools][reload]") {
  OldWorkerRig rig;
  rig.master->procs = {proc_listing({200}), proc_listing({200}), proc_listing({})};
  rig.master->stats[200] = {"Can't connect to the target CLI!\n"};
  auto sessions = rig.read();
  REQUIRE(sessions.has_value());
  CHECK(sessions->empty());
  CHECK(rig.master->proc_reads == 3);
}
