#pragma once
// The journal's calls as the controller makes them on its event loop: each
// runs on the journal's lane and is awaited, so a slow or silent state
// database never stops the loop (LB reads, the drain display, signals).
// Without a lane (unit tests) they run inline.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "lbctl/cutover/step.hpp"

namespace lbctl {

class JournalCalls {
 public:
  // `deps` must outlive every call awaited.
  explicit JournalCalls(const CutoverDeps& deps) : m_deps(deps) {}

  boost::asio::awaitable<Result<db::Cutover>> begin(db::NewCutover cutover) const;
  boost::asio::awaitable<Result<db::Cutover>> adopt(std::string service, std::string host, int pid) const;
  boost::asio::awaitable<Result<std::chrono::milliseconds>> lease_left(std::string service) const;
  boost::asio::awaitable<Result<std::optional<db::Cutover>>> latest(std::string service) const;
  boost::asio::awaitable<Result<std::vector<db::CutoverRequest>>> request_queue(std::string service,
                                                                               std::size_t taken) const;
  boost::asio::awaitable<Result<db::CutoverRequest>> cutover_request(std::int64_t request_id) const;
  boost::asio::awaitable<Result<db::Cutover>> get(std::int64_t cutover_id) const;
  boost::asio::awaitable<Result<std::vector<db::Event>>> events(std::int64_t cutover_id, std::int64_t after_id,
                                                                std::size_t limit) const;
  boost::asio::awaitable<Result<std::vector<db::Event>>> recent_events(std::int64_t cutover_id,
                                                                       std::size_t limit) const;
  boost::asio::awaitable<Result<std::int64_t>> request_abort(std::string service) const;
  boost::asio::awaitable<Result<std::int64_t>> request_promote(std::string service, std::string by) const;
  boost::asio::awaitable<Result<std::int64_t>> request_undo(std::string service, std::string by) const;
  boost::asio::awaitable<Result<void>> save_lb_records(std::string service, std::vector<db::LbRecord> records) const;
  // plan_report.hpp's id_floor(), its reads on the lane.
  boost::asio::awaitable<std::uint64_t> id_floor(std::string service, std::int64_t exclude_cutover_id) const;
  // release() has no result; awaited all the same.
  boost::asio::awaitable<bool> release() const;

 private:
  db::Journal& journal() const { return m_deps.journal_on_lane(); }
  const CutoverDeps& m_deps;
};

}  // namespace lbctl
