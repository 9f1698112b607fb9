// FakeJournal: restores, kept apart from the cutovers' rows.

#include <nlohmann/json.hpp>

#include "core/names.hpp"
#include "tests/support/fake_journal.hpp"

namespace lbctl::test {

Result<db::Restore> FakeJournal::begin_restore(const db::NewRestore& restore) {
  calls.push_back("begin_restore " + restore.service + " cutover=" + std::to_string(restore.cutover_id));
  if (auto e = injected("begin_restore")) return std::unexpected(*e);
  if (!is_valid_name(restore.service)) return fail(ErrorKind::invalid, "bad service name '" + restore.service + "'");
  if (!m_rows.contains(restore.cutover_id)) {
    return fail(ErrorKind::invalid, "no cutover " + std::to_string(restore.cutover_id));
  }
  db::Restore r;
  r.id = m_restores.empty() ? 1 : m_restores.rbegin()->first + 1;
  r.service = restore.service;
  r.cutover_id = restore.cutover_id;
  r.backup_path = restore.backup_path;
  r.backup_taken_at = restore.backup_taken_at;
  r.run_by = restore.run_by;
  r.host = restore.host;
  r.pid = restore.pid;
  r.started_at = now();
  m_restores[r.id] = r;
  return r;
}

Result<void> FakeJournal::finish_restore(std::int64_t restore_id, db::RestoreStatus status, std::string_view error,
                                         std::string_view detail_json) {
  calls.push_back("finish_restore " + std::to_string(restore_id) + " " + std::string(db::to_string(status)));
  if (auto e = injected("finish_restore")) return std::unexpected(*e);
  if (status != db::RestoreStatus::done && status != db::RestoreStatus::failed) {
    return fail(ErrorKind::invalid, "a restore ends done or failed, not " + std::string(db::to_string(status)));
  }
  if (!nlohmann::json::accept(detail_json)) return fail(ErrorKind::invalid, "the restore's detail is not valid JSON");
  auto it = m_restores.find(restore_id);
  if (it == m_restores.end()) return fail(ErrorKind::invalid, "no restore " + std::to_string(restore_id));
  it->second.status = status;
  it->second.error = std::string(error);
  it->second.detail_json = std::string(detail_json);
  it->second.finished_at = now();
  return {};
}

Result<std::vector<db::Restore>> FakeJournal::restores(const std::string& service, std::size_t limit) {
  calls.push_back("restores " + service);
  if (auto e = injected("restores")) return std::unexpected(*e);
  std::vector<db::Restore> out;
  for (auto it = m_restores.rbegin(); it != m_restores.rend() && out.size() < limit; ++it) {
    if (it->second.service != service) continue;
    db::Restore r = it->second;
    // As the real one: running with nobody holding the service's lock.
    if (r.status == db::RestoreStatus::running && !m_locked.contains(service))
      r.status = db::RestoreStatus::interrupted;
    out.push_back(r);
  }
  return out;
}

}  // namespace lbctl::test
