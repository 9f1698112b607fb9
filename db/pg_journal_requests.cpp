// PgJournal: cutover requests (lbctl.requests) that agents run, and the
// count of take-overs.

#include <fmt/format.h>

#include "core/names.hpp"
#include "db/pg_journal.hpp"
#include "db/pg_journal_state.hpp"
#include "db/pqxx_compat.hpp"

namespace lbctl::db {

namespace {

const std::string k_request_columns = "r.id, r.service, r.release, r.requested_by, r.config_digest, " +
                                      journal_sql::epoch_us("r.requested_at") + ", r.state, coalesce(r.cutover_id, 0), " +
                                      "coalesce(r.agent, ''), " + journal_sql::epoch_us("r.taken_at");

CutoverRequest read_request(const pqxx::row& row) {
  CutoverRequest r;
  r.id = row[0].as<std::int64_t>();
  r.service = row[1].as<std::string>();
  r.release = row[2].as<std::string>();
  r.requested_by = row[3].as<std::string>();
  r.config_digest = row[4].as<std::string>();
  r.requested_at = from_epoch_us(row[5].as<std::int64_t>());
  r.state = row[6].as<std::string>();
  r.cutover_id = row[7].as<std::int64_t>();
  r.agent = row[8].as<std::string>();
  if (!row[9].is_null()) r.taken_at = from_epoch_us(row[9].as<std::int64_t>());
  return r;
}

// Submits for one service take turns on this transaction-scoped lock, so two
// at once cannot both find the service idle.
constexpr std::int32_t k_space_submit = 0x6c62'6333;  // "lbc3"

}  // namespace

Result<CutoverRequest> PgJournal::submit_request(const NewRequest& request) {
  if (!is_valid_name(request.service)) return fail(ErrorKind::invalid, "bad service name '" + request.service + "'");
  if (!request.release.empty() && !is_valid_name(request.release)) {
    return fail(ErrorKind::invalid, "bad release name '" + request.release + "'");
  }
  if (request.requested_by.empty()) return fail(ErrorKind::invalid, "a request needs who asks for it");
  return guarded_on(*m_state, "submitting a cutover request", [&]() -> Result<CutoverRequest> {
    pqxx::work tx(*m_state->db);
    exec_params(tx, "INSERT INTO lbctl.services (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", request.service);
    exec_params(tx, "SELECT pg_advisory_xact_lock($1, (SELECT id FROM lbctl.services WHERE name = $2))",
                k_space_submit, request.service);
    if (!request.queue) {
      const auto queued = exec_params(tx,
          "SELECT " + k_request_columns + " FROM lbctl.requests r WHERE r.service = $1 AND r.state = 'queued' "
          "ORDER BY r.id LIMIT 1", request.service);
      if (!queued.empty()) {
        const auto q = read_request(queued[0]);
        return fail(ErrorKind::conflict,
                    fmt::format("service {} already has request {} queued (by {}, at {}): add --queue to queue "
                                "this one behind it",
                                request.service, q.id, q.requested_by, format_utc(q.requested_at)));
      }
      const auto active = exec_params(tx,
          "SELECT " + journal_sql::k_cutover_columns +
              " FROM lbctl.cutovers c WHERE c.service = $1 AND c.status IN ('running', 'needs_operator') "
              "ORDER BY c.id DESC LIMIT 1",
          request.service);
      if (!active.empty()) {
        return fail(ErrorKind::conflict, fmt::format("service {} has an unfinished {}: add --queue to queue this "
                                                     "request behind it",
                                                     request.service, describe(read_cutover(active[0]))));
      }
    }
    const auto rows = exec_params(tx,
        "INSERT INTO lbctl.requests AS r (service, release, requested_by, config_digest, state) "
        "VALUES ($1, $2, $3, $4, 'queued') RETURNING " + k_request_columns,
        request.service, request.release, request.requested_by, request.config_digest);
    tx.commit();
    return read_request(rows[0]);
  });
}

Result<CutoverRequest> PgJournal::cutover_request(std::int64_t request_id) {
  return guarded_on(*m_state, "reading a request", [&]() -> Result<CutoverRequest> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows =
        exec_params(tx, "SELECT " + k_request_columns + " FROM lbctl.requests r WHERE r.id = $1", request_id);
    if (rows.empty()) return fail(ErrorKind::invalid, "no request " + std::to_string(request_id));
    return read_request(rows[0]);
  });
}

Result<std::vector<CutoverRequest>> PgJournal::request_queue(const std::string& service, std::size_t taken) {
  return guarded_on(*m_state, "reading the request queue", [&]() -> Result<std::vector<CutoverRequest>> {
    pqxx::nontransaction tx(*m_state->db);
    std::vector<CutoverRequest> out;
    for (const auto& row : exec_params(tx, "SELECT " + k_request_columns +
                                               " FROM lbctl.requests r WHERE r.service = $1 AND r.state = 'queued' "
                                               "ORDER BY r.id",
                                       service)) {
      out.push_back(read_request(row));
    }
    if (taken == 0) return out;
    for (const auto& row : exec_params(tx, "SELECT " + k_request_columns +
                                               " FROM lbctl.requests r WHERE r.service = $1 AND r.state = 'taken' "
                                               "ORDER BY r.id DESC LIMIT $2",
                                       service, static_cast<std::int64_t>(taken))) {
      out.push_back(read_request(row));
    }
    return out;
  });
}

Result<std::int64_t> PgJournal::takeovers(const std::string& service) {
  return guarded_on(*m_state, "reading the journal", [&]() -> Result<std::int64_t> {
    pqxx::nontransaction tx(*m_state->db);
    return exec_params(tx,
                       "SELECT count(*) FROM lbctl.events e JOIN lbctl.cutovers c ON c.id = e.cutover_id "
                       "WHERE c.service = $1 AND e.kind = 'taken_over'",
                       service)[0][0]
        .as<std::int64_t>();
  });
}

Result<std::vector<std::int64_t>> PgJournal::give_up(const std::string& service, const std::string& host, int pid,
                                                     const std::string& text) {
  return guarded_on(*m_state, "giving up a cutover", [&]() -> Result<std::vector<std::int64_t>> {
    pqxx::nontransaction tx(*m_state->db);
    std::vector<std::int64_t> ids;
    for (const auto& row : exec_params(tx,
             "WITH given AS (UPDATE lbctl.cutovers SET owner_token = NULL WHERE service = $1 AND status = 'running' "
             "AND host = $2 AND pid = $3 AND owner_token IS NOT NULL RETURNING id, step) "
             "INSERT INTO lbctl.events (cutover_id, step, kind, detail) "
             "SELECT id, step, 'warning', jsonb_build_object('text', $4::text) FROM given RETURNING cutover_id",
             service, host, pid, text)) {
      ids.push_back(row[0].as<std::int64_t>());
    }
    return ids;
  });
}

}  // namespace lbctl::db
