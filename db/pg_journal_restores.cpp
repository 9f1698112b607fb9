// PgJournal: restores of the application database (lbctl.restores).

#include "core/names.hpp"
#include "db/pg_journal.hpp"
#include "db/pg_journal_state.hpp"
#include "db/pqxx_compat.hpp"

namespace lbctl::db {

namespace {

// The last column derives `interrupted`: running, and nobody holds the
// service's lock (the restore holds it while it runs).
const std::string k_restore_columns =
    "r.id, r.service, r.cutover_id, r.backup_path, " + journal_sql::epoch_us("r.backup_taken_at") +
    ", r.status, r.run_by, r.host, r.pid, " + journal_sql::epoch_us("r.started_at") + ", " + journal_sql::epoch_us("r.finished_at") +
    ", coalesce(r.error, ''), r.detail::text, "
    "(r.status = 'running' AND NOT EXISTS ("
    " SELECT 1 FROM lbctl.services s JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted"
    " AND l.objsubid = 2 AND l.classid::bigint = " +
    std::to_string(k_space_service_lock) +
    " AND l.objid::bigint = s.id"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " WHERE s.name = r.service))";

std::optional<JournalTime> optional_time(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return from_epoch_us(field.as<std::int64_t>());
}

Restore read_restore(const pqxx::row& row) {
  Restore r;
  r.id = row[0].as<std::int64_t>();
  r.service = row[1].as<std::string>();
  r.cutover_id = row[2].as<std::int64_t>();
  r.backup_path = row[3].as<std::string>();
  r.backup_taken_at = optional_time(row[4]);
  const std::string status = row[5].as<std::string>();
  r.status = status == "done"     ? RestoreStatus::done
             : status == "failed" ? RestoreStatus::failed
                                  : RestoreStatus::running;
  if (row[13].as<bool>()) r.status = RestoreStatus::interrupted;
  r.run_by = row[6].as<std::string>();
  r.host = row[7].as<std::string>();
  r.pid = row[8].as<int>();
  r.started_at = from_epoch_us(row[9].as<std::int64_t>());
  r.finished_at = optional_time(row[10]);
  r.error = row[11].as<std::string>();
  r.detail_json = row[12].as<std::string>();
  return r;
}

// Microseconds since the epoch as text, "" for none (NULLIF in the SQL).
std::string epoch_us_text(const std::optional<JournalTime>& t) {
  if (!t) return "";
  return std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(t->time_since_epoch()).count());
}

}  // namespace

Result<Restore> PgJournal::begin_restore(const NewRestore& restore) {
  if (!is_valid_name(restore.service)) return fail(ErrorKind::invalid, "bad service name '" + restore.service + "'");
  return guarded_on(*m_state, "recording the restore", [&]() -> Result<Restore> {
    pqxx::nontransaction tx(*m_state->db);
    try {
      const auto rows = exec_params(tx,
          "INSERT INTO lbctl.restores AS r (service, cutover_id, backup_path, backup_taken_at, status, run_by, host, "
          "pid) VALUES ($1, $2, $3, to_timestamp(NULLIF($4, '')::bigint / 1000000.0), 'running', $5, $6, $7) "
          "RETURNING " +
              k_restore_columns,
          restore.service, restore.cutover_id, restore.backup_path, epoch_us_text(restore.backup_taken_at),
          restore.run_by, restore.host, restore.pid);
      return read_restore(rows[0]);
    } catch (const pqxx::foreign_key_violation&) {
      return fail(ErrorKind::invalid, "no cutover " + std::to_string(restore.cutover_id));
    }
  });
}

Result<void> PgJournal::finish_restore(std::int64_t restore_id, RestoreStatus status, std::string_view error,
                                       std::string_view detail_json) {
  if (status != RestoreStatus::done && status != RestoreStatus::failed) {
    return fail(ErrorKind::invalid, "a restore ends done or failed, not " + std::string(to_string(status)));
  }
  if (!is_json(detail_json)) return fail(ErrorKind::invalid, "the restore's detail is not valid JSON");
  return guarded_on(*m_state, "recording the end of restore " + std::to_string(restore_id), [&]() -> Result<void> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows = exec_params(tx,
        "UPDATE lbctl.restores SET status = $2, error = NULLIF($3, ''), detail = $4::jsonb, finished_at = now() "
        "WHERE id = $1 RETURNING id",
        restore_id, std::string(to_string(status)), std::string(error), std::string(detail_json));
    if (rows.empty()) return fail(ErrorKind::invalid, "no restore " + std::to_string(restore_id));
    return {};
  });
}

Result<std::vector<Restore>> PgJournal::restores(const std::string& service, std::size_t limit) {
  return guarded_on(*m_state, "reading the journal", [&]() -> Result<std::vector<Restore>> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows = exec_params(tx,
        "SELECT " + k_restore_columns + " FROM lbctl.restores r WHERE r.service = $1 ORDER BY r.id DESC LIMIT $2",
        service, static_cast<std::int64_t>(limit));
    std::vector<Restore> out;
    for (const auto& row : rows) out.push_back(read_restore(row));
    return out;
  });
}

}  // namespace lbctl::db
