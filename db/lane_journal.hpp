#pragma once
// A Journal whose every call runs on a Lane's thread (core/offload.hpp): the
// caller waits for it, but calls from here and the work posted straight to
// the lane (CutoverRun's own writes, which do not wait) never use the one
// connection at the same time. The wrapped journal is used only on the lane.

#include "core/offload.hpp"
#include "db/journal.hpp"

namespace lbctl::db {

class LaneJournal final : public Journal {
 public:
  // `inner` is only touched on `lane`'s thread from now on.
  LaneJournal(Journal& inner, boost::asio::any_io_executor lane) : m_inner(inner), m_lane(std::move(lane)) {}

  Journal& inner() { return m_inner; }

  Result<Cutover> begin(const NewCutover& cutover) override;
  Result<Cutover> adopt(const std::string& service, const std::string& host, int pid) override;
  Result<std::chrono::milliseconds> lease_left(const std::string& service) override;
  Result<void> save(Cutover& cutover) override;
  Result<void> heartbeat(std::int64_t cutover_id) override;
  Result<Cutover> reacquire(std::int64_t cutover_id, std::int64_t version, const std::string& host, int pid) override;
  Result<void> save_server(std::int64_t cutover_id, const ServerRecord& server) override;
  Result<void> save_servers(std::int64_t cutover_id, const std::vector<ServerRecord>& servers) override;
  Result<std::vector<ServerRecord>> servers(std::int64_t cutover_id) override;
  Result<std::int64_t> add_event(std::int64_t cutover_id, std::string_view step, std::string_view kind,
                                 std::string_view detail_json) override;
  Result<std::vector<Event>> events(std::int64_t cutover_id, std::int64_t after_id, std::size_t limit) override;
  Result<std::vector<Event>> recent_events(std::int64_t cutover_id, std::size_t limit) override;
  Result<std::int64_t> request_abort(const std::string& service) override;
  Result<bool> abort_requested(std::int64_t cutover_id) override;
  Result<std::int64_t> request_promote(const std::string& service, const std::string& by) override;
  Result<std::int64_t> request_undo(const std::string& service, const std::string& by) override;
  Result<Requests> requests(std::int64_t cutover_id) override;
  Result<void> lock_service(const std::string& service, const std::string& host, int pid) override;
  void release() override;
  Result<void> save_lb_records(const std::string& service, const std::vector<LbRecord>& records) override;
  Result<std::vector<LbRecord>> lb_records(const std::string& service) override;
  Result<std::optional<Cutover>> latest(const std::string& service) override;
  Result<Cutover> get(std::int64_t cutover_id) override;
  Result<std::vector<Cutover>> history(const std::string& service, std::size_t limit) override;
  Result<std::map<std::string, std::int64_t>> outcome_counts(const std::string& service) override;
  Result<Restore> begin_restore(const NewRestore& restore) override;
  Result<void> finish_restore(std::int64_t restore_id, RestoreStatus status, std::string_view error,
                              std::string_view detail_json) override;
  Result<std::vector<Restore>> restores(const std::string& service, std::size_t limit) override;
  Result<CutoverRequest> submit_request(const NewRequest& request) override;
  Result<CutoverRequest> cutover_request(std::int64_t request_id) override;
  Result<std::vector<CutoverRequest>> request_queue(const std::string& service, std::size_t taken) override;
  Result<std::int64_t> takeovers(const std::string& service) override;

 private:
  // Runs `call` on the lane and waits for it.
  template <class F>
  auto on_lane(F call) -> decltype(call(std::declval<Journal&>()));

  Journal& m_inner;
  boost::asio::any_io_executor m_lane;
};

}  // namespace lbctl::db
