#include "lbctl/serve/live.hpp"

#include <algorithm>

#include "core/time_format.hpp"
#include "lbctl/cutover/history.hpp"

namespace lbctl::serve {

namespace {

using std::chrono::milliseconds;

db::JournalTime at_ms(std::int64_t ms) { return db::JournalTime(std::chrono::duration_cast<db::JournalTime::duration>(milliseconds(ms))); }

std::chrono::steady_clock::time_point steady_of(std::int64_t ms) {
  return std::chrono::steady_clock::time_point(std::chrono::duration_cast<std::chrono::steady_clock::duration>(milliseconds(ms)));
}

bool is_step_event(const std::string& kind) {
  return kind == "step_started" || kind == "step_done" || kind == "step_failed";
}

nlohmann::json page_event_json(const db::Event& e) {
  const auto detail = nlohmann::json::parse(e.detail_json, nullptr, false);
  std::string text;
  if (detail.is_object() && detail.contains("text") && detail["text"].is_string()) text = detail["text"].get<std::string>();
  return {{"id", e.id}, {"at", format_time(e.at, TimeFormat::iso_ms)}, {"step", e.step}, {"event", e.kind}, {"text", text}};
}

}  // namespace

std::uint64_t old_pool_sessions(const LbView& lb) {
  std::uint64_t sessions = 0;
  for (const auto& server : lb.servers) {
    if (server.pool == "old") sessions += server.sessions;
  }
  return sessions;
}

ServiceLive::ServiceLive(std::string service, std::vector<std::string> flow, LiveLimits limits)
    : m_service(std::move(service)), m_flow(std::move(flow)), m_limits(limits) {
  m_status.service = m_service;
}

void ServiceLive::start_cutover(std::int64_t id) {
  m_series_of = id;
  m_last_event_id = 0;
  m_draining = false;
  m_step_events.clear();
  m_events.clear();
  m_drain.clear();
}

void ServiceLive::add_point(DrainSeries& series, std::int64_t now_ms, std::uint64_t sessions) {
  auto& points = series.points;
  if (!points.empty() && points.back().first >= now_ms) return;
  points.emplace_back(now_ms, sessions);
  series.progress.add(steady_of(now_ms), sessions);
  if (points.size() <= m_limits.points) return;
  // Every other point goes, the first and the latest stay: the chart keeps
  // its whole span at half the resolution.
  std::vector<std::pair<std::int64_t, std::uint64_t>> kept;
  kept.reserve(points.size() / 2 + 2);
  for (std::size_t i = 0; i + 1 < points.size(); i += 2) kept.push_back(points[i]);
  kept.push_back(points.back());
  points = std::move(kept);
}

void ServiceLive::update(ServiceStatus status, std::int64_t now_ms) {
  m_status = std::move(status);
  m_now_ms = now_ms;
  ++m_version;
  const std::int64_t id = cutover_id();
  if (id != m_series_of) start_cutover(id);
  if (!m_status.running()) return;
  // The series starts with the drain: before it, the old servers' sessions
  // are the service's traffic, not what is left.
  const auto& step = m_status.cutover->step;
  m_draining = m_draining || step == "drain" || step == "watch";
  if (!m_draining) return;
  for (const auto& lb : m_status.load_balancers) {
    if (!lb.error.empty()) continue;
    auto it = std::find_if(m_drain.begin(), m_drain.end(), [&](const DrainSeries& s) { return s.lb == lb.name; });
    if (it == m_drain.end()) {
      m_drain.push_back(DrainSeries{lb.name, {}, DrainProgress(std::chrono::seconds(30))});
      it = std::prev(m_drain.end());
    }
    add_point(*it, now_ms, old_pool_sessions(lb));
  }
}

void ServiceLive::add_events(const std::vector<db::Event>& events) {
  for (const auto& e : events) {
    if (e.cutover_id != m_series_of || e.id <= m_last_event_id) continue;
    m_last_event_id = e.id;
    if (is_step_event(e.kind)) m_step_events.push_back(e);
    m_events.push_back(page_event_json(e));
    while (m_events.size() > m_limits.events) m_events.pop_front();
  }
}

nlohmann::json ServiceLive::timeline_json() const {
  auto out = nlohmann::json::array();
  if (!m_status.cutover) return out;
  const auto& c = *m_status.cutover;
  const bool running = c.status == "running";
  const bool finished = c.status == "completed" || c.status == "rolled_back" || c.status == "stopped";
  db::JournalTime end = at_ms(m_now_ms);
  if (!running && !m_step_events.empty()) end = m_step_events.back().at;
  const auto durations = step_durations(m_step_events, end);
  std::vector<std::string> steps = m_flow;
  for (const auto& [step, d] : durations) {
    if (std::find(steps.begin(), steps.end(), step) == steps.end()) steps.push_back(step);
  }
  for (const auto& step : steps) {
    std::string last;  // the step's latest step event
    for (const auto& e : m_step_events) {
      if (e.step == step) last = e.kind;
    }
    std::string state;
    if (step == c.step && running) {
      state = "running";
    } else if (last == "step_done" || (last == "step_started" && (step != c.step || c.status == "completed")) ||
               (step == "rollback" && c.status == "rolled_back")) {
      state = "done";  // a started step that a later one followed ended; a rollback that brought the old pool back
    } else if (!last.empty()) {
      state = "failed";  // failed, or where the process stopped
    } else {
      // Steps a rollback (running or done) or a stop will not reach.
      state = finished || c.status == "needs_operator" || c.step == "rollback" ? "skipped" : "pending";
    }
    nlohmann::json row = {{"step", step}, {"state", state}, {"duration_ms", nullptr}};
    const auto d = std::find_if(durations.begin(), durations.end(), [&](const auto& s) { return s.first == step; });
    if (d != durations.end()) row["duration_ms"] = d->second.count();
    out.push_back(std::move(row));
  }
  return out;
}

nlohmann::json ServiceLive::drain_json() const {
  auto lbs = nlohmann::json::array();
  for (const auto& series : m_drain) {
    auto points = nlohmann::json::array();
    for (const auto& [ms, sessions] : series.points) points.push_back({ms, sessions});
    nlohmann::json lb = {{"lb", series.lb},
                         {"points", std::move(points)},
                         {"sessions_left", series.progress.left()},
                         {"rate_per_s", nullptr},
                         {"eta_s", nullptr}};
    if (auto rate = series.progress.rate_per_second()) lb["rate_per_s"] = *rate;
    if (auto eta = series.progress.eta_seconds()) lb["eta_s"] = *eta;
    lbs.push_back(std::move(lb));
  }
  return {{"lbs", std::move(lbs)}};
}

nlohmann::json ServiceLive::live_json(bool actions_allowed) const {
  nlohmann::json lock = nullptr;
  if (m_status.running()) {
    const auto& c = *m_status.cutover;
    lock = {{"host", c.host}, {"pid", c.pid}, {"heartbeat_seconds_ago", c.heartbeat_seconds_ago}};
  }
  auto events = nlohmann::json::array();
  for (const auto& e : m_events) events.push_back(e);
  return {{"service", m_service},
          {"version", m_version},
          {"polled_at", format_time(at_ms(m_now_ms), TimeFormat::iso_ms)},
          {"actions_allowed", actions_allowed},
          {"status", m_status},
          {"lock", std::move(lock)},
          {"timeline", timeline_json()},
          {"drain", drain_json()},
          {"events", std::move(events)},
          {"history", m_history}};
}

nlohmann::json ServiceLive::summary_json() const {
  auto lbs = nlohmann::json::array();
  for (const auto& lb : m_status.load_balancers) {
    lbs.push_back({{"name", lb.name}, {"up", lb.error.empty()}, {"reason", lb.reason}});
  }
  nlohmann::json cutover = nullptr;
  if (m_status.cutover) {
    const auto& c = *m_status.cutover;
    cutover = {{"id", c.id}, {"status", c.status}, {"step", c.step}, {"release", c.release}};
  }
  const std::string state = !m_status.error.empty() ? "error" : m_status.running() ? "running" : "idle";
  return {{"service", m_service}, {"state", state}, {"cutover", std::move(cutover)}, {"load_balancers", std::move(lbs)},
          {"error", m_status.error}};
}

}  // namespace lbctl::serve
