// FakeJournal: what other lbctl processes ask of a cutover (abort, promote,
// undo), with the real one's rules: the service's unfinished cutover, the
// first request's time and author kept.

#include "tests/support/fake_journal.hpp"

#include "core/names.hpp"

namespace lbctl::test {

namespace {

std::unexpected<Error> no_such_cutover(std::int64_t id) {
  return fail(ErrorKind::invalid, "no cutover " + std::to_string(id));
}

}  // namespace

Result<std::int64_t> FakeJournal::request_abort(const std::string& service) {
  calls.push_back("request_abort " + service);
  if (auto e = injected("request_abort")) return std::unexpected(*e);
  db::Cutover* c = active(service);
  if (!c) return fail(ErrorKind::invalid, "service " + service + " has no running cutover to abort");
  if (!c->abort_requested_at) c->abort_requested_at = now();
  return c->id;
}

Result<bool> FakeJournal::abort_requested(std::int64_t cutover_id) {
  calls.push_back("abort_requested " + std::to_string(cutover_id));
  if (auto e = injected("abort_requested")) return std::unexpected(*e);
  auto it = m_rows.find(cutover_id);
  if (it == m_rows.end()) return no_such_cutover(cutover_id);
  return it->second.abort_requested_at.has_value();
}

Result<std::int64_t> FakeJournal::request_promote(const std::string& service, const std::string& by) {
  calls.push_back("request_promote " + service + " " + by);
  if (auto e = injected("request_promote")) return std::unexpected(*e);
  if (by.empty()) return fail(ErrorKind::invalid, "a request to promote must name who makes it");
  db::Cutover* c = active(service);
  if (!c) return fail(ErrorKind::invalid, "service " + service + " has no unfinished cutover to promote");
  if (!c->promote_requested_at) {
    c->promote_requested_at = now();
    c->promote_requested_by = by;
  }
  return c->id;
}

Result<std::int64_t> FakeJournal::request_undo(const std::string& service, const std::string& by) {
  calls.push_back("request_undo " + service + " " + by);
  if (auto e = injected("request_undo")) return std::unexpected(*e);
  if (by.empty()) return fail(ErrorKind::invalid, "a request to undo must name who makes it");
  db::Cutover* c = active(service);
  if (!c) return fail(ErrorKind::invalid, "service " + service + " has no unfinished cutover to undo");
  if (!c->undo_requested_at) {
    c->undo_requested_at = now();
    c->undo_requested_by = by;
  }
  return c->id;
}

Result<db::Requests> FakeJournal::requests(std::int64_t cutover_id) {
  calls.push_back("requests " + std::to_string(cutover_id));
  if (auto e = injected("requests")) return std::unexpected(*e);
  auto it = m_rows.find(cutover_id);
  if (it == m_rows.end()) return no_such_cutover(cutover_id);
  const db::Cutover& c = it->second;
  return db::Requests{c.abort_requested_at.has_value(), c.promote_requested_at.has_value(), c.promote_requested_by,
                      c.undo_requested_at.has_value(), c.undo_requested_by};
}

Result<db::CutoverRequest> FakeJournal::submit_request(const db::NewRequest& request) {
  calls.push_back("submit " + request.service + " " + request.release);
  if (auto e = injected("submit_request")) return std::unexpected(*e);
  if (!is_valid_name(request.service)) return fail(ErrorKind::invalid, "bad service name '" + request.service + "'");
  if (!request.release.empty() && !is_valid_name(request.release)) {
    return fail(ErrorKind::invalid, "bad release name '" + request.release + "'");
  }
  if (request.requested_by.empty()) return fail(ErrorKind::invalid, "a request needs who asks for it");
  if (!request.queue) {
    for (const auto& [id, r] : m_requests) {
      if (r.service == request.service && r.state == "queued") {
        return fail(ErrorKind::conflict, "service " + request.service + " already has request " +
                                             std::to_string(id) + " queued: add --queue to queue this one behind it");
      }
    }
    if (const db::Cutover* c = active(request.service)) {
      return fail(ErrorKind::conflict, "service " + request.service + " has an unfinished " + db::describe(read(*c)) +
                                           ": add --queue to queue this request behind it");
    }
  }
  db::CutoverRequest r;
  r.id = static_cast<std::int64_t>(m_requests.size()) + 1;
  r.service = request.service;
  r.release = request.release;
  r.requested_by = request.requested_by;
  r.config_digest = request.config_digest;
  r.requested_at = now();
  m_requests[r.id] = r;
  return r;
}

Result<db::CutoverRequest> FakeJournal::cutover_request(std::int64_t request_id) {
  calls.push_back("request " + std::to_string(request_id));
  if (auto e = injected("request")) return std::unexpected(*e);
  const auto it = m_requests.find(request_id);
  if (it == m_requests.end()) return fail(ErrorKind::invalid, "no request " + std::to_string(request_id));
  return it->second;
}

Result<std::vector<db::CutoverRequest>> FakeJournal::request_queue(const std::string& service, std::size_t taken) {
  calls.push_back("request_queue " + service);
  if (auto e = injected("request_queue")) return std::unexpected(*e);
  std::vector<db::CutoverRequest> out;
  for (const auto& [id, r] : m_requests) {
    if (r.service == service && r.state == "queued") out.push_back(r);
  }
  for (auto it = m_requests.rbegin(); it != m_requests.rend() && taken > 0; ++it) {
    if (it->second.service == service && it->second.state == "taken") {
      out.push_back(it->second);
      --taken;
    }
  }
  return out;
}

Result<std::int64_t> FakeJournal::takeovers(const std::string& service) {
  calls.push_back("takeovers " + service);
  if (auto e = injected("takeovers")) return std::unexpected(*e);
  std::int64_t count = 0;
  for (const auto& e : m_events) {
    const auto row = m_rows.find(e.cutover_id);
    if (e.kind == "taken_over" && row != m_rows.end() && row->second.service == service) ++count;
  }
  return count;
}

std::optional<Error> FakeJournal::take_request(const db::NewCutover& cutover, std::int64_t cutover_id) {
  if (cutover.request_id == 0) return std::nullopt;
  const auto it = m_requests.find(cutover.request_id);
  if (it == m_requests.end() || it->second.state != "queued" || it->second.service != cutover.service) {
    return Error{ErrorKind::conflict, "request " + std::to_string(cutover.request_id) + " of service " +
                                          cutover.service + " is no longer queued (another agent took it)"};
  }
  it->second.state = "taken";
  it->second.cutover_id = cutover_id;
  it->second.agent = cutover.agent;
  it->second.taken_at = now();
  return std::nullopt;
}

}  // namespace lbctl::test
