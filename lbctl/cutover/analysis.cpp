#include "lbctl/cutover/analysis.hpp"

#include <fmt/format.h>

#include "core/enum_names.hpp"

namespace lbctl {

namespace {

constexpr auto k_verdicts = enum_names<Verdict>({
    {Verdict::pass, "pass"},
    {Verdict::fail, "fail"},
    {Verdict::inconclusive, "inconclusive"},
});

bool is_ratio(const AnalysisMetric& metric) { return metric.haproxy == "error_ratio"; }

// 0.0520, 12.0 ms, 3.5
std::string show(const AnalysisMetric& metric, double value) {
  if (metric.source != AnalysisMetric::Source::haproxy) return fmt::format("{:g}", value);
  return is_ratio(metric) ? fmt::format("{:.4f}", value) : fmt::format("{:.1f} ms", value);
}

std::string show(const AnalysisMetric& metric, const std::optional<double>& value) {
  return value ? show(metric, *value) : std::string("-");
}

}  // namespace

std::string_view to_string(Verdict verdict) { return k_verdicts.name(verdict); }

std::optional<double> PoolInterval::error_ratio() const {
  if (responses == 0) return std::nullopt;
  return static_cast<double>(errors) / static_cast<double>(responses);
}

std::optional<double> PoolInterval::response_time() const {
  if (responses == 0) return std::nullopt;
  return rtime_weighted / static_cast<double>(responses);
}

CounterInterval HaproxyCounters::read(const std::vector<std::string>& lbs,
                                      const std::vector<std::vector<pools::ServerStat>>& stats,
                                      const std::set<std::string>& new_pool, const std::set<std::string>& old_pool) {
  CounterInterval out;
  out.first = m_last.empty();
  if (m_last.size() != stats.size()) m_last.assign(stats.size(), {});
  for (std::size_t lb = 0; lb < stats.size(); ++lb) {
    auto& last = m_last[lb];
    std::unordered_map<std::string, Last> now;
    bool went_down = false;
    for (const auto& s : stats[lb]) {
      const Last current{s.responses, s.hrsp_5xx + s.eresp + s.econ};
      now[s.name] = current;
      const auto seen = last.find(s.name);
      if (seen != last.end() && (current.responses < seen->second.responses || current.errors < seen->second.errors)) {
        went_down = true;
      }
    }
    if (went_down) {
      out.restarted.push_back(lb < lbs.size() ? lbs[lb] : std::to_string(lb));
    } else {
      for (const auto& s : stats[lb]) {
        const auto seen = last.find(s.name);
        if (seen == last.end()) continue;  // new since the last read: a baseline
        PoolInterval* pool = new_pool.contains(s.name) ? &out.new_pool : old_pool.contains(s.name) ? &out.old_pool : nullptr;
        if (pool == nullptr) continue;
        const auto& current = now[s.name];
        const std::uint64_t responses = current.responses - seen->second.responses;
        pool->responses += responses;
        pool->errors += current.errors - seen->second.errors;
        pool->rtime_weighted += static_cast<double>(s.rtime) * static_cast<double>(responses);
      }
    }
    last = std::move(now);
  }
  return out;
}

void to_json(nlohmann::json& json, const MetricResult& r) {
  json = {{"metric", r.metric},
          {"new", r.new_value ? nlohmann::json(*r.new_value) : nlohmann::json()},
          {"old", r.old_value ? nlohmann::json(*r.old_value) : nlohmann::json()},
          {"threshold", r.threshold},
          {"verdict", to_string(r.verdict)}};
  if (!r.why.empty()) json["why"] = r.why;
}

void Measurement::conclude() {
  verdict = Verdict::pass;
  for (const auto& m : metrics) {
    if (m.verdict == Verdict::fail) verdict = Verdict::fail;
    else if (m.verdict == Verdict::inconclusive && verdict == Verdict::pass) verdict = Verdict::inconclusive;
  }
}

std::string Measurement::summary() const {
  std::string out;
  for (const auto& m : metrics) {
    if (!out.empty()) out += "; ";
    out += m.metric + " " + (m.new_value ? fmt::format("{:g}", *m.new_value) : std::string("-"));
    if (m.old_value) out += fmt::format(" (old {:g})", *m.old_value);
    out += " " + std::string(to_string(m.verdict));
    if (!m.why.empty()) out += ": " + m.why;
  }
  return out;
}

std::string Measurement::failures() const {
  std::string out;
  for (const auto& m : metrics) {
    if (m.verdict != Verdict::fail) continue;
    if (!out.empty()) out += "; ";
    out += fmt::format("{}: new {}, old {}: {} (limits: {})", m.metric,
                       m.new_value ? fmt::format("{:g}", *m.new_value) : std::string("-"),
                       m.old_value ? fmt::format("{:g}", *m.old_value) : std::string("-"), m.why, m.threshold);
  }
  return out;
}

void to_json(nlohmann::json& json, const Measurement& m) {
  json = {{"verdict", to_string(m.verdict)},
          {"new_responses", m.new_responses},
          {"old_responses", m.old_responses},
          {"metrics", m.metrics}};
}

std::string describe_limits(const AnalysisMetric& metric) {
  std::vector<std::string> limits;
  if (metric.max) limits.push_back(fmt::format("max {:g}", *metric.max));
  if (metric.min) limits.push_back(fmt::format("min {:g}", *metric.min));
  if (metric.max_vs_old) limits.push_back(fmt::format("max_vs_old {:g} (floor {:g})", *metric.max_vs_old, metric.floor));
  if (limits.empty()) return "exit 0";
  return fmt::format("{}", fmt::join(limits, ", "));
}

MetricResult judge(const AnalysisMetric& metric, std::optional<double> value, std::optional<double> old) {
  MetricResult r{metric.name(), value, old, describe_limits(metric), Verdict::pass, ""};
  if (!value) {
    r.verdict = Verdict::inconclusive;
    r.why = "no value";
    return r;
  }
  if (metric.max && *value > *metric.max) {
    r.verdict = Verdict::fail;
    r.why = fmt::format("{} over max {:g}", show(metric, *value), *metric.max);
    return r;
  }
  if (metric.min && *value < *metric.min) {
    r.verdict = Verdict::fail;
    r.why = fmt::format("{} under min {:g}", show(metric, *value), *metric.min);
    return r;
  }
  if (metric.max_vs_old) {
    if (!old) {
      // Nothing to compare with (the old pool took no traffic): only an
      // absolute limit can decide.
      if (!metric.max && !metric.min) {
        r.verdict = Verdict::inconclusive;
        r.why = "the old pool took no traffic to compare with";
      }
      return r;
    }
    const double limit = std::max(*old * *metric.max_vs_old, metric.floor);
    if (*value > limit) {
      r.verdict = Verdict::fail;
      r.why = fmt::format("{} over {:g} x old {}", show(metric, *value), *metric.max_vs_old, show(metric, old));
    }
  }
  return r;
}

MetricResult judge_haproxy(const AnalysisMetric& metric, const CounterInterval& interval, std::uint64_t min_requests) {
  const bool ratio = is_ratio(metric);
  const auto value = ratio ? interval.new_pool.error_ratio() : interval.new_pool.response_time();
  const auto old = ratio ? interval.old_pool.error_ratio() : interval.old_pool.response_time();
  if (interval.new_pool.responses < min_requests || interval.new_pool.responses == 0) {
    MetricResult r{metric.name(), value, old, describe_limits(metric), Verdict::inconclusive, ""};
    r.why = fmt::format("{} new-pool responses, under min_requests {}", interval.new_pool.responses, min_requests);
    return r;
  }
  return judge(metric, value, old);
}

bool Judge::add(const Measurement& measurement) {
  ++m_count;
  if (measurement.verdict != Verdict::inconclusive) ++m_conclusive;
  if (measurement.verdict == Verdict::pass) m_in_a_row = 0;
  if (measurement.verdict == Verdict::fail) ++m_in_a_row;
  return m_in_a_row >= m_limit;
}

}  // namespace lbctl
