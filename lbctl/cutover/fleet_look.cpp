#include "lbctl/cutover/fleet_look.hpp"

#include <fmt/format.h>

#include "lbctl/cutover/maintenance.hpp"
#include "pools/backend_file.hpp"

namespace lbctl {

namespace asio = boost::asio;

bool FleetLook::any_drift() const {
  return std::any_of(lbs.begin(), lbs.end(), [](const LbLook& lb) { return !lb.drift.empty(); });
}

std::vector<Drift> FleetLook::all_drift() const {
  std::vector<Drift> all;
  for (const auto& lb : lbs) all.insert(all.end(), lb.drift.begin(), lb.drift.end());
  return all;
}

namespace {

// The persisted file (and maintenance map) against the live LB.
asio::awaitable<std::vector<Drift>> file_drift(const Config& config, pools::LoadBalancer& lb,
                                               pools::BackendState live) {
  std::vector<Drift> drift;
  auto* file = lb.persisted_file();
  if (file == nullptr) co_return drift;
  auto backend = co_await file->inspect();
  if (!backend) {
    drift.push_back({lb.name(), "", "file", "", "", fmt::format("{}: {}", lb.name(), backend.error().message)});
    co_return drift;
  }
  drift = drift_from_file(lb.name(), file->path(), *backend, live);
  if (config.maintenance && file->maps_too()) {
    const auto& map = config.maintenance->map;
    auto in_file = co_await file->map_value(map, k_maintenance_key);
    auto on_lb = co_await lb.map_value(map, k_maintenance_key);
    if (in_file && on_lb && *in_file != *on_lb) {
      drift.push_back({lb.name(), "", "file", in_file->value_or(""), on_lb->value_or(""),
                       fmt::format("{}: the maintenance page is {} on the LB but {} in {}", lb.name(),
                                   *on_lb ? "on" : "off", *in_file ? "on" : "off", map)});
    }
  }
  co_return drift;
}

}  // namespace

asio::awaitable<FleetLook> look_at_fleet(const Config& config, pools::Fleet& fleet,
                                         std::optional<std::vector<db::LbRecord>> records, std::string journal_note) {
  FleetLook look;
  look.journal_note = std::move(journal_note);
  auto live = co_await fleet.each<pools::BackendState>([](pools::LoadBalancer& lb) { return lb.snapshot(); });
  for (std::size_t i = 0; i < live.size(); ++i) {
    auto& lb = fleet.at(i);
    LbLook entry;
    entry.lb = lb.name();
    entry.backend = lb.backend();
    if (records) {
      for (const auto& record : *records) {
        if (record.lb == lb.name() && record.backend == lb.backend()) entry.recorded = from_journal(record);
      }
    }
    if (!live[i].result) {
      entry.error = live[i].result.error().message;
      entry.error_kind = live[i].result.error().kind;
      look.lbs.push_back(std::move(entry));
      continue;
    }
    entry.live = std::move(*live[i].result);
    if (entry.recorded) entry.drift = drift_from_record(lb.name(), *entry.recorded, *entry.live);
    auto in_file = co_await file_drift(config, lb, *entry.live);
    entry.drift.insert(entry.drift.end(), in_file.begin(), in_file.end());
    look.lbs.push_back(std::move(entry));
  }
  co_return look;
}

asio::awaitable<Result<std::vector<db::LbRecord>>> fleet_records(pools::Fleet& fleet, std::int64_t cutover_id) {
  auto live = co_await fleet.all<pools::BackendState>([](pools::LoadBalancer& lb) { return lb.admin_snapshot(); });
  if (!live) co_return std::unexpected(live.error());
  std::vector<db::LbRecord> records;
  for (std::size_t i = 0; i < live->size(); ++i) records.push_back(to_journal(fleet.at(i), (*live)[i], cutover_id));
  co_return records;
}

asio::awaitable<Result<void>> record_fleet(pools::Fleet& fleet, db::Journal& journal, const std::string& service,
                                           std::int64_t cutover_id) {
  auto records = co_await fleet_records(fleet, cutover_id);
  if (!records) co_return std::unexpected(records.error());
  co_return journal.save_lb_records(service, *records);
}

}  // namespace lbctl
