#pragma once
// One service's state as `status`, `status --watch` and `serve` show it, read
// from the journal (so from any machine) and every LB: the latest cutover,
// its servers, the drain's progress, each LB's view, and drift.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "db/journal.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cutover/drift.hpp"
#include "lbctl/cutover/lb_view.hpp"
#include "pools/fleet.hpp"

namespace lbctl {

struct CutoverSummary {
  std::int64_t id = 0;
  std::string status;  // running, interrupted, completed, rolled_back, needs_operator
  std::string step;
  std::int64_t seconds_in_step = 0;
  std::string started_at;
  std::string finished_at;  // "" while it runs
  std::int64_t duration_s = 0;  // so far while it runs (--json shows it once it ended)
  std::string host;
  int pid = 0;
  std::int64_t heartbeat_seconds_ago = 0;
  std::string error;
  std::string abort_requested_at;  // "" when none
  std::string release;
  std::string old_release;  // "" when it replaced none lbctl knows
  // The promotion gate and undo window (promotion_status()); null when the
  // cutover has neither.
  nlohmann::json promotion = nullptr;
};

struct JournaledServer {
  std::string name;
  std::string pool;
  std::string address;
  std::string state;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(JournaledServer, name, pool, address, state)

struct LastEvent {
  std::string at;
  std::string step;
  std::string text;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LastEvent, at, step, text)

struct ServiceStatus {
  std::string service;
  std::string error;  // the journal could not be read
  std::optional<CutoverSummary> cutover;
  std::vector<JournaledServer> servers;
  nlohmann::json drain;  // DrainProgress::details() while watching; null otherwise
  std::optional<LastEvent> last_event;
  // The analysis' latest measurement (its event's details: verdict and each
  // metric's new and old values, limits, verdict) and text; null when none.
  nlohmann::json analysis = nullptr;
  std::string analysis_text;
  std::vector<LbView> load_balancers;
  std::vector<Drift> drift;
  std::string drift_note;
  // Cutover requests for agents (`lbctl submit`): the queued ones, oldest
  // first, then the last few taken; and how many cutovers of the service an
  // agent took over from a runner whose lease ran out.
  std::vector<db::CutoverRequest> requests;
  std::int64_t takeovers = 0;

  bool running() const { return cutover && cutover->status == "running"; }
};

void to_json(nlohmann::json& json, const CutoverSummary& summary);
void to_json(nlohmann::json& json, const ServiceStatus& status);
// {"id", "state", "release", "requested_by", "requested_at", and once taken
// "cutover_id", "agent", "taken_at"}.
nlohmann::json request_json(const db::CutoverRequest& request);

// Reads the journal, then every LB (and drift, unless a cutover is changing
// the LBs right now: it repairs reloads itself).
// When the journal does not answer, what gather_fleet_status() gives.
boost::asio::awaitable<ServiceStatus> gather_status(const Config& config, pools::Fleet& fleet, db::Journal& journal);
// Every LB, and `journal_error` (the journal did not answer): no cutover, no drift.
boost::asio::awaitable<ServiceStatus> gather_fleet_status(const Config& config, pools::Fleet& fleet,
                                                          std::string journal_error);

}  // namespace lbctl
