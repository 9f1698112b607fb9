#pragma once
// The analysis while a cutover holds (a stage's hold, the promotion pause,
// the undo window): one measurement per analysis.interval from HAProxy's
// counters (the fleet read the step already made), Prometheus and commands,
// each journaled as an `analysis` event; a fail verdict fails the step, which
// rolls the cutover back (or undoes it, in the undo window).

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lbctl/cutover/analysis.hpp"
#include "lbctl/cutover/cutover_run.hpp"

namespace lbctl {

class AnalysisRun {
 public:
  AnalysisRun(CutoverRun& run, Step step);
  bool enabled() const { return m_config != nullptr; }
  // With this poll's read of every LB: the first read is the baseline; a
  // measurement when an interval has passed since the last one. Fails
  // (refused) when the verdict is fail, naming each failed metric, its new
  // and old values and its limits.
  boost::asio::awaitable<Result<void>> poll(std::vector<std::vector<pools::ServerStat>> stats);
  // At the end of a stage's hold (`what`: "stage 2"): not one conclusive
  // measurement is analysis.on_inconclusive (fail: the step fails).
  Result<void> end_of_hold(const std::string& what);
  std::size_t measurements() const { return m_judge.measurements(); }

 private:
  boost::asio::awaitable<MetricResult> measure(const AnalysisMetric& metric, const CounterInterval& interval);
  boost::asio::awaitable<MetricResult> query_prometheus(const AnalysisMetric& metric);
  boost::asio::awaitable<MetricResult> run_command(const AnalysisMetric& metric);

  CutoverRun& m_run;
  Step m_step;
  const AnalysisConfig* m_config = nullptr;
  HaproxyCounters m_counters;
  Judge m_judge;
  std::optional<Clock::TimePoint> m_next;
};

// Prometheus' answer to /api/v1/query as one number: a scalar, or a vector
// of exactly one sample. invalid (saying why) otherwise: an error status, no
// series, several series, NaN.
Result<double> prometheus_value(const std::string& body);
// "/api/v1/query?query=<the query, URL-encoded>" under the URL's path; the
// host and port of an http:// URL. invalid for another URL.
struct PrometheusTarget {
  std::string host;
  std::uint16_t port = 80;
  std::string path;
};
Result<PrometheusTarget> prometheus_target(const std::string& url, const std::string& query);

}  // namespace lbctl
