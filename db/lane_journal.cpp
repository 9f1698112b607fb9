#include "db/lane_journal.hpp"

#include <boost/asio/post.hpp>
#include <future>

namespace lbctl::db {

template <class F>
auto LaneJournal::on_lane(F call) -> decltype(call(std::declval<Journal&>())) {
  using R = decltype(call(std::declval<Journal&>()));
  std::packaged_task<R()> task([this, &call] { return call(m_inner); });
  auto result = task.get_future();
  boost::asio::post(m_lane, [&task] { task(); });
  return result.get();
}

Result<Cutover> LaneJournal::begin(const NewCutover& c) {
  return on_lane([&](Journal& j) { return j.begin(c); });
}
Result<Cutover> LaneJournal::adopt(const std::string& service, const std::string& host, int pid) {
  return on_lane([&](Journal& j) { return j.adopt(service, host, pid); });
}
Result<std::chrono::milliseconds> LaneJournal::lease_left(const std::string& service) {
  return on_lane([&](Journal& j) { return j.lease_left(service); });
}
Result<void> LaneJournal::save(Cutover& cutover) {
  return on_lane([&](Journal& j) { return j.save(cutover); });
}
Result<void> LaneJournal::heartbeat(std::int64_t id) {
  return on_lane([&](Journal& j) { return j.heartbeat(id); });
}
Result<Cutover> LaneJournal::reacquire(std::int64_t id, std::int64_t version, const std::string& host, int pid) {
  return on_lane([&](Journal& j) { return j.reacquire(id, version, host, pid); });
}
Result<void> LaneJournal::save_server(std::int64_t id, const ServerRecord& server) {
  return on_lane([&](Journal& j) { return j.save_server(id, server); });
}
Result<void> LaneJournal::save_servers(std::int64_t id, const std::vector<ServerRecord>& servers) {
  return on_lane([&](Journal& j) { return j.save_servers(id, servers); });
}
Result<std::vector<ServerRecord>> LaneJournal::servers(std::int64_t id) {
  return on_lane([&](Journal& j) { return j.servers(id); });
}
Result<std::int64_t> LaneJournal::add_event(std::int64_t id, std::string_view step, std::string_view kind,
                                            std::string_view detail_json) {
  return on_lane([&](Journal& j) { return j.add_event(id, step, kind, detail_json); });
}
Result<std::vector<Event>> LaneJournal::events(std::int64_t id, std::int64_t after_id, std::size_t limit) {
  return on_lane([&](Journal& j) { return j.events(id, after_id, limit); });
}
Result<std::vector<Event>> LaneJournal::recent_events(std::int64_t id, std::size_t limit) {
  return on_lane([&](Journal& j) { return j.recent_events(id, limit); });
}
Result<std::int64_t> LaneJournal::request_abort(const std::string& service) {
  return on_lane([&](Journal& j) { return j.request_abort(service); });
}
Result<bool> LaneJournal::abort_requested(std::int64_t id) {
  return on_lane([&](Journal& j) { return j.abort_requested(id); });
}
Result<std::int64_t> LaneJournal::request_promote(const std::string& service, const std::string& by) {
  return on_lane([&](Journal& j) { return j.request_promote(service, by); });
}
Result<std::int64_t> LaneJournal::request_undo(const std::string& service, const std::string& by) {
  return on_lane([&](Journal& j) { return j.request_undo(service, by); });
}
Result<Requests> LaneJournal::requests(std::int64_t id) {
  return on_lane([&](Journal& j) { return j.requests(id); });
}
Result<void> LaneJournal::lock_service(const std::string& service, const std::string& host, int pid) {
  return on_lane([&](Journal& j) { return j.lock_service(service, host, pid); });
}
void LaneJournal::release() {
  on_lane([](Journal& j) { j.release(); });
}
Result<void> LaneJournal::save_lb_records(const std::string& service, const std::vector<LbRecord>& records) {
  return on_lane([&](Journal& j) { return j.save_lb_records(service, records); });
}
Result<std::vector<LbRecord>> LaneJournal::lb_records(const std::string& service) {
  return on_lane([&](Journal& j) { return j.lb_records(service); });
}
Result<std::optional<Cutover>> LaneJournal::latest(const std::string& service) {
  return on_lane([&](Journal& j) { return j.latest(service); });
}
Result<Cutover> LaneJournal::get(std::int64_t id) {
  return on_lane([&](Journal& j) { return j.get(id); });
}
Result<std::vector<Cutover>> LaneJournal::history(const std::string& service, std::size_t limit) {
  return on_lane([&](Journal& j) { return j.history(service, limit); });
}
Result<std::map<std::string, std::int64_t>> LaneJournal::outcome_counts(const std::string& service) {
  return on_lane([&](Journal& j) { return j.outcome_counts(service); });
}
Result<Restore> LaneJournal::begin_restore(const NewRestore& restore) {
  return on_lane([&](Journal& j) { return j.begin_restore(restore); });
}
Result<void> LaneJournal::finish_restore(std::int64_t id, RestoreStatus status, std::string_view error,
                                         std::string_view detail_json) {
  return on_lane([&](Journal& j) { return j.finish_restore(id, status, error, detail_json); });
}
Result<std::vector<Restore>> LaneJournal::restores(const std::string& service, std::size_t limit) {
  return on_lane([&](Journal& j) { return j.restores(service, limit); });
}

Result<CutoverRequest> LaneJournal::submit_request(const NewRequest& request) {
  return on_lane([&](Journal& j) { return j.submit_request(request); });
}

Result<CutoverRequest> LaneJournal::cutover_request(std::int64_t request_id) {
  return on_lane([&](Journal& j) { return j.cutover_request(request_id); });
}

Result<std::vector<CutoverRequest>> LaneJournal::request_queue(const std::string& service, std::size_t taken) {
  return on_lane([&](Journal& j) { return j.request_queue(service, taken); });
}

Result<std::int64_t> LaneJournal::takeovers(const std::string& service) {
  return on_lane([&](Journal& j) { return j.takeovers(service); });
}

}  // namespace lbctl::db
