// Reload-proof: what lbctl changes through the runtime API survives HAProxy
// reloads (SIGUSR2 to the master, or the master CLI's `reload`) and restarts,
// because lbctl rewrites each LB's haproxy.cfg (and the maintenance map)
// after every change. Real HAProxy in master-worker mode as Debian's unit
// runs it, a real Postgres, app servers started by the local provider, and
// wrk through every LB.

#include "tests/support/catch.hpp"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/stack.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;
using Names = std::set<std::string>;

namespace {

const std::string k_server_options = "check inter 200ms fall 2 rise 2";

StackOptions reload_proof() {
  StackOptions options;
  options.persist = true;
  options.master_worker = true;
  return options;
}

void check_no_failures(Load& load, const std::string& through) {
  const auto result = load.stop();
  INFO("wrk through " << through << ":\n" << result.text);
  CHECK(result.requests > 100);
  CHECK(result.non_2xx == 0);
  CHECK(result.socket_errors == 0);
}

// Every LB's persist file, as it is now.
Strings persisted_files(Stack& stack) {
  Strings texts;
  for (std::size_t i = 0; i < stack.lb_count(); ++i) texts.push_back(read_file(stack.lb(i).config_file()));
  return texts;
}

bool view_is(Stack& stack, const Strings& view, std::chrono::milliseconds timeout = 10s) {
  return eventually([&] { return stack.fleet_view() == view; }, timeout);
}

// Every server name any LB shows, sampled every 50 ms on a thread: proves a
// server never came back, not only that it is gone at the end.
class NameSampler {
 public:
  explicit NameSampler(Stack& stack) : m_stack(stack) {
    m_thread = std::thread([this] {
      while (m_running) {
        for (std::size_t i = 0; i < m_stack.lb_count(); ++i) {
          const auto names = m_stack.lb(i).servers();
          const std::lock_guard lock(m_mutex);
          m_seen.insert(names.begin(), names.end());
        }
        std::this_thread::sleep_for(50ms);
      }
    });
  }
  ~NameSampler() { stop(); }
  Names stop() {
    m_running = false;
    if (m_thread.joinable()) m_thread.join();
    const std::lock_guard lock(m_mutex);
    return m_seen;
  }

 private:
  Stack& m_stack;
  std::atomic<bool> m_running{true};
  std::mutex m_mutex;
  Names m_seen;
  std::thread m_thread;
};

// Reloads every LB (SIGUSR2) under wrk, then restarts every one from its
// file, then puts wrk through them again; `view` must hold after each.
void reload_and_restart_every_lb(Stack& stack, const Strings& view) {
  TempDir logs;
  {
    Load load1(stack.lb(0).frontend_port(), logs / "wrk1.txt");
    Load load2(stack.lb(1).frontend_port(), logs / "wrk2.txt");
    for (std::size_t i = 0; i < stack.lb_count(); ++i) {
      const auto before = stack.lb(i).worker_pid();
      CHECK(stack.lb(i).reload() != before);
      CHECK(view_is(stack, view));
    }
    std::this_thread::sleep_for(1s);  // requests through the new workers too
    check_no_failures(load1, "lb1");
    check_no_failures(load2, "lb2");
  }
  // A restart stops HAProxy: while it is down nothing listens on the
  // frontend port and connections are refused, which wrk would count. So no
  // wrk across the restarts; a fresh one proves the restarted LBs serve.
  for (std::size_t i = 0; i < stack.lb_count(); ++i) {
    stack.lb(i).restart();
    CHECK(view_is(stack, view));
  }
  Load fresh1(stack.lb(0).frontend_port(), logs / "wrk1-after-restart.txt");
  Load fresh2(stack.lb(1).frontend_port(), logs / "wrk2-after-restart.txt");
  std::this_thread::sleep_for(1500ms);
  check_no_failures(fresh1, "lb1, restarted");
  check_no_failures(fresh2, "lb2, restarted");
}

// The line of `text` that holds `needle` at or after `from`, with its line end.
std::string line_with(const std::string& text, const std::string& needle, std::size_t from = 0) {
  const auto at = text.find(needle, from);
  REQUIRE(at != std::string::npos);
  const auto begin = text.rfind('\n', at);
  const auto start = begin == std::string::npos ? 0 : begin + 1;
  const auto end = text.find('\n', at);
  return text.substr(start, end == std::string::npos ? std::string::npos : end + 1 - start);
}

void replace_once(std::string& text, const std::string& what, const std::string& with) {
  const auto at = text.find(what);
  REQUIRE(at != std::string::npos);
  REQUIRE(text.find(what, at + 1) == std::string::npos);
  text.replace(at, what.size(), with);
}

// The line lbctl writes for a server it added, from what the LB holds:
// "server NAME ADDRESS id ID OPTIONS".
std::string new_server_line(HaproxyFixture& lb, const std::string& name, const std::string& indent) {
  const auto address = lb.stat_field(name, "addr");
  const auto id = lb.stat_field(name, "sid");
  REQUIRE(!address.empty());
  REQUIRE(!id.empty());
  return indent + "server " + name + " " + address + " id " + id + " " + k_server_options;
}

// The LB names of every "reloaded" event in lbctl's --json output.
Names reloaded_lbs(const std::string& out) {
  Names lbs;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    const auto event = nlohmann::json::parse(line, nullptr, false);
    if (event.is_discarded() || !event.is_object() || event.value("event", "") != "reloaded") continue;
    const auto named = event.value("details", nlohmann::json::object()).value("load_balancers", Strings{});
    lbs.insert(named.begin(), named.end());
  }
  return lbs;
}

// The generated haproxy.cfg as a person keeps one: comments, tabs, odd
// spacing, a trailing comment on the backend's header, a comment between
// the server lines, and another backend with a server named like an old one.
std::string hand_kept(const std::string& generated) {
  const auto backend_at = generated.find("\nbackend app\n");
  REQUIRE(backend_at != std::string::npos);
  std::string head = generated.substr(0, backend_at + 1);
  replace_once(head, "defaults\n", "defaults   # for every proxy below\n");
  replace_once(head, "  mode http\n", "\tmode\thttp\n");
  replace_once(head, "  timeout connect 2s\n", "  timeout   connect  2s\t# loopback only\n");
  std::smatch m;
  const std::regex server(R"(server (old-\d+) (\S+) )");
  std::vector<std::string> addresses;
  for (auto it = generated.cbegin(); std::regex_search(it, generated.cend(), m, server); it = m.suffix().first) {
    addresses.push_back(m[2]);
  }
  REQUIRE(addresses.size() == 2);
  return "# shop: haproxy.cfg, kept by hand\n"
         "\n" +
         head +
         "\n"
         "# The pool lbctl manages.\n"
         "backend app   # blue-green\n"
         "\tbalance\troundrobin\n"
         "  option httpchk GET /health-check.html\n"
         "\thttp-check   disable-on-404\n"
         "\n"
         "\t# the old pool\n"
         "\tserver   old-1\t" + addresses[0] + "  check inter 200ms fall 2   rise 2   # the first\n"
         "    # between the servers\n"
         "\tserver old-2 " + addresses[1] + " check\tinter 200ms fall 2 rise 2\n"
         "\n"
         "# Not lbctl's: a server named like an old one, in another backend.\n"
         "backend other\n"
         "    balance roundrobin\n"
         "    server old-1 127.0.0.1:9 disabled\n";
}

// What lbctl must make of a hand_kept() file after a completed cutover: the
// two old lines gone, the new ones where the last old line was, indented
// like it; every other byte as it was.
std::string hand_kept_after_cutover(const std::string& original, HaproxyFixture& lb) {
  const auto backend_at = original.find("backend app ");
  std::string expected = original;
  replace_once(expected, line_with(original, "old-1\t", backend_at), "");
  replace_once(expected, line_with(original, "server old-2 ", backend_at),
               new_server_line(lb, "v2-1", "\t") + "\n" + new_server_line(lb, "v2-2", "\t") + "\n");
  return expected;
}

}  // namespace

TEST_CASE("after a completed cutover, reloads and restarts keep the new pool UP and the old one never comes back",
          "[e2e][reload][both-haproxy]") {
  Stack stack(reload_proof());
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.find("no persist") == std::string::npos);
  CHECK(run.out.find("no master_api") == std::string::npos);
  REQUIRE(stack.fleet_view() == k_done_view);
  for (const auto& text : persisted_files(stack)) {
    INFO(text);
    CHECK(text.find("server v2-1 127.0.0.1:") != std::string::npos);
    CHECK(text.find("server v2-2 127.0.0.1:") != std::string::npos);
    CHECK(text.find("old-") == std::string::npos);
  }
  NameSampler names(stack);
  reload_and_restart_every_lb(stack, k_done_view);
  CHECK(names.stop() == Names{"v2-1", "v2-2"});
  CHECK_FALSE(stack.server_running("old-1"));
}

TEST_CASE("after a rolled-back cutover the files are the originals and reloads and restarts keep the old pool",
          "[e2e][reload][both-haproxy]") {
  const auto how = GENERATE(as<std::string>{}, "a new server fails its check", "lbctl abort during the drain");
  INFO("rolled back by " << how);
  StackOptions options = reload_proof();
  if (how == "a new server fails its check") {
    options.new_server_args = {"--health-file", "not-the-checked-file.html", "--status", "500"};
  }
  Stack stack(options);
  const auto originals = persisted_files(stack);
  if (how == "a new server fails its check") {
    const auto run = stack.lbctl({"cutover", "--yes"});
    INFO(run.out);
    CHECK(run.exit_code == 1);
    CHECK(run.out.find("rolled back") != std::string::npos);
  } else {
    // A held request keeps the drain open until the abort.
    auto held =
        std::async(std::launch::async, [&] { return http_get(stack.lb(0).frontend_port(), "/slow?ms=10000", 30s); });
    TempDir logs;
    auto cutover = stack.start_lbctl({"cutover", "--yes"}, logs / "cutover.txt");
    REQUIRE(eventually([&] { return read_file(logs / "cutover.txt").find("watch started") != std::string::npos; }, 60s));
    // The files held the new servers while they were attached.
    for (const auto& text : persisted_files(stack)) CHECK(text.find("server v2-1 ") != std::string::npos);
    const auto aborted = stack.lbctl({"abort"});
    INFO(read_file(logs / "cutover.txt") << "\n--- abort:\n" << aborted.out);
    CHECK(aborted.exit_code == 0);
    CHECK(cutover->wait(30s) == 1);
    CHECK(held.get().status == 200);
  }
  CHECK(persisted_files(stack) == originals);
  REQUIRE(stack.fleet_view() == k_original_view);
  NameSampler names(stack);
  reload_and_restart_every_lb(stack, k_original_view);
  CHECK(names.stop() == Names{"old-1", "old-2"});
  CHECK(persisted_files(stack) == originals);
  CHECK_FALSE(stack.server_running("v2-1"));
}

TEST_CASE("a reload during the attach and one during the drain: exit 0, held requests end 200, 0 failed requests",
          "[e2e][reload][both-haproxy]") {
  StackOptions options = reload_proof();
  options.migrations = false;  // the drain comes sooner
  Stack stack(options);
  // Requests held on the old servers through lb2 from before the cutover:
  // lb2's reload leaves them to its old worker, which the drain must wait
  // for. Long enough to outlast the steps before the drain (5-8 s here).
  constexpr int k_held = 4;
  std::vector<std::future<HttpReply>> held;
  for (int i = 0; i < k_held; ++i) {
    held.push_back(
        std::async(std::launch::async, [&] { return http_get(stack.lb(1).frontend_port(), "/slow?ms=12000", 30s); }));
  }
  REQUIRE(eventually([&] {
    const auto scur = [&](const char* name) { return std::atoi(stack.lb(1).stat_field(name, "scur").c_str()); };
    return scur("old-1") + scur("old-2") == k_held;
  }, 3s));
  TempDir logs;
  Load load1(stack.lb(0).frontend_port(), logs / "wrk1.txt");
  Load load2(stack.lb(1).frontend_port(), logs / "wrk2.txt");
  const auto started = std::chrono::steady_clock::now();
  auto cutover = stack.start_lbctl({"cutover", "--yes", "--json"}, logs / "cutover.txt");
  // Each wait also ends when lbctl does (it rolled back): its output says why.
  const auto until = [&](auto condition) {
    if (!eventually([&] { return condition() || !cutover->running(); }, 60s) || !condition()) {
      FAIL("lbctl's output:\n" << read_file(logs / "cutover.txt"));
    }
  };
  // lb1 reloads (through its master CLI) as soon as the new servers appear
  // there (lbctl adds them in MAINT while it verifies them).
  until([&] { return !stack.lb(0).status("v2-1").empty(); });
  stack.lb(0).reload_via_master_cli();
  // lb2 reloads (SIGUSR2) once an old server stopped taking new sessions there.
  until([&] { return stack.lb(1).status("old-1") == "NOLB" || stack.lb(1).status("old-2") == "NOLB"; });
  const auto drain_seen = std::chrono::steady_clock::now() - started;
  stack.lb(1).reload();
  // The held requests are now the old worker's alone: the new one does not count them.
  CHECK(!stack.lb(1).old_workers().empty());
  const int exit_code = cutover->wait(120s);
  const auto out = read_file(logs / "cutover.txt");
  INFO(out);
  INFO("the drain began " << std::chrono::duration_cast<std::chrono::milliseconds>(drain_seen).count()
                          << " ms after the start");
  CHECK(exit_code == 0);
  for (auto& reply : held) CHECK(reply.get().status == 200);
  check_no_failures(load1, "lb1");
  check_no_failures(load2, "lb2");
  CHECK(stack.fleet_view() == k_done_view);
  CHECK(reloaded_lbs(out) == Names{"lb1", "lb2"});
  CHECK_FALSE(stack.server_running("old-1"));
  CHECK_FALSE(stack.server_running("old-2"));
  for (const auto& text : persisted_files(stack)) CHECK(text.find("old-") == std::string::npos);
  // The journal has them too.
  CHECK(stack.postgres().query_value("SELECT string_agg(DISTINCT lb, ',' ORDER BY lb) FROM lbctl.events, "
                                     "jsonb_array_elements_text(detail->'load_balancers') AS lb WHERE kind = 'reloaded'",
                                     "lbctl") == "lb1,lb2");
  CHECK(nlohmann::json::parse(stack.lbctl({"status", "--json"}).out)["cutover"]["status"] == "completed");
}

TEST_CASE("the maintenance page survives reloads and a restart while on, and stays off after them once off",
          "[e2e][reload][both-haproxy]") {
  StackOptions options = reload_proof();
  options.maintenance = true;
  options.migrations = false;
  Stack stack(options);
  const auto on = stack.lbctl({"maintenance", "on", "--message", "Upgrading"});
  INFO(on.out);
  REQUIRE(on.exit_code == 0);
  CHECK(read_file(stack.maintenance_map()) == "maintenance Upgrading\n");
  const auto page_everywhere = [&](int status, const std::string& body) {
    for (std::size_t i = 0; i < stack.lb_count(); ++i) {
      const auto reply = http_get(stack.lb(i).frontend_port(), "/");
      INFO("lb" << i + 1);
      CHECK(reply.status == status);
      if (!body.empty()) CHECK(reply.body == body);
    }
  };
  stack.lb(0).reload();
  stack.lb(1).reload_via_master_cli();
  page_everywhere(503, "Upgrading");
  stack.lb(0).restart();
  page_everywhere(503, "Upgrading");
  const auto off = stack.lbctl({"maintenance", "off"});
  INFO(off.out);
  REQUIRE(off.exit_code == 0);
  CHECK(read_file(stack.maintenance_map()).empty());
  page_everywhere(200, "");
  stack.lb(0).reload();
  stack.lb(1).reload();
  page_everywhere(200, "");
  stack.lb(1).restart();
  page_everywhere(200, "");
}

TEST_CASE("a hand-kept file is byte for byte the original outside the backend's server lines after a cutover",
          "[e2e][reload][both-haproxy]") {
  StackOptions options = reload_proof();
  options.migrations = false;
  options.edit_lb_config = [](std::size_t, const std::string& generated) { return hand_kept(generated); };
  Stack stack(options);
  const auto originals = persisted_files(stack);
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  REQUIRE(run.exit_code == 0);
  const auto after = persisted_files(stack);
  for (std::size_t i = 0; i < stack.lb_count(); ++i) {
    INFO("lb" << i + 1);
    CHECK(after[i] == hand_kept_after_cutover(originals[i], stack.lb(i)));
  }
  // HAProxy reads it back as the cutover left it.
  for (std::size_t i = 0; i < stack.lb_count(); ++i) stack.lb(i).reload();
  CHECK(view_is(stack, k_done_view));
}

TEST_CASE("a check that refuses the rewritten file rolls the cutover back with its output and keeps the file",
          "[e2e][reload][both-haproxy]") {
  StackOptions options = reload_proof();
  options.migrations = false;
  options.edit_lb_config = [](std::size_t, const std::string& generated) { return hand_kept(generated); };
  // Passes on the file as it is (preflight runs it), refuses any v2 server.
  options.persist_check = {"sh", "-c",
                           "if grep -q v2- \"$0\"; then echo \"test check: v2 servers are not welcome\"; exit 1; fi",
                           "{file}"};
  Stack stack(options);
  const auto originals = persisted_files(stack);
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("test check: v2 servers are not welcome") != std::string::npos);
  CHECK(run.out.find("rolled back") != std::string::npos);
  CHECK(persisted_files(stack) == originals);
  CHECK(stack.fleet_view() == k_original_view);
  CHECK_FALSE(stack.server_running("v2-1"));
  CHECK_FALSE(stack.server_running("v2-2"));
}

TEST_CASE("a persist file lbctl cannot keep exactly is refused before anything changes: exit 2 naming file and line",
          "[e2e][reload][both-haproxy]") {
  struct Hostile {
    std::string name;
    std::string appended;  // backend app is the file's last section
    std::string says;      // in the message, after "line N: "
  };
  const auto hostile = GENERATE(
      Hostile{"the backend twice", "backend app\n    balance roundrobin\n", "a second `backend app`"},
      Hostile{"a server-template in the backend", "  server-template extra 2 127.0.0.1:9 check\n", "`server-template`"});
  INFO(hostile.name);
  Stack stack(reload_proof());
  // Written after HAProxy started: it keeps running its good config.
  const auto& file = stack.lb(1).config_file();
  const auto good = read_file(file);
  const auto bad_line = std::count(good.begin(), good.end(), '\n') + 1;
  std::ofstream(file, std::ios::app | std::ios::binary) << hostile.appended;
  const auto originals = persisted_files(stack);
  for (const auto& command : {Strings{"plan"}, Strings{"cutover", "--yes"}}) {
    const auto run = stack.lbctl(command);
    INFO(command.front() << ":\n" << run.out);
    CHECK(run.exit_code == 2);
    CHECK(run.out.find(file.string()) != std::string::npos);
    CHECK(run.out.find("line " + std::to_string(bad_line) + ": " + hostile.says) != std::string::npos);
    CHECK(run.out.find("lb2") != std::string::npos);
  }
  CHECK(stack.fleet_view() == k_original_view);
  CHECK(persisted_files(stack) == originals);
  CHECK_FALSE(stack.server_running("v2-1"));
  CHECK_FALSE(stack.orders_has_column("total_cents"));
}

TEST_CASE("a check that fails on the file as it is stops the cutover before any change: exit 2", "[e2e][reload][both-haproxy]") {
  Stack stack(reload_proof());
  // HAProxy 2.6 refuses a last line without LF ("Missing LF on last line"),
  // and so does the `haproxy -c` check, on the file before any change.
  const auto& file = stack.lb(0).config_file();
  auto text = read_file(file);
  text.pop_back();
  std::ofstream(file, std::ios::trunc | std::ios::binary) << text;
  for (const auto& command : {Strings{"plan"}, Strings{"cutover", "--yes"}}) {
    const auto run = stack.lbctl(command);
    INFO(command.front() << ":\n" << run.out);
    CHECK(run.exit_code == 2);
    CHECK(run.out.find(file.string()) != std::string::npos);
    CHECK(run.out.find("the check fails on the file as it is now") != std::string::npos);
  }
  CHECK(read_file(file) == text);
  CHECK(stack.fleet_view() == k_original_view);
  CHECK_FALSE(stack.server_running("v2-1"));
  CHECK_FALSE(stack.orders_has_column("total_cents"));
}

TEST_CASE("a CRLF file keeps its CRLF and a file without a final newline still has none after a cutover",
          "[e2e][reload][both-haproxy]") {
  const bool crlf = GENERATE(true, false);
  INFO((crlf ? "CRLF" : "no final newline"));
  StackOptions options = reload_proof();
  options.migrations = false;
  if (crlf) {
    options.edit_lb_config = [](std::size_t, const std::string& generated) {
      return std::regex_replace(generated, std::regex("\n"), "\r\n");
    };
  } else {
    // HAProxy 2.6 does not load such a file (nor does `haproxy -c` pass it):
    // it started from the file with its newline, which was then taken off,
    // and the LBs are persisted without a check.
    options.persist_check = {};
  }
  Stack stack(options);
  if (!crlf) {
    for (std::size_t i = 0; i < stack.lb_count(); ++i) {
      auto text = read_file(stack.lb(i).config_file());
      text.pop_back();
      std::ofstream(stack.lb(i).config_file(), std::ios::trunc | std::ios::binary) << text;
    }
  }
  const auto originals = persisted_files(stack);
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  REQUIRE(run.exit_code == 0);
  const std::string eol = crlf ? "\r\n" : "\n";
  const auto after = persisted_files(stack);
  for (std::size_t i = 0; i < stack.lb_count(); ++i) {
    INFO("lb" << i + 1);
    // The old servers were the backend's, and the file's, last two lines.
    auto expected = originals[i];
    const auto old1 = line_with(expected, "  server old-1 ");
    const auto old2 = line_with(expected, "  server old-2 ");
    REQUIRE(expected.ends_with(old2));
    expected.erase(expected.size() - old1.size() - old2.size());
    expected += new_server_line(stack.lb(i), "v2-1", "  ") + eol + new_server_line(stack.lb(i), "v2-2", "  ");
    if (crlf) expected += eol;
    CHECK(after[i] == expected);
    if (crlf) CHECK(std::regex_search(after[i], std::regex("[^\r]\n")) == false);
    if (!crlf) CHECK(after[i].back() != '\n');
  }
  if (crlf) {
    // HAProxy reads the rewritten CRLF file back as the cutover left it.
    for (std::size_t i = 0; i < stack.lb_count(); ++i) stack.lb(i).reload();
    CHECK(view_is(stack, k_done_view));
  }
}
