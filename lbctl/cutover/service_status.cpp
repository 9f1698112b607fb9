#include "lbctl/cutover/service_status.hpp"

#include <unordered_map>

#include "core/time_format.hpp"
#include "lbctl/cutover/drain_progress.hpp"
#include "lbctl/cutover/fleet_look.hpp"
#include "lbctl/cutover/history.hpp"
#include "lbctl/cutover/promotion.hpp"
#include "lbctl/cutover/step.hpp"

namespace lbctl {

namespace asio = boost::asio;

namespace {

std::int64_t seconds_since(db::JournalTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - t).count();
}

std::string iso_ms(db::JournalTime t) { return format_time(t, TimeFormat::iso_ms); }

CutoverSummary summary_of(const db::Cutover& c) {
  CutoverSummary s{c.id, std::string(db::to_string(c.status)), c.step, seconds_since(c.step_started_at),
                   iso_ms(c.started_at), "", 0, c.host, c.pid, seconds_since(c.heartbeat_at), c.error, "", c.release, c.old_release};
  if (c.finished_at) s.finished_at = iso_ms(*c.finished_at);
  s.duration_s = std::chrono::duration_cast<std::chrono::seconds>(duration_of(c)).count();
  if (c.abort_requested_at) s.abort_requested_at = iso_ms(*c.abort_requested_at);
  s.promotion = promotion_status(
      c, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  return s;
}

// The drain's progress from the journaled drain_progress samples.
nlohmann::json drain_from_events(const std::vector<db::Event>& events) {
  DrainProgress progress(std::chrono::seconds(30));
  bool any = false;
  nlohmann::json sticky;  // drain.idle: the old servers sticky users still came to, at the last sample
  const auto kind = to_string(EventKind::drain_progress);
  for (const auto& e : events) {
    if (e.kind != kind) continue;
    auto detail = nlohmann::json::parse(e.detail_json, nullptr, false);
    if (!detail.is_object()) continue;
    const auto at = std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(e.at.time_since_epoch()));
    progress.add(at, detail.value("sessions_left", std::uint64_t{0}));
    sticky = detail.contains("sticky") ? detail["sticky"] : nlohmann::json(nullptr);
    any = true;
  }
  if (!any) return nullptr;
  auto details = progress.details();
  if (sticky.is_array()) details["sticky"] = sticky;
  return details;
}

std::optional<LastEvent> last_event_of(const std::vector<db::Event>& events) {
  const auto drain = to_string(EventKind::drain_progress);
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    auto detail = nlohmann::json::parse(it->detail_json, nullptr, false);
    if (detail.is_object() && detail.contains("text") && it->kind != drain) {
      return LastEvent{iso_ms(it->at), it->step, detail["text"].get<std::string>()};
    }
  }
  return std::nullopt;
}

void read_cutover(ServiceStatus& status, db::Journal& journal, const db::Cutover& c) {
  status.cutover = summary_of(c);
  if (auto records = journal.servers(c.id)) {
    for (const auto& s : *records) status.servers.push_back({s.name, std::string(db::to_string(s.pool)), s.address, s.state});
  }
  if (auto events = journal.recent_events(c.id, 200)) {
    if (c.step == to_string(Step::watch)) status.drain = drain_from_events(*events);
    status.last_event = last_event_of(*events);
    const auto analysis = to_string(EventKind::analysis);
    for (auto it = events->rbegin(); it != events->rend(); ++it) {
      if (it->kind != analysis) continue;
      auto detail = nlohmann::json::parse(it->detail_json, nullptr, false);
      if (!detail.is_object()) break;
      status.analysis_text = detail.value("text", std::string());
      detail.erase("text");
      detail["at"] = iso_ms(it->at);
      status.analysis = detail;
      break;
    }
  }
}

}  // namespace

void to_json(nlohmann::json& json, const CutoverSummary& s) {
  json = {{"id", s.id},       {"release", s.release}, {"old_release", s.old_release},
          {"status", s.status}, {"step", s.step}, {"seconds_in_step", s.seconds_in_step},
          {"started_at", s.started_at}, {"host", s.host}, {"pid", s.pid},
          {"heartbeat_seconds_ago", s.heartbeat_seconds_ago}, {"error", s.error}};
  if (!s.finished_at.empty()) {
    json["finished_at"] = s.finished_at;
    json["duration_s"] = s.duration_s;
  }
  if (!s.abort_requested_at.empty()) json["abort_requested_at"] = s.abort_requested_at;
  if (!s.promotion.is_null()) json["promotion"] = s.promotion;
}

void to_json(nlohmann::json& json, const ServiceStatus& s) {
  json = {{"service", s.service}, {"cutover", nullptr}, {"load_balancers", s.load_balancers}, {"drift", s.drift}};
  if (!s.error.empty()) json["error"] = s.error;
  if (s.cutover) {
    json["cutover"] = *s.cutover;
    json["servers"] = s.servers;
    json["drain"] = s.drain;
  }
  if (s.last_event) json["last_event"] = *s.last_event;
  if (!s.analysis.is_null()) json["analysis"] = s.analysis;
  if (!s.drift_note.empty()) json["drift_note"] = s.drift_note;
  auto requests = nlohmann::json::array();
  for (const auto& r : s.requests) requests.push_back(request_json(r));
  json["requests"] = std::move(requests);
  json["takeovers"] = s.takeovers;
}

nlohmann::json request_json(const db::CutoverRequest& r) {
  nlohmann::json json = {{"id", r.id},
                         {"state", r.state},
                         {"release", r.release},
                         {"requested_by", r.requested_by},
                         {"requested_at", iso_ms(r.requested_at)}};
  if (r.state == "taken") {
    json["cutover_id"] = r.cutover_id;
    json["agent"] = r.agent;
    if (r.taken_at) json["taken_at"] = iso_ms(*r.taken_at);
  }
  return json;
}

namespace {

// Every LB's view of the backend; drift against `records` when given.
asio::awaitable<void> look_at_lbs(ServiceStatus& status, const Config& config, pools::Fleet& fleet,
                                  std::optional<std::vector<db::LbRecord>> records) {
  const auto look = co_await look_at_fleet(config, fleet, records, "");
  std::unordered_map<std::string, std::string> pool_of;
  for (const auto& s : status.servers) pool_of[s.name] = s.pool;
  for (const auto& lb : look.lbs) {
    LbView view = lb.live ? lb_view(lb.lb, lb.live->stats, pool_of)
                          : LbView{lb.lb, {}, lb.error, down_reason(lb.error_kind)};
    status.load_balancers.push_back(std::move(view));
  }
  if (records) status.drift = look.all_drift();
}

}  // namespace

asio::awaitable<ServiceStatus> gather_status(const Config& config, pools::Fleet& fleet, db::Journal& journal) {
  ServiceStatus status;
  status.service = config.service;
  auto latest = journal.latest(config.service);
  if (!latest) co_return co_await gather_fleet_status(config, fleet, latest.error().message);
  if (*latest) read_cutover(status, journal, **latest);
  // The queue and the take-overs: shown when read (an older schema's reader
  // never gets here: the journal upgrades it on open).
  if (auto queue = journal.request_queue(config.service, 5)) status.requests = std::move(*queue);
  if (auto taken = journal.takeovers(config.service)) status.takeovers = *taken;
  std::optional<std::vector<db::LbRecord>> records;
  if (status.running()) {
    status.drift_note = "not measured while a cutover changes the load balancers";
  } else if (auto read = journal.lb_records(config.service)) {
    records = std::move(*read);
  } else {
    status.drift_note = "not compared with the journal: " + read.error().message;
  }
  co_await look_at_lbs(status, config, fleet, std::move(records));
  co_return status;
}

asio::awaitable<ServiceStatus> gather_fleet_status(const Config& config, pools::Fleet& fleet, std::string journal_error) {
  ServiceStatus status;
  status.service = config.service;
  status.error = std::move(journal_error);
  status.drift_note = "not compared with the journal: it did not answer";
  co_await look_at_lbs(status, config, fleet, std::nullopt);
  co_return status;
}

}  // namespace lbctl
