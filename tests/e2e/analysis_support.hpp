#pragma once
// What the analysis end-to-end tests share: the config they analyse with,
// reading the analysis events out of lbctl's --json output, and the checks
// of an end state.

#include "tests/support/catch.hpp"

#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "tests/e2e/stack.hpp"
#include "tests/e2e/under_load.hpp"
#include "tests/support/prometheus_fixture.hpp"

namespace lbctl::test::analysis_e2e {

using namespace std::chrono_literals;
using Strings = std::vector<std::string>;
using Json = nlohmann::json;


inline constexpr auto k_error_ratio = "{haproxy: error_ratio, max: 0.01, max_vs_old: 2.0}";
inline constexpr auto k_response_time = "{haproxy: response_time, max_vs_old: 1.5}";

// One stage at 50% held `hold`, one measurement every 2 s, each metric a YAML
// flow map (or a block whose lines follow "- ").
inline std::string analysis_config(const Strings& metrics, const std::string& hold = "6s",
                            const std::string& on_inconclusive = "fail") {
  std::string yaml = "stages:\n  - {weight_percent: 50, hold: " + hold +
                     "}\n"
                     "analysis:\n  interval: 2s\n  failure_limit: 1\n  min_requests: 20\n  on_inconclusive: " +
                     on_inconclusive + "\n  metrics:\n";
  for (const auto& metric : metrics) yaml += "    - " + metric + "\n";
  return yaml;
}

inline StackOptions analysed(const Strings& metrics, const std::string& hold = "6s") {
  StackOptions options;
  options.migrations = false;  // the stage comes sooner
  options.extra_config = analysis_config(metrics, hold);
  return options;
}

inline std::vector<Json> json_lines(const std::string& text) {
  std::vector<Json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto json = Json::parse(line, nullptr, false);
    if (json.is_object() && json.contains("event")) out.push_back(std::move(json));
  }
  return out;
}

// The details of every `analysis` event, in order.
inline std::vector<Json> analysis_events(const std::string& out) {
  std::vector<Json> events;
  for (const auto& line : json_lines(out)) {
    if (line["event"] == "analysis") events.push_back(line["details"]);
  }
  return events;
}

inline std::size_t count_verdict(const std::vector<Json>& events, const std::string& verdict) {
  return static_cast<std::size_t>(
      std::count_if(events.begin(), events.end(), [&](const Json& e) { return e.value("verdict", "") == verdict; }));
}

// The final line's message (`{"event":"exit",...}`), "" without one.
inline std::string exit_message(const std::string& out) {
  for (const auto& line : json_lines(out)) {
    if (line["event"] == "exit") return line.value("message", "");
  }
  return "";
}

inline std::set<std::string> reloaded_lbs(const std::string& out) {
  std::set<std::string> lbs;
  for (const auto& line : json_lines(out)) {
    if (line["event"] != "reloaded") continue;
    for (const auto& lb : line["details"].value("load_balancers", Json::array())) lbs.insert(lb.get<std::string>());
  }
  return lbs;
}

// One field of one row of the LB's `show stat` for the backend `app`
// (`type`: 1 the frontends, 2 the backend, 4 the servers); "" when absent.
inline std::string stat_of(HaproxyFixture& lb, const std::string& proxy, int type, const std::string& row,
                    const std::string& field) {
  std::istringstream lines(lb.command("show stat " + proxy + " " + std::to_string(type) + " -1"));
  std::vector<std::string> header;
  auto split = [](const std::string& line) {
    Strings out;
    std::istringstream in(line);
    for (std::string f; std::getline(in, f, ',');) out.push_back(f);
    return out;
  };
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# ", 0) == 0) {
      header = split(line.substr(2));
      continue;
    }
    const auto fields = split(line);
    if (fields.size() < 2 || fields[1] != row) continue;
    for (std::size_t i = 0; i < header.size() && i < fields.size(); ++i) {
      if (header[i] == field) return fields[i];
    }
  }
  return "";
}

inline long stat_number(HaproxyFixture& lb, const std::string& proxy, int type, const std::string& row,
                 const std::string& field) {
  const auto text = stat_of(lb, proxy, type, row, field);
  REQUIRE(!text.empty());
  return std::stol(text);
}


// Rolled back: the old pool UP on both LBs at its full weight, the new one gone.
inline void check_old_pool_back(Stack& stack) {
  CHECK(sorted_view(stack) == k_original_view);
  for (std::size_t i = 0; i < stack.lb_count(); ++i) {
    for (const auto& name : stack.old_names()) CHECK(stack.lb(i).stat_field(name, "uweight") == "1");
  }
  CHECK(stack.server_running("old-1"));
  CHECK(stack.server_running("old-2"));
  CHECK_FALSE(stack.server_running("v2-1"));
  CHECK_FALSE(stack.server_running("v2-2"));
}

// The analysis failed (rolled back) at its first conclusive measurement, which
// is the only failed one; returns that measurement.
inline Json check_failed_at_first_measurement(const std::string& out) {
  const auto events = analysis_events(out);
  REQUIRE(!events.empty());
  CHECK(count_verdict(events, "fail") == 1);
  const auto first = std::find_if(events.begin(), events.end(),
                                  [](const Json& e) { return e.value("verdict", "") != "inconclusive"; });
  REQUIRE(first != events.end());
  CHECK(first->value("verdict", "") == "fail");
  CHECK(first + 1 == events.end());  // no measurement after it: rolled back there
  return *first;
}

// The one metric result named `metric` in a measurement.
inline Json metric_in(const Json& measurement, const std::string& metric) {
  for (const auto& m : measurement["metrics"]) {
    if (m.value("metric", "") == metric) return m;
  }
  FAIL("no " << metric << " in " << measurement.dump());
  return {};
}

// Writes an executable /bin/sh script.
inline std::string script(const TempDir& dir, const std::string& name, const std::string& body) {
  const auto path = dir.write(name, "#!/bin/sh\n" + body);
  ::chmod(path.c_str(), 0755);
  return path.string();
}

// True when a process whose environment holds `marker` is alive.
inline bool process_with_marker(const std::string& marker) {
  std::error_code ec;
  for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = proc.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream environ(proc.path() / "environ", std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(environ)), std::istreambuf_iterator<char>());
    if (text.find(marker) != std::string::npos) return true;
  }
  return false;
}

// Both pools answer in 20 ms, as the slow case's old pool does. (Answers of
// about 1 ms compare the test machine's scheduler, not the pools: the local
// provider starts each new server in a session of its own, and with the
// kernel's autogroup scheduling on 2 busy CPUs those read 5-7 ms against the
// old servers' 1 ms, measured straight at the servers too; over the 5 ms floor.)
inline StackOptions healthy(const Strings& metrics, const std::string& hold = "6s") {
  StackOptions options = analysed(metrics, hold);
  options.old_server_args = {"--delay-ms", "20"};
  options.new_server_args = {"--delay-ms", "20"};
  return options;
}

}  // namespace lbctl::test::analysis_e2e
