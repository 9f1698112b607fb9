// The analysis section: how often to measure, how many failures make a
// verdict, and each metric with its limits.

#include <fmt/format.h>

#include "lbctl/config/config_sections.hpp"
#include "lbctl/config/config_values.hpp"

namespace lbctl {

std::string AnalysisMetric::name() const {
  switch (source) {
    case Source::haproxy: return haproxy;
    case Source::prometheus: return "prometheus";
    case Source::command: return "command";
  }
  return haproxy;
}

namespace config_detail {

namespace {

void read_limits(Reader& reader, const Section& section, AnalysisMetric& metric) {
  if (auto v = section.get("max")) metric.max = number(reader, *v, -1e18, 1e18);
  if (auto v = section.get("min")) metric.min = number(reader, *v, -1e18, 1e18);
  if (metric.max && metric.min && *metric.min > *metric.max) {
    reader.fail(*section.get("min"), fmt::format("is above max ({}), so every value would fail", *metric.max));
  }
}

AnalysisMetric read_haproxy_metric(Reader& reader, const Section& section) {
  section.allow({"haproxy", "max", "min", "max_vs_old", "floor"}, "a haproxy metric");
  AnalysisMetric metric;
  const Value which = *section.get("haproxy");
  metric.haproxy = text(reader, which);
  if (metric.haproxy != "error_ratio" && metric.haproxy != "response_time") {
    reader.fail(which, fmt::format("{} is not a HAProxy metric; expected error_ratio or response_time",
                                   show_value(metric.haproxy)));
  }
  const bool ratio = metric.haproxy == "error_ratio";
  read_limits(reader, section, metric);
  if (auto v = section.get("max_vs_old")) metric.max_vs_old = number(reader, *v, 0, 1e9);
  metric.floor = ratio ? 0.001 : 5;
  if (auto v = section.get("floor")) metric.floor = number(reader, *v, 0, ratio ? 1 : 1e9);
  if (ratio && metric.max && *metric.max > 1) reader.fail(*section.get("max"), "is a ratio above 1; expected 0-1");
  if (!metric.max && !metric.min && !metric.max_vs_old) {
    reader.fail(section.self(), "no limit, so it could never fail; expected at least one of max, min, max_vs_old");
  }
  return metric;
}

// A metric from outside HAProxy (`source`, its section keyed `key`): max,
// min and timeout beside that key.
AnalysisMetric outside_metric(const Section& section, AnalysisMetric::Source source, std::string_view key) {
  section.allow({key, "max", "min", "timeout"}, fmt::format("a {} metric", key));
  AnalysisMetric metric;
  metric.source = source;
  return metric;
}

void read_timeout_and_limits(Reader& reader, const Section& section, AnalysisMetric& metric) {
  if (auto v = section.get("timeout")) metric.timeout = duration(reader, *v, false);
  read_limits(reader, section, metric);
}

AnalysisMetric read_prometheus_metric(Reader& reader, const Section& section) {
  AnalysisMetric metric = outside_metric(section, AnalysisMetric::Source::prometheus, "prometheus");
  const Section query(reader, *section.get("prometheus"));
  query.allow({"url", "query"});
  const Value url = query.require("url", "Prometheus' base URL, like http://127.0.0.1:9090");
  metric.url = nonempty_text(reader, url);
  if (!metric.url.starts_with("http://") || !is_http_url(metric.url)) {
    reader.fail(url, fmt::format("{} is not an http:// URL; expected Prometheus' base URL, like http://127.0.0.1:9090",
                                 show_value(metric.url)));
  }
  metric.query = nonempty_text(reader, query.require("query", "a PromQL query giving one number"));
  read_timeout_and_limits(reader, section, metric);
  if (!metric.max && !metric.min) {
    reader.fail(section.self(), "no limit, so it could never fail; expected max or min");
  }
  return metric;
}

AnalysisMetric read_command_metric(Reader& reader, const Section& section) {
  AnalysisMetric metric = outside_metric(section, AnalysisMetric::Source::command, "command");
  metric.command = argv(reader, *section.get("command"), {"release", "service", "cutover_id"});
  read_timeout_and_limits(reader, section, metric);
  return metric;
}

}  // namespace

AnalysisConfig read_analysis(Reader& reader, const Value& value) {
  const Section section(reader, value);
  section.allow({"interval", "failure_limit", "min_requests", "on_inconclusive", "metrics"});
  AnalysisConfig analysis;
  if (auto v = section.get("interval")) analysis.interval = duration(reader, *v, false);
  if (auto v = section.get("failure_limit")) analysis.failure_limit = static_cast<int>(integer(reader, *v, 1, 1000));
  if (auto v = section.get("min_requests")) {
    analysis.min_requests = static_cast<std::uint64_t>(integer(reader, *v, 0, 1'000'000'000));
  }
  if (auto v = section.get("on_inconclusive")) {
    const std::string action = text(reader, *v);
    if (action == "pass") analysis.on_inconclusive = AnalysisConfig::OnInconclusive::pass;
    else if (action == "fail") analysis.on_inconclusive = AnalysisConfig::OnInconclusive::fail;
    else reader.fail(*v, fmt::format("{} is not an on_inconclusive action; expected pass or fail", show_value(action)));
  }
  const Value metrics = section.require("metrics", "a list of metrics (haproxy:, prometheus: or command:)");
  for (const Value& item : list(reader, metrics)) {
    const Section metric(reader, item);
    const int sources = metric.has("haproxy") + metric.has("prometheus") + metric.has("command");
    if (sources != 1) {
      reader.fail(item, sources == 0 ? "names no source; expected one of haproxy:, prometheus:, command:"
                                     : "names more than one source; expected one of haproxy:, prometheus:, command:");
    }
    if (metric.has("haproxy")) analysis.metrics.push_back(read_haproxy_metric(reader, metric));
    else if (metric.has("prometheus")) analysis.metrics.push_back(read_prometheus_metric(reader, metric));
    else analysis.metrics.push_back(read_command_metric(reader, metric));
  }
  if (analysis.metrics.empty()) reader.fail(metrics, "is empty; expected at least one metric");
  return analysis;
}

}  // namespace config_detail

}  // namespace lbctl
