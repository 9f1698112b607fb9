#pragma once
// The analysis, pure: HAProxy's counters turned into one interval's values
// per pool (deltas between two reads, summed over the LBs, an LB whose
// counters went down restarting its baseline), each metric judged against its
// limits and the old pool, and the verdict across measurements
// (failure_limit in a row). No I/O: analysis_run.cpp reads the sources and
// feeds these.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lbctl/config/config.hpp"
#include "pools/stats.hpp"

namespace lbctl {

enum class Verdict { pass, fail, inconclusive };
std::string_view to_string(Verdict verdict);

// One pool's traffic over one interval, summed over the LBs.
struct PoolInterval {
  std::uint64_t responses = 0;
  std::uint64_t errors = 0;          // 5xx + eresp + econ
  double rtime_weighted = 0;         // sum of each server's rtime x its responses
  std::optional<double> error_ratio() const;
  std::optional<double> response_time() const;  // ms, weighted by responses
};

struct CounterInterval {
  PoolInterval new_pool;
  PoolInterval old_pool;
  std::vector<std::string> restarted;  // LBs whose counters went down (a reload): left out this interval
  bool first = false;                  // the first read: a baseline, no interval yet
};

// Per LB and server, the counters last read.
class HaproxyCounters {
 public:
  // `lbs` names each LB (for `restarted`).
  CounterInterval read(const std::vector<std::string>& lbs, const std::vector<std::vector<pools::ServerStat>>& stats,
                       const std::set<std::string>& new_pool, const std::set<std::string>& old_pool);
  // Forgets every baseline (the next read starts again).
  void reset() { m_last.clear(); }

 private:
  struct Last {
    std::uint64_t responses = 0;
    std::uint64_t errors = 0;
  };
  std::vector<std::unordered_map<std::string, Last>> m_last;  // per LB
};

// One metric in one measurement.
struct MetricResult {
  std::string metric;  // "error_ratio", "response_time", "prometheus", "command"
  std::optional<double> new_value;
  std::optional<double> old_value;
  std::string threshold;  // "max 0.01, max_vs_old 2 (floor 0.001)"
  Verdict verdict = Verdict::inconclusive;
  std::string why;  // "0.052 > max 0.01"; why it is inconclusive; "" when it passed
};
void to_json(nlohmann::json& json, const MetricResult& result);

struct Measurement {
  std::vector<MetricResult> metrics;
  Verdict verdict = Verdict::inconclusive;  // fail if one failed, else inconclusive if one was, else pass
  std::uint64_t new_responses = 0;
  std::uint64_t old_responses = 0;

  // Sets `verdict` from the metrics.
  void conclude();
  // "error_ratio 0.0520 (old 0.0000) over max 0.01; response_time 12 ms (old 10 ms) pass"
  std::string summary() const;
  // The failed metrics only: "error_ratio: new 0.0520, old 0.0000, over max 0.01"
  std::string failures() const;
};
void to_json(nlohmann::json& json, const Measurement& measurement);

// "max 0.01, max_vs_old 2 (floor 0.001)"
std::string describe_limits(const AnalysisMetric& metric);
// A value against the metric's own limits (max, min; max_vs_old when `old`
// is known, never failing a value at or under the floor).
MetricResult judge(const AnalysisMetric& metric, std::optional<double> value, std::optional<double> old);
// A haproxy metric over one interval: inconclusive under min_requests.
MetricResult judge_haproxy(const AnalysisMetric& metric, const CounterInterval& interval, std::uint64_t min_requests);

// The verdict across measurements: fail once failure_limit measurements in
// a row failed (an inconclusive one in between neither adds nor resets).
class Judge {
 public:
  explicit Judge(int failure_limit) : m_limit(failure_limit) {}
  // True when the verdict is now fail.
  bool add(const Measurement& measurement);
  bool any_conclusive() const { return m_conclusive > 0; }
  int failures_in_a_row() const { return m_in_a_row; }
  std::size_t measurements() const { return m_count; }

 private:
  int m_limit;
  int m_in_a_row = 0;
  std::size_t m_conclusive = 0;
  std::size_t m_count = 0;
};

}  // namespace lbctl
