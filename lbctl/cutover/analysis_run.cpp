#include "lbctl/cutover/analysis_run.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <set>

#include "core/duration.hpp"
#include "health/probe.hpp"
#include "pools/placeholders.hpp"

namespace lbctl {

namespace asio = boost::asio;

namespace {

std::string url_encode(std::string_view text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

MetricResult inconclusive(const AnalysisMetric& metric, std::string why) {
  return MetricResult{metric.name(), std::nullopt, std::nullopt, describe_limits(metric), Verdict::inconclusive,
                      std::move(why)};
}

std::optional<double> number_in(const nlohmann::json& value) {
  if (value.is_number()) return value.get<double>();
  if (!value.is_string()) return std::nullopt;
  const auto text = value.get<std::string>();
  double out = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return out;
}

}  // namespace

Result<PrometheusTarget> prometheus_target(const std::string& url, const std::string& query) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme)) return fail(ErrorKind::invalid, "not an http:// URL");
  std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (prefix.ends_with("/")) prefix.pop_back();
  PrometheusTarget target;
  std::string port = "80";
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    if (close == std::string::npos) return fail(ErrorKind::invalid, "an unclosed [ in the host");
    target.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
  } else {
    const auto colon = authority.rfind(':');
    target.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (target.host.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    return fail(ErrorKind::invalid, "expected http://HOST:PORT");
  }
  target.port = static_cast<std::uint16_t>(value);
  target.path = prefix + "/api/v1/query?query=" + url_encode(query);
  return target;
}

Result<double> prometheus_value(const std::string& body) {
  const auto answer = nlohmann::json::parse(body, nullptr, false);
  if (!answer.is_object()) return fail(ErrorKind::invalid, "not JSON");
  if (answer.value("status", std::string()) != "success") {
    return fail(ErrorKind::invalid, "status " + answer.value("status", std::string("?")) + ": " +
                                        answer.value("error", std::string()));
  }
  if (!answer.contains("data") || !answer["data"].is_object()) return fail(ErrorKind::invalid, "no data");
  const auto& data = answer["data"];
  const std::string type = data.value("resultType", std::string());
  const auto& result = data.contains("result") ? data["result"] : nlohmann::json();
  std::optional<double> value;
  if (type == "scalar" && result.is_array() && result.size() == 2) {
    value = number_in(result[1]);
  } else if (type == "vector" && result.is_array()) {
    if (result.empty()) return fail(ErrorKind::invalid, "no series (nothing matched the query)");
    if (result.size() > 1) {
      return fail(ErrorKind::invalid, fmt::format("{} series; expected one number (aggregate it: sum(...))", result.size()));
    }
    if (result[0].contains("value") && result[0]["value"].is_array() && result[0]["value"].size() == 2) {
      value = number_in(result[0]["value"][1]);
    }
  } else {
    return fail(ErrorKind::invalid, "a " + (type.empty() ? std::string("missing") : type) +
                                        " result; expected a scalar or a one-series vector");
  }
  if (!value) return fail(ErrorKind::invalid, "a sample that is not a number");
  if (std::isnan(*value)) return fail(ErrorKind::invalid, "NaN (no traffic to compute it from?)");
  return *value;
}

AnalysisRun::AnalysisRun(CutoverRun& run, Step step)
    : m_run(run),
      m_step(step),
      m_config(run.config().analysis ? &*run.config().analysis : nullptr),
      m_judge(m_config ? m_config->failure_limit : 1) {}

asio::awaitable<MetricResult> AnalysisRun::query_prometheus(const AnalysisMetric& metric) {
  auto target = prometheus_target(metric.url, metric.query);
  if (!target) co_return inconclusive(metric, "Prometheus URL: " + target.error().message);
  auto answer = co_await m_run.prober().get(target->host, target->port, target->path, metric.timeout);
  if (!answer) co_return inconclusive(metric, "Prometheus did not answer: " + answer.error().message);
  if (answer->status != 200) {
    co_return inconclusive(metric, fmt::format("Prometheus answered HTTP {}: {}", answer->status,
                                               answer->body.substr(0, 200)));
  }
  auto value = prometheus_value(answer->body);
  if (!value) co_return inconclusive(metric, "Prometheus: " + value.error().message);
  co_return judge(metric, *value, std::nullopt);
}

asio::awaitable<MetricResult> AnalysisRun::run_command(const AnalysisMetric& metric) {
  auto argv = pools::expand_argv(metric.command, {{"release", m_run.row().release},
                                                 {"service", m_run.config().service},
                                                 {"cutover_id", std::to_string(m_run.id())}});
  if (!argv) co_return inconclusive(metric, argv.error().message);
  ProcessSpec spec;
  spec.argv = std::move(*argv);
  spec.timeout = metric.timeout;
  spec.max_out = 64 * 1024;
  auto result = co_await m_run.processes().run(spec);
  if (!result && result.error().kind == ErrorKind::timeout) {
    co_return inconclusive(metric, "cut at its timeout " + format_duration(metric.timeout));
  }
  if (!result) co_return inconclusive(metric, "could not run " + spec.argv.front() + ": " + result.error().message);
  // A printed {"value": N} is judged against max and min when it has them.
  const auto printed = nlohmann::json::parse(result->out, nullptr, false);
  if ((metric.max || metric.min) && printed.is_object() && printed.contains("value")) {
    if (auto value = number_in(printed["value"])) co_return judge(metric, *value, std::nullopt);
  }
  MetricResult r{metric.name(), std::nullopt, std::nullopt, describe_limits(metric), Verdict::pass, ""};
  if (result->exit_code == 0 && !(metric.max || metric.min)) co_return r;
  if (result->exit_code == 1) {
    r.verdict = Verdict::fail;
    r.why = fmt::format("{} exited 1{}", spec.argv.front(),
                        result->err.empty() ? "" : ": " + tail_lines(result->err, 3));
    co_return r;
  }
  r.verdict = Verdict::inconclusive;
  r.why = result->exit_code == 0 ? "exited 0 without printing {\"value\": NUMBER} to compare with its limits"
                                 : fmt::format("exited {} (0 passes, 1 fails)", result->exit_code);
  co_return r;
}

asio::awaitable<MetricResult> AnalysisRun::measure(const AnalysisMetric& metric, const CounterInterval& interval) {
  switch (metric.source) {
    case AnalysisMetric::Source::haproxy: {
      auto r = judge_haproxy(metric, interval, m_config->min_requests);
      if (!interval.restarted.empty() && r.verdict == Verdict::inconclusive) {
        r.why += fmt::format(" ({} reloaded: its counters start again)", fmt::join(interval.restarted, ", "));
      }
      co_return r;
    }
    case AnalysisMetric::Source::prometheus: co_return co_await query_prometheus(metric);
    case AnalysisMetric::Source::command: co_return co_await run_command(metric);
  }
  co_return inconclusive(metric, "unknown source");
}

asio::awaitable<Result<void>> AnalysisRun::poll(std::vector<std::vector<pools::ServerStat>> stats) {
  if (!enabled()) co_return Result<void>{};
  const auto now = m_run.clock().now();
  std::vector<std::string> lbs;
  for (std::size_t i = 0; i < m_run.fleet().size(); ++i) lbs.push_back(m_run.fleet().at(i).name());
  const auto new_names = m_run.new_names();
  const auto old_names = m_run.old_names();
  const std::set<std::string> new_pool(new_names.begin(), new_names.end());
  const std::set<std::string> old_pool(old_names.begin(), old_names.end());
  if (!m_next) {
    (void)m_counters.read(lbs, stats, new_pool, old_pool);  // the baseline
    m_next = now + m_config->interval;
    co_return Result<void>{};
  }
  if (now < *m_next) co_return Result<void>{};
  m_next = now + m_config->interval;
  const CounterInterval interval = m_counters.read(lbs, stats, new_pool, old_pool);
  Measurement m;
  m.new_responses = interval.new_pool.responses;
  m.old_responses = interval.old_pool.responses;
  for (const auto& metric : m_config->metrics) m.metrics.push_back(co_await measure(metric, interval));
  m.conclude();
  const bool failed = m_judge.add(m);
  m_run.emit(m_step, EventKind::analysis,
             fmt::format("analysis {}: {}", to_string(m.verdict), m.summary()), nlohmann::json(m));
  if (failed) {
    co_return fail(ErrorKind::refused,
                   fmt::format("analysis failed ({} failed measurement{} in a row): {}", m_judge.failures_in_a_row(),
                               m_judge.failures_in_a_row() == 1 ? "" : "s", m.failures()));
  }
  co_return Result<void>{};
}

Result<void> AnalysisRun::end_of_hold(const std::string& what) {
  if (!enabled() || m_judge.any_conclusive()) return {};
  const bool fails = m_config->on_inconclusive == AnalysisConfig::OnInconclusive::fail;
  const std::string text =
      fmt::format("analysis inconclusive for the whole of {} ({} measurement{}): on_inconclusive {}", what,
                  m_judge.measurements(), m_judge.measurements() == 1 ? "" : "s", fails ? "fail" : "pass");
  m_run.emit(m_step, EventKind::warning, text);
  if (fails) return fail(ErrorKind::refused, text);
  return {};
}

}  // namespace lbctl
