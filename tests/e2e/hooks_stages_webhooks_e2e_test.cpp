// Issue 6 against the real stack: staged traffic gated on HAProxy's 5xx
// counters, hooks run as real processes, webhooks to a real receiver.

#include "tests/support/catch.hpp"

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/e2e/stack.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

const std::string k_data = std::string(LBCTL_SOURCE_DIR) + "/tests/data/";

std::vector<nlohmann::json> parse_json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

}  // namespace

TEST_CASE("a staged cutover whose new pool answers 500 rolls back at its first stage with the old pool UP", "[e2e][stages][both-haproxy]") {
  StackOptions options;
  options.new_server_args = {"--status", "500"};  // health file fine, every request 500
  options.migrations = false;
  options.extra_config =
      "stages:\n  - {weight_percent: 50, hold: 30s, max_5xx_ratio: 0.01}\n  - {weight_percent: 100, hold: 0s}\n";
  Stack stack(options);
  TempDir logs;
  Load load1(stack.lb(0).frontend_port(), logs / "wrk1.txt");
  Load load2(stack.lb(1).frontend_port(), logs / "wrk2.txt");
  const auto started = std::chrono::steady_clock::now();
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("stage 1: the new pool answered") != std::string::npos);
  CHECK(run.out.find("over max_5xx_ratio 0.01") != std::string::npos);
  // It did not wait out the 30 s hold.
  CHECK(std::chrono::steady_clock::now() - started < 25s);
  CHECK(stack.fleet_view() == k_original_view);
  CHECK(stack.lb(0).stat_field("old-1", "uweight") == "1");
  CHECK_FALSE(stack.server_running("v2-1"));
}

TEST_CASE("hooks receive the cutover's facts as environment variables", "[e2e][hooks]") {
  TempDir out;
  const auto record = (out / "hooks.jsonl").string();
  StackOptions options;
  options.migrations = false;
  options.extra_config = "hooks:\n  before_attach: [\"" + k_data + "record_env_hook.py\", \"" + record + "\"]\n" +
                         "  after_cutover: {command: [\"" + k_data + "record_env_hook.py\", \"" + record +
                         "\"], timeout: 10s}\n";
  // libpq's secrets in lbctl's environment (the local socket trusts, so they are not needed to connect).
  options.env = {{"PGPASSWORD", "pg-secret"}, {"PGPASSFILE", "/nonexistent/pgpass"}};
  Stack stack(options);
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  REQUIRE(run.exit_code == 0);
  const auto calls = parse_json_lines(read_file(record));
  REQUIRE(calls.size() == 2);
  CHECK(calls[0]["LBCTL_SERVICE"] == "shop");
  CHECK(calls[0]["LBCTL_CUTOVER_ID"] == "1");
  CHECK(calls[0]["LBCTL_STEP"] == "attach");
  CHECK(calls[0]["LBCTL_HOOK"] == "before_attach");
  CHECK(calls[0]["LBCTL_OLD_SERVERS"].get<std::string>().find("old-1=127.0.0.1:") == 0);
  CHECK(calls[0]["LBCTL_NEW_SERVERS"].get<std::string>().find("v2-1=127.0.0.1:") == 0);
  CHECK(calls[1]["LBCTL_HOOK"] == "after_cutover");
  // lbctl's own secrets are withheld; the rest of its environment is passed on.
  CHECK_FALSE(calls[0].contains("LBCTL_STATE_DATABASE_URL"));
  CHECK_FALSE(calls[0].contains("LBCTL_MIGRATIONS_DATABASE_URL"));
  CHECK_FALSE(calls[0].contains("PGPASSWORD"));
  CHECK_FALSE(calls[0].contains("PGPASSFILE"));
  CHECK(calls[0]["LBCTL_APP_DATABASE_URL"] == "(set)");
}

TEST_CASE("a failing hook rolls the cutover back, its stderr in the message and the journal", "[e2e][hooks]") {
  TempDir out;
  const auto record = (out / "hooks.jsonl").string();
  StackOptions options;
  options.migrations = false;
  options.extra_config = "hooks:\n  before_drain: [\"" + k_data + "record_env_hook.py\", \"" + record + "\", \"3\"]\n";
  Stack stack(options);
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("hook before_drain") != std::string::npos);
  CHECK(run.out.find("exited 3: workers refused to stop") != std::string::npos);
  CHECK(stack.fleet_view() == k_original_view);
  CHECK(stack.postgres().query_value("SELECT count(*) FROM lbctl.events WHERE kind = 'hook_failed' AND "
                                     "detail->>'stderr' LIKE '%workers refused to stop%'",
                                     "lbctl") == "1");
}

TEST_CASE("a webhook receiver gets the events in order", "[e2e][webhooks]") {
  TempDir out;
  const auto port = free_port();
  ChildProcess receiver({"python3", k_data + "webhook_receiver.py", std::to_string(port), (out / "posts.jsonl").string()});
  REQUIRE(wait_for_port(port, 10s));
  StackOptions options;
  options.migrations = false;
  options.extra_config = "notifications:\n  webhooks:\n    - url: \"http://127.0.0.1:" + std::to_string(port) +
                         "/hooks/SECRET-TOKEN\"\n      events: [started, step, completed]\n      timeout: 5s\n";
  Stack stack(options);
  const auto run = stack.lbctl({"cutover", "--yes"});
  INFO(run.out);
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.find("SECRET-TOKEN") == std::string::npos);
  const auto posts = parse_json_lines(read_file(out / "posts.jsonl"));
  Strings seen;
  for (const auto& post : posts) {
    seen.push_back(post["event"].get<std::string>() + ":" + post["step"].get<std::string>());
    CHECK(post["service"] == "shop");
    CHECK(post["text"].get<std::string>().rfind("lbctl shop cutover 1 (release r1): ", 0) == 0);
  }
  CHECK(seen == Strings{"started:preflight", "step:preflight", "step:backup", "step:pre_migrate", "step:freeze",
                        "step:clone",        "step:verify",     "step:attach", "step:drain",       "step:watch",
                        "step:detach",       "step:post_migrate", "step:unfreeze", "step:terminate", "completed:terminate"});
}

TEST_CASE("a webhook receiver that never answers delays the cutover by no more than its timeout", "[e2e][webhooks]") {
  const auto port = free_port();
  TempDir out;
  ChildProcess receiver({"python3", k_data + "webhook_receiver.py", std::to_string(port), (out / "x").string(), "--hang"});
  REQUIRE(wait_for_port(port, 10s));
  StackOptions options;
  options.migrations = false;
  options.extra_config = "notifications:\n  webhooks:\n    - url: \"http://127.0.0.1:" + std::to_string(port) +
                         "/hook\"\n      timeout: 2s\n";
  Stack stack(options);
  const auto started = std::chrono::steady_clock::now();
  const auto run = stack.lbctl({"cutover", "--yes", "--json"});
  const auto took = std::chrono::steady_clock::now() - started;
  INFO(run.out);
  REQUIRE(run.exit_code == 0);
  // The cutover's own work, from its first to its last event.
  const auto lines = parse_json_lines(run.out.substr(0, run.out.find("lbctl: webhook")));
  auto parse_time = [](const nlohmann::json& e) { return e["time"].get<std::string>(); };
  REQUIRE(lines.size() > 3);
  const auto first = parse_time(lines.front());
  const auto last = parse_time(lines[lines.size() - 2]);  // the final line is the exit summary
  auto seconds_of = [](const std::string& t) {
    return std::stod(t.substr(11, 2)) * 3600 + std::stod(t.substr(14, 2)) * 60 + std::stod(t.substr(17, 6));
  };
  const double work = seconds_of(last) - seconds_of(first);
  const double total = std::chrono::duration<double>(took).count();
  CHECK(total - work < 2.0 + 1.5);  // the timeout, plus start-up and exit
  CHECK(run.out.find("not delivered") != std::string::npos);
}
