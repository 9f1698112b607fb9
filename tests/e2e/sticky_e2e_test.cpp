// Sticky users through a cutover on real HAProxy (the suite runs against 2.6
// and 3.0): a backend that keeps a user on its server with a persistence
// cookie, twenty users with cookie jars each making a request every 500 ms
// for a different time (2 to 20 s) through both LBs in turn, wrk beside
// them, and drain.idle: 3s. On 2.6 new servers get dynamic cookies (`cookie
// ... dynamic`, a dynamic-cookie-key), on 3.0 their names as cookies on `add
// server` (no new_pool.cookie: the default rule).

#include "tests/support/catch.hpp"

#include <atomic>
#include <ctime>
#include <iomanip>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/analysis_support.hpp"
#include "tests/e2e/cookies.hpp"
#include "tests/e2e/stack.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;
using Json = nlohmann::json;
using WallTime = std::chrono::system_clock::time_point;

namespace {

constexpr int k_users = 20;

// Each LB's backend keeps users with a cookie SRV; old-N has the cookie
// old-N, as a hand-kept haproxy.cfg would. On 2.6 the backend also derives
// cookies for servers without one (the same key on both LBs).
StackOptions sticky_stack(bool dynamic, const std::string& drain) {
  StackOptions options;
  options.migrations = false;
  options.persist = true;
  options.extra_config = drain;
  options.edit_lb_config = [dynamic](std::size_t, const std::string& generated) {
    const std::string lines = dynamic ? "  cookie SRV insert indirect nocache dynamic\n  dynamic-cookie-key k3y-of-the-fleet\n"
                                      : "  cookie SRV insert indirect nocache\n";
    std::string text = std::regex_replace(generated, std::regex("\nbackend app\n"), "\nbackend app\n" + lines);
    return std::regex_replace(text, std::regex(R"((\n  server (old-[0-9]+) [^\n]*))"), "$1 cookie $2");
  };
  return options;
}

// Whether the HAProxy the suite runs is 3.0 or later (`haproxy -v`).
bool haproxy_3_0_or_later() {
  const auto version = run_command({haproxy_program(), "-v"});
  std::smatch m;
  static const std::regex number(R"(version ([0-9]+)\.([0-9]+))");
  REQUIRE(std::regex_search(version.out, m, number));
  return std::stoi(m[1].str()) >= 3;
}


// "2026-12-07T01:40:00.123Z" (lbctl's event times, UTC).
WallTime parse_time(const std::string& text) {
  std::tm tm{};
  std::istringstream in(text.substr(0, 19));
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  const auto seconds = std::chrono::system_clock::from_time_t(timegm(&tm));
  return seconds + std::chrono::milliseconds(std::stoi(text.substr(20, 3)));
}

const Json* first_event(const std::vector<Json>& events, const std::string& step, const std::string& name) {
  for (const auto& e : events) {
    if (e["step"] == step && e["event"] == name) return &e;
  }
  return nullptr;
}

struct Request {
  WallTime at;
  std::size_t lb = 0;
  int status = 0;
  std::string server;
};

// A user with a cookie jar: lands on an old server before the cutover, then
// makes a request every 500 ms through lb1 and lb2 in turn until `active`
// after the drain started (known once `drain_started` is set), keeping the
// cookie each answer sets.
struct User {
  std::string cookie;
  std::string first_server;
  std::chrono::milliseconds active{};
  std::vector<Request> requests;
  std::thread thread;

  void run(Stack& stack, const std::atomic<std::int64_t>& drain_started_ms, const std::atomic<bool>& give_up) {
    std::size_t n = 0;
    for (;;) {
      const auto now = std::chrono::system_clock::now();
      const auto started = drain_started_ms.load();
      if (give_up) return;
      if (started > 0 && now >= WallTime(std::chrono::milliseconds(started)) + active) return;
      const std::size_t lb = n++ % 2;
      const auto reply = http_request(stack.lb(lb).frontend_port(), "GET", "/who", {"Cookie: SRV=" + cookie});
      requests.push_back({now, lb, reply.status, served_by(reply)});
      if (const auto fresh = set_cookie(reply); !fresh.empty()) cookie = fresh;
      std::this_thread::sleep_until(now + 500ms);
    }
  }
};

// Twenty users, each landed on an old server through lb1 or lb2.
std::vector<std::unique_ptr<User>> land_users(Stack& stack) {
  std::vector<std::unique_ptr<User>> users;
  for (int i = 0; i < k_users; ++i) {
    auto user = std::make_unique<User>();
    const auto landing = http_get(stack.lb(i % 2).frontend_port(), "/who");
    REQUIRE(landing.status == 200);
    user->cookie = set_cookie(landing);
    user->first_server = served_by(landing);
    REQUIRE(user->cookie == user->first_server);  // old-N's cookie is old-N
    user->active = std::chrono::milliseconds(2000 + 18000 * i / (k_users - 1));
    users.push_back(std::move(user));
  }
  return users;
}

// Runs a cutover under wrk with the users active; the events it printed.
struct Run {
  int exit_code = -1;
  std::vector<Json> events;
  std::string text;
  Load::Result load;
};

Run cutover_with_users(Stack& stack, std::vector<std::unique_ptr<User>>& users) {
  TempDir logs;
  Load load(stack.lb(0).frontend_port(), logs / "wrk.txt");
  std::atomic<std::int64_t> drain_started_ms{0};
  std::atomic<bool> give_up{false};
  for (auto& user : users) {
    user->thread = std::thread([&stack, &drain_started_ms, &give_up, u = user.get()] { u->run(stack, drain_started_ms, give_up); });
  }
  auto lbctl = stack.start_lbctl({"cutover", "--yes", "--json"}, logs / "cutover.txt");
  Run run;
  const auto deadline = std::chrono::steady_clock::now() + 150s;
  while (lbctl->running() && std::chrono::steady_clock::now() < deadline) {
    if (drain_started_ms == 0) {
      const auto so_far = analysis_e2e::json_lines(read_file(logs / "cutover.txt"));
      if (const auto* drain = first_event(so_far, "drain", "step_started")) {
        drain_started_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               parse_time((*drain)["time"].get<std::string>()).time_since_epoch())
                               .count();
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  run.exit_code = lbctl->wait(5s);
  // The users go on to their own end (at most 20 s after the drain started),
  // unless the cutover never reached the drain.
  if (drain_started_ms == 0) give_up = true;
  for (auto& user : users) user->thread.join();
  run.load = load.stop();
  run.text = read_file(logs / "cutover.txt");
  run.events = analysis_e2e::json_lines(run.text);
  return run;
}

// Ten new users after the cutover: each gets a non-empty cookie and stays on
// one new server through both LBs.
void new_users_stick(Stack& stack) {
  std::set<std::string> servers;
  for (int user = 0; user < 10; ++user) {
    const auto landing = http_get(stack.lb(user % 2).frontend_port(), "/who");
    REQUIRE(landing.status == 200);
    const std::string cookie = set_cookie(landing);
    const std::string server = served_by(landing);
    INFO("new user " << user << " got cookie '" << cookie << "' from " << server);
    CHECK_FALSE(cookie.empty());
    CHECK(server.starts_with("v2-"));
    servers.insert(server);
    for (int request = 0; request < 6; ++request) {
      const auto next = http_request(stack.lb(request % 2).frontend_port(), "GET", "/who", {"Cookie: SRV=" + cookie});
      REQUIRE(next.status == 200);
      CHECK(served_by(next) == server);
    }
  }
  CHECK(servers == std::set<std::string>{"v2-1", "v2-2"});
}

}  // namespace

TEST_CASE("drain.idle: twenty sticky users keep their old server until idle, through both LBs, under wrk",
          "[e2e][cookie][sticky][both-haproxy]") {
  const bool dynamic = !haproxy_3_0_or_later();
  Stack stack(sticky_stack(dynamic, "drain:\n  method: health_file\n  poll: 250ms\n  timeout: 90s\n  idle: 3s\n"));
  auto users = land_users(stack);
  const auto run = cutover_with_users(stack, users);
  INFO(run.text);
  REQUIRE(run.exit_code == 0);
  INFO(run.load.text);
  CHECK(run.load.requests > 0);
  CHECK(run.load.non_2xx == 0);
  CHECK(run.load.socket_errors == 0);

  const auto* drain = first_event(run.events, "drain", "step_started");
  const auto* drained = first_event(run.events, "watch", "drained");
  const auto* detached = first_event(run.events, "detach", "detached");
  REQUIRE(drain);
  REQUIRE(drained);
  REQUIRE(detached);
  const auto detached_at = parse_time((*detached)["time"].get<std::string>());
  std::map<std::string, WallTime> last_use;  // old server -> its users' last request
  for (const auto& user : users) {
    INFO("user on " << user->first_server << " active " << user->active.count() << " ms");
    REQUIRE_FALSE(user->requests.empty());
    for (const auto& r : user->requests) {
      CHECK(r.status == 200);
      // Every request of an active user went to the server of its cookie.
      CHECK(r.server == user->first_server);
    }
    auto& last = last_use[user->first_server];
    last = std::max(last, user->requests.back().at);
  }
  CHECK(last_use.size() == 2);
  // Each old server was detached only after its last user went idle for drain.idle.
  for (const auto& [server, last] : last_use) {
    INFO(server);
    CHECK(detached_at - last >= 3s - 100ms);
  }
  // The drain said which servers sticky users still held while they did.
  bool sticky_seen = false;
  for (const auto& e : run.events) {
    if (e["event"] == "drain_progress" && e["details"].contains("sticky") && !e["details"]["sticky"].empty()) {
      sticky_seen = true;
    }
  }
  CHECK(sticky_seen);
  CHECK(stack.fleet_view() == std::vector<std::string>{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"});
  for (std::size_t lb = 0; lb < stack.lb_count(); ++lb) {
    for (const std::string name : {"v2-1", "v2-2"}) {
      const auto cookie = stack.lb(lb).stat_field(name, "cookie");
      CHECK(cookie.size() == (dynamic ? 16 : name.size()));
      if (!dynamic) CHECK(cookie == name);
    }
  }
  new_users_stick(stack);
}

TEST_CASE("drain.idle with a short drain.timeout: the sticky users still active are counted, then moved",
          "[e2e][cookie][sticky][both-haproxy]") {
  const bool dynamic = !haproxy_3_0_or_later();
  Stack stack(sticky_stack(dynamic, "drain:\n  method: health_file\n  poll: 250ms\n  timeout: 6s\n  idle: 3s\n  "
                                    "on_timeout: force\n"));
  auto users = land_users(stack);
  const auto run = cutover_with_users(stack, users);
  INFO(run.text);
  REQUIRE(run.exit_code == 0);
  CHECK(run.load.non_2xx == 0);
  CHECK(run.load.socket_errors == 0);
  const auto* cut = first_event(run.events, "watch", "sessions_cut");
  const auto* detached = first_event(run.events, "detach", "detached");
  REQUIRE(cut);
  REQUIRE(detached);
  const auto cut_at = parse_time((*cut)["time"].get<std::string>());
  const auto detached_at = parse_time((*detached)["time"].get<std::string>());
  // Users active past the deadline: counted, per old server they held (a
  // request well inside the last drain.idle; none within a second more).
  std::set<std::string> held;
  std::set<std::string> maybe;
  for (const auto& user : users) {
    for (const auto& r : user->requests) {
      if (r.at > cut_at - 2500ms && r.at < cut_at) held.insert(user->first_server);
      if (r.at > cut_at - 4s && r.at < cut_at) maybe.insert(user->first_server);
    }
  }
  REQUIRE_FALSE(held.empty());
  const auto& sticky = (*cut)["details"]["sticky"];
  std::set<std::string> counted;
  for (const auto& s : sticky) {
    counted.insert(s["server"].get<std::string>());
    CHECK(s["recent_sessions"].get<int>() > 0);
  }
  for (const auto& server : held) CHECK(counted.contains(server));
  for (const auto& server : counted) CHECK(maybe.contains(server));
  CHECK_THAT((*cut)["text"].get<std::string>(), Catch::Contains("still had active sticky users"));
  // Each user stayed on its old server until the cut, and was moved only then: to one new server, kept after.
  std::size_t moved = 0;
  for (const auto& user : users) {
    INFO("user on " << user->first_server << " active " << user->active.count() << " ms");
    std::string new_server;
    for (const auto& r : user->requests) {
      CHECK(r.status == 200);
      if (r.at < cut_at) {
        CHECK(r.server == user->first_server);
      } else if (r.at > detached_at + 100ms) {
        CHECK(r.server.starts_with("v2-"));
        if (new_server.empty()) new_server = r.server;
        CHECK(r.server == new_server);
      }
    }
    if (!new_server.empty()) ++moved;
  }
  CHECK(moved > 0);
}
