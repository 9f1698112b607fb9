#include "lbctl/cutover/history.hpp"

#include <algorithm>
#include <map>

#include "core/time_format.hpp"
#include "lbctl/cutover/progress.hpp"

namespace lbctl {

using std::chrono::milliseconds;

namespace {

std::string iso(db::JournalTime t) { return format_time(t, TimeFormat::iso); }

nlohmann::json or_null(const std::string& text) { return text.empty() ? nlohmann::json() : nlohmann::json(text); }

}  // namespace

milliseconds duration_of(const db::Cutover& c) {
  const db::JournalTime end = c.finished_at                            ? *c.finished_at
                              : c.status == db::CutoverStatus::running ? std::chrono::system_clock::now()
                                                                       : c.heartbeat_at;
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(end - c.started_at));
}

StepDurations step_durations(const std::vector<db::Event>& events, db::JournalTime end) {
  StepDurations steps;
  std::map<std::string, db::JournalTime> open;
  auto add = [&](const std::string& step, milliseconds d) {
    auto it = std::find_if(steps.begin(), steps.end(), [&](const auto& s) { return s.first == step; });
    if (it == steps.end()) steps.emplace_back(step, std::max(d, milliseconds(0)));
    else it->second += std::max(d, milliseconds(0));
  };
  for (const auto& e : events) {
    if (e.kind == "step_started") {
      open[e.step] = e.at;
      add(e.step, milliseconds(0));
    } else if (e.kind == "step_done" && open.contains(e.step)) {
      add(e.step, std::chrono::duration_cast<milliseconds>(e.at - open[e.step]));
      open.erase(e.step);
    }
  }
  for (const auto& [step, since] : open) add(step, std::chrono::duration_cast<milliseconds>(end - since));
  return steps;
}

StepDurations step_durations(const std::vector<db::Event>& events, const db::Cutover& c) {
  return step_durations(events, c.started_at + duration_of(c));
}

Deciders deciders_of(const db::Cutover& c) {
  const auto progress = read_progress(c.progress_json);
  if (!progress) return {};
  return {progress->promoted_by, progress->undone_by};
}

nlohmann::json history_json(const db::Cutover& c) {
  nlohmann::json j = {{"id", c.id},
                      {"service", c.service},
                      {"release", c.release},
                      {"old_release", c.old_release},
                      {"status", db::to_string(c.status)},
                      {"step", c.step},
                      {"mode", c.mode},
                      {"host", c.host},
                      {"pid", c.pid},
                      {"started_at", iso(c.started_at)},
                      {"finished_at", c.finished_at ? nlohmann::json(iso(*c.finished_at)) : nlohmann::json()},
                      {"duration_ms", duration_of(c).count()},
                      {"error", c.error.empty() ? nlohmann::json() : nlohmann::json(c.error)}};
  if (c.abort_requested_at) j["abort_requested_at"] = iso(*c.abort_requested_at);
  const auto deciders = deciders_of(c);
  j["promoted_by"] = or_null(deciders.promoted_by);
  j["undone_by"] = or_null(deciders.undone_by);
  return j;
}

nlohmann::json steps_json(const StepDurations& steps) {
  auto out = nlohmann::json::array();
  for (const auto& [step, d] : steps) out.push_back({{"step", step}, {"duration_ms", d.count()}});
  return out;
}

AgentTrail agent_trail(const std::vector<db::Event>& events) {
  AgentTrail trail;
  for (const auto& e : events) {
    if (e.kind != "started" && e.kind != "taken_over") continue;
    const auto detail = nlohmann::json::parse(e.detail_json, nullptr, false);
    if (!detail.is_object() || !detail.contains("agent") || !detail["agent"].is_string()) continue;
    if (e.kind == "taken_over") {
      trail.taken_over_by.push_back(detail["agent"].get<std::string>());
    } else if (detail.contains("request_id") && detail["request_id"].is_number_integer()) {
      trail.request_id = detail["request_id"].get<std::int64_t>();
      trail.agent = detail["agent"].get<std::string>();
    }
  }
  return trail;
}

void add_agent_trail(nlohmann::json& json, const AgentTrail& trail) {
  if (trail.request_id != 0) {
    json["request_id"] = trail.request_id;
    json["agent"] = trail.agent;
  }
  if (!trail.taken_over_by.empty()) json["taken_over_by"] = trail.taken_over_by;
}

}  // namespace lbctl
