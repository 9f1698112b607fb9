// PgJournal: what lbctl last left on each LB (lbctl.lb_records).

#include "db/pg_journal.hpp"
#include "db/pg_journal_state.hpp"
#include "db/pqxx_compat.hpp"

namespace lbctl::db {

Result<void> PgJournal::save_lb_records(const std::string& service, const std::vector<LbRecord>& records) {
  // Each state is lbctl's own serialization of a whole backend: Postgres's
  // ::jsonb cast checks it, once.
  return guarded_on(*m_state, "recording what lbctl left on the load balancers", [&]() -> Result<void> {
    pqxx::work tx(*m_state->db);
    exec_params(tx, "INSERT INTO lbctl.services (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", service);
    for (const auto& record : records) {
      exec_params(tx,
          "INSERT INTO lbctl.lb_records (service, lb, backend, state, cutover_id, updated_at) "
          "VALUES ($1, $2, $3, $4::jsonb, NULLIF($5, 0), now()) "
          "ON CONFLICT (service, lb) DO UPDATE SET backend = EXCLUDED.backend, state = EXCLUDED.state, "
          "cutover_id = EXCLUDED.cutover_id, updated_at = now()",
          service, record.lb, record.backend, record.state_json, record.cutover_id);
    }
    tx.commit();
    return {};
  });
}

Result<std::vector<LbRecord>> PgJournal::lb_records(const std::string& service) {
  return guarded_on(*m_state, "reading what lbctl left on the load balancers", [&]() -> Result<std::vector<LbRecord>> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows = exec_params(tx,
        "SELECT lb, backend, state::text, COALESCE(cutover_id, 0), "
        "extract(epoch FROM updated_at)::double precision FROM lbctl.lb_records WHERE service = $1 ORDER BY lb",
        service);
    std::vector<LbRecord> records;
    for (const auto& row : rows) {
      const auto updated_at = std::chrono::duration<double>(row[4].as<double>());
      records.push_back(LbRecord{.lb = row[0].as<std::string>(),
                                 .backend = row[1].as<std::string>(),
                                 .state_json = row[2].as<std::string>(),
                                 .cutover_id = row[3].as<std::int64_t>(),
                                 .updated_at = JournalTime(std::chrono::duration_cast<JournalTime::duration>(updated_at))});
    }
    return records;
  });
}

}  // namespace lbctl::db
