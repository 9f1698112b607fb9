// FakeJournal: what other lbctl processes ask of a cutover (abort, promote,
// undo), with the real one's rules: the service's unfinished cutover, the
// first request's time and author kept.

#include "tests/support/fake_journal.hpp"

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

}  // namespace lbctl::test
