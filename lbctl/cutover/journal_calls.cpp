#include "lbctl/cutover/journal_calls.hpp"

#include "core/off_loop.hpp"
#include "lbctl/cutover/plan_report.hpp"

namespace lbctl {

namespace asio = boost::asio;

// Each lambda is made here, in a plain function, and handed to off_loop:
// GCC 12 mishandles lambdas' captures inside coroutine bodies.

asio::awaitable<Result<db::Cutover>> JournalCalls::begin(db::NewCutover cutover) const {
  return off_loop<Result<db::Cutover>>(m_deps.journal_lane,
                                       [&j = journal(), cutover = std::move(cutover)] { return j.begin(cutover); });
}

asio::awaitable<Result<db::Cutover>> JournalCalls::adopt(std::string service, std::string host, int pid) const {
  return off_loop<Result<db::Cutover>>(m_deps.journal_lane, [&j = journal(), service = std::move(service),
                                                             host = std::move(host), pid] { return j.adopt(service, host, pid); });
}

asio::awaitable<Result<std::chrono::milliseconds>> JournalCalls::lease_left(std::string service) const {
  return off_loop<Result<std::chrono::milliseconds>>(
      m_deps.journal_lane, [&j = journal(), service = std::move(service)] { return j.lease_left(service); });
}

asio::awaitable<Result<std::optional<db::Cutover>>> JournalCalls::latest(std::string service) const {
  return off_loop<Result<std::optional<db::Cutover>>>(
      m_deps.journal_lane, [&j = journal(), service = std::move(service)] { return j.latest(service); });
}

asio::awaitable<Result<std::vector<db::CutoverRequest>>> JournalCalls::request_queue(std::string service,
                                                                                     std::size_t taken) const {
  return off_loop<Result<std::vector<db::CutoverRequest>>>(
      m_deps.journal_lane, [&j = journal(), service = std::move(service), taken] { return j.request_queue(service, taken); });
}

asio::awaitable<Result<db::CutoverRequest>> JournalCalls::cutover_request(std::int64_t request_id) const {
  return off_loop<Result<db::CutoverRequest>>(m_deps.journal_lane,
                                              [&j = journal(), request_id] { return j.cutover_request(request_id); });
}

asio::awaitable<Result<db::Cutover>> JournalCalls::get(std::int64_t cutover_id) const {
  return off_loop<Result<db::Cutover>>(m_deps.journal_lane, [&j = journal(), cutover_id] { return j.get(cutover_id); });
}

asio::awaitable<Result<std::vector<db::Event>>> JournalCalls::events(std::int64_t cutover_id, std::int64_t after_id,
                                                                     std::size_t limit) const {
  return off_loop<Result<std::vector<db::Event>>>(
      m_deps.journal_lane, [&j = journal(), cutover_id, after_id, limit] { return j.events(cutover_id, after_id, limit); });
}

asio::awaitable<Result<std::vector<db::Event>>> JournalCalls::recent_events(std::int64_t cutover_id,
                                                                            std::size_t limit) const {
  return off_loop<Result<std::vector<db::Event>>>(
      m_deps.journal_lane, [&j = journal(), cutover_id, limit] { return j.recent_events(cutover_id, limit); });
}

asio::awaitable<Result<std::int64_t>> JournalCalls::request_abort(std::string service) const {
  return off_loop<Result<std::int64_t>>(m_deps.journal_lane,
                                        [&j = journal(), service = std::move(service)] { return j.request_abort(service); });
}

asio::awaitable<Result<std::int64_t>> JournalCalls::request_promote(std::string service, std::string by) const {
  return off_loop<Result<std::int64_t>>(m_deps.journal_lane, [&j = journal(), service = std::move(service),
                                                               by = std::move(by)] { return j.request_promote(service, by); });
}

asio::awaitable<Result<std::int64_t>> JournalCalls::request_undo(std::string service, std::string by) const {
  return off_loop<Result<std::int64_t>>(m_deps.journal_lane, [&j = journal(), service = std::move(service),
                                                               by = std::move(by)] { return j.request_undo(service, by); });
}

asio::awaitable<Result<void>> JournalCalls::save_lb_records(std::string service, std::vector<db::LbRecord> records) const {
  return off_loop<Result<void>>(m_deps.journal_lane, [&j = journal(), service = std::move(service),
                                                      records = std::move(records)] { return j.save_lb_records(service, records); });
}

asio::awaitable<std::uint64_t> JournalCalls::id_floor(std::string service, std::int64_t exclude_cutover_id) const {
  return off_loop<std::uint64_t>(m_deps.journal_lane, [&j = journal(), service = std::move(service), exclude_cutover_id] {
    return lbctl::id_floor(j, service, exclude_cutover_id);
  });
}

asio::awaitable<bool> JournalCalls::release() const {
  return off_loop<bool>(m_deps.journal_lane, [&j = journal()] {
    j.release();
    return true;
  });
}

}  // namespace lbctl
