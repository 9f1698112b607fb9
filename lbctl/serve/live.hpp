#pragma once
// What `serve` knows of one service, kept between polls: the latest status
// (the `status --json` shape), the running cutover's steps as a timeline,
// each LB's drain as a series (sessions left on the old servers), the
// latest events, the history, and the counts /metrics reports. Pure: fed by
// the poller, read as JSON by the page, the API and /metrics.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "db/journal.hpp"
#include "lbctl/cutover/drain_progress.hpp"
#include "lbctl/cutover/service_status.hpp"

namespace lbctl::serve {

struct LiveLimits {
  std::size_t points = 1200;  // per LB: older points are thinned, the first and the latest kept
  std::size_t events = 50;
};

struct DrainSeries {
  std::string lb;
  std::vector<std::pair<std::int64_t, std::uint64_t>> points;  // wall ms, sessions on the old servers
  DrainProgress progress{std::chrono::seconds(30)};
};

// Sessions still on the old pool's servers on `lb`: what the drain waits for.
std::uint64_t old_pool_sessions(const LbView& lb);

class ServiceLive {
 public:
  // `flow`: the steps a cutover of this service runs, in order (flow_for()).
  ServiceLive(std::string service, std::vector<std::string> flow, LiveLimits limits = {});

  const std::string& service() const { return m_service; }
  const ServiceStatus& status() const { return m_status; }
  const std::vector<std::string>& flow() const { return m_flow; }
  // 0 when no cutover is known.
  std::int64_t cutover_id() const { return m_status.cutover ? m_status.cutover->id : 0; }
  // The newest event id seen of the current cutover (read the journal after it).
  std::int64_t last_event_id() const { return m_last_event_id; }
  std::int64_t version() const { return m_version; }
  const std::map<std::string, std::int64_t>& outcomes() const { return m_outcomes; }

  // One poll's status, at wall time `now_ms`: a new cutover starts its
  // timeline, series and events afresh; from its drain on, while it runs,
  // each LB's old servers' sessions become a point.
  void update(ServiceStatus status, std::int64_t now_ms);
  // The current cutover's events read since last_event_id(), oldest first.
  void add_events(const std::vector<db::Event>& events);
  // history --json objects, newest first; the journal's count per status.
  // `key`: what the history was read for (the poller reads it again when
  // the latest cutover's id, status or step changes).
  void set_history(nlohmann::json history, std::string key) {
    m_history = std::move(history);
    m_history_key = std::move(key);
  }
  const std::string& history_key() const { return m_history_key; }
  // A finished cutover's step times (they no longer change): read once.
  const nlohmann::json* finished_steps(std::int64_t id) const {
    const auto it = m_finished_steps.find(id);
    return it == m_finished_steps.end() ? nullptr : &it->second;
  }
  void keep_finished_steps(std::int64_t id, nlohmann::json steps) { m_finished_steps[id] = std::move(steps); }
  void forget_steps_before(std::int64_t id) { m_finished_steps.erase(m_finished_steps.begin(), m_finished_steps.lower_bound(id)); }
  const nlohmann::json& history() const { return m_history; }
  void set_outcomes(std::map<std::string, std::int64_t> outcomes) { m_outcomes = std::move(outcomes); }

  // The page's and the stream's object: status, lock, timeline, drain, events, history.
  nlohmann::json live_json(bool actions_allowed) const;
  // One line of /api/v1/services.
  nlohmann::json summary_json() const;
  // [{"step", "state": done|running|failed|pending|skipped, "duration_ms"}]
  nlohmann::json timeline_json() const;
  nlohmann::json drain_json() const;
  const std::vector<DrainSeries>& drain() const { return m_drain; }

 private:
  void start_cutover(std::int64_t id);
  void add_point(DrainSeries& series, std::int64_t now_ms, std::uint64_t sessions);

  std::string m_service;
  std::vector<std::string> m_flow;
  LiveLimits m_limits;
  ServiceStatus m_status;
  std::int64_t m_series_of = -1;  // the cutover the timeline, series and events are of
  std::int64_t m_last_event_id = 0;
  bool m_draining = false;  // the running cutover reached its drain: its points count
  std::int64_t m_version = 0;
  std::int64_t m_now_ms = 0;
  std::vector<db::Event> m_step_events;  // step_started / step_done / step_failed
  std::deque<nlohmann::json> m_events;
  std::vector<DrainSeries> m_drain;
  nlohmann::json m_history = nlohmann::json::array();
  std::string m_history_key;
  std::map<std::int64_t, nlohmann::json> m_finished_steps;
  std::map<std::string, std::int64_t> m_outcomes;
};

}  // namespace lbctl::serve
