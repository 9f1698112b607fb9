// Chaos: lbctl itself killed with SIGKILL at random instants across whole
// cutovers (not only at step boundaries), each kill followed by `resume` (which
// may be killed in turn), release after release on one stack. The instants
// and the seed are printed; LBCTL_CHAOS_SEED=N replays a run.

#include "tests/support/catch.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/e2e/stack.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

using Ms = std::chrono::milliseconds;

std::int64_t last_cutover_id(Stack& stack) {
  const auto status = stack.lbctl({"status", "--json"});
  const auto json = nlohmann::json::parse(status.out, nullptr, false);
  if (!json.is_object() || !json.contains("cutover") || json["cutover"].is_null()) return 0;
  return json["cutover"]["id"].get<std::int64_t>();
}

// The release `prefix` names ("v3-") in the config, the servers' --version too.
void use_prefix(Stack& stack, const std::string& from, const std::string& to) {
  auto text = read_file(stack.config_file());
  text = std::regex_replace(text, std::regex("name_prefix: " + from), "name_prefix: " + to);
  std::ofstream(stack.config_file()) << text;
}

Strings done_view(const std::string& prefix) {
  return {"lb1 " + prefix + "1 UP", "lb1 " + prefix + "2 UP", "lb2 " + prefix + "1 UP", "lb2 " + prefix + "2 UP"};
}

// The last "step: ..." line lbctl printed (where the kill landed).
std::string last_step_line(const std::filesystem::path& log) {
  std::istringstream lines(read_file(log));
  std::string last;
  for (std::string line; std::getline(lines, line);) {
    if (line.find(": ") != std::string::npos && !line.empty()) last = line;
  }
  return last.substr(0, 100);
}

}  // namespace

TEST_CASE("lbctl killed with SIGKILL at 20 random instants, each followed by resume: every run reaches the same end "
          "state and the journal stays consistent",
          "[chaos][kill]") {
  const char* replay = std::getenv("LBCTL_CHAOS_SEED");
  const unsigned seed = replay ? static_cast<unsigned>(std::stoul(replay)) : std::random_device{}();
  WARN("LBCTL_CHAOS_SEED=" << seed);
  std::mt19937 random(seed);
  Stack stack;
  TempDir logs;
  Load load1(stack.lb(0).frontend_port(), logs / "wrk1.txt");
  Load load2(stack.lb(1).frontend_port(), logs / "wrk2.txt");
  UpSampler sampler(stack);

  // Two undisturbed cutovers first: the second (no migrations pending, no
  // backup, as every later one) is the reference end state, and its length
  // the span the kill instants are drawn from.
  const auto first = stack.lbctl({"cutover", "--yes"});
  INFO(first.out);
  REQUIRE(first.exit_code == 0);
  use_prefix(stack, "v2-", "v3-");
  const auto started = std::chrono::steady_clock::now();
  const auto second = stack.lbctl({"cutover", "--yes"});
  INFO(second.out);
  REQUIRE(second.exit_code == 0);
  const auto span = std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - started);
  REQUIRE(stack.fleet_view() == done_view("v3-"));
  std::uniform_int_distribution<long> instant(20, span.count());

  int landed = 0;
  int round = 0;
  std::string prefix = "v3-";
  std::vector<std::string> instants;
  while (landed < 20) {
    REQUIRE(round < 40);  // kills that keep missing the run would loop for ever
    ++round;
    const std::string next = "v" + std::to_string(round + 3) + "-";
    use_prefix(stack, prefix, next);
    const auto before = last_cutover_id(stack);
    std::vector<std::string> args{"cutover", "--yes"};
    int in_round = 0;
    bool ended = false;
    while (in_round < 5 && landed < 20) {
      const auto log = logs / ("round" + std::to_string(round) + "-" + std::to_string(in_round) + ".txt");
      auto lbctl = stack.start_lbctl(args, log);
      const Ms at(instant(random));
      const int code = lbctl->wait(at);
      if (code >= 0) {  // it ended before the instant
        INFO(read_file(log));
        REQUIRE(code == 0);
        ended = true;
        break;
      }
      lbctl->signal(SIGKILL);
      lbctl->wait(10s);
      ++landed;
      ++in_round;
      instants.push_back("round " + std::to_string(round) + ": `" + args.front() + "` killed at " +
                         std::to_string(at.count()) + " ms, after: " + last_step_line(log));
      // Killed before the cutover was journaled: start it again; else resume it.
      args = last_cutover_id(stack) == before ? Strings{"cutover", "--yes"} : Strings{"resume"};
    }
    if (!ended) {
      const auto finish = stack.lbctl(args);
      INFO("round " << round << ", after kills: " << instants.size());
      INFO(finish.out);
      REQUIRE(finish.exit_code == 0);
    }
    // The same end state as the undisturbed run, one release on.
    CHECK(stack.fleet_view() == done_view(next));
    for (const auto& name : {next + "1", next + "2"}) CHECK(stack.server_running(name));
    for (const auto& name : {prefix + "1", prefix + "2"}) CHECK_FALSE(stack.server_running(name));
    prefix = next;
  }
  // Through every kill and resume, the LBs kept serving.
  const auto lowest_up = sampler.stop();
  const auto r1 = load1.stop();
  const auto r2 = load2.stop();
  CHECK(lowest_up >= 1);  // min_healthy: 1
  CHECK(r1.requests > 100);
  CHECK(r2.requests > 100);
  CHECK(r1.non_2xx + r1.socket_errors + r2.non_2xx + r2.socket_errors == 0);
  std::string all;
  for (const auto& i : instants) all += i + "\n";
  WARN(landed << " kills over " << round << " cutovers (undisturbed cutover " << span.count() << " ms):\n" << all);

  // The journal: every cutover ended completed, none left running, and the
  // latest holds the last release's servers as serving.
  const auto history = stack.lbctl({"history", "--json", "--limit", "50"});
  REQUIRE(history.exit_code == 0);
  std::istringstream lines(history.out);
  int cutovers = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto row = nlohmann::json::parse(line, nullptr, false);
    if (!row.is_object() || !row.contains("step")) continue;  // restores, if any
    ++cutovers;
    INFO(line);
    CHECK(row["status"] == "completed");
  }
  CHECK(cutovers == round + 2);
  const auto status = nlohmann::json::parse(stack.lbctl({"status", "--json"}).out);
  CHECK(status["cutover"]["status"] == "completed");
  for (const auto& server : status["servers"]) {
    INFO(server.dump());
    if (server["pool"] == "new") CHECK(server["state"] == "attached");
    if (server["pool"] == "old") CHECK(server["state"] == "terminated");
  }
}
