// PgJournal: reads (from any machine, no lock needed), servers and events.

#include "core/names.hpp"
#include "db/pg_journal_state.hpp"
#include "db/pqxx_compat.hpp"

namespace lbctl::db {

namespace {

using journal_sql::epoch_us;

JournalTime time_of(const pqxx::field& field) { return from_epoch_us(field.as<std::int64_t>()); }

std::optional<JournalTime> optional_time_of(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return time_of(field);
}

Event read_event(const pqxx::row& row) {
  return Event{row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), time_of(row[2]),
               row[3].as<std::string>(),  row[4].as<std::string>(),  row[5].as<std::string>()};
}

const std::string k_event_columns = "id, cutover_id, " + epoch_us("at") + ", step, kind, detail::text";

std::unexpected<Error> not_json(std::string_view what) {
  return fail(ErrorKind::invalid, std::string(what) + " is not valid JSON");
}

}  // namespace

namespace journal_sql {

const std::string k_cutover_columns =
    "c.id, c.service, c.status, c.step, c.mode, c.config::text, coalesce(c.lb_snapshot::text, ''), "
    "c.progress::text, c.host, c.pid, " +
    epoch_us("c.started_at") + ", " + epoch_us("c.step_started_at") + ", " + epoch_us("c.heartbeat_at") + ", " + epoch_us("c.finished_at") +
    ", " + epoch_us("c.abort_requested_at") +
    ", coalesce(c.error, ''), c.version, "
    "(c.status = 'running' AND NOT EXISTS ("
    " SELECT 1 FROM lbctl.services s JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted"
    " AND l.objsubid = 2 AND l.classid::bigint = " +
    std::to_string(k_space_service_lock) +
    " AND l.objid::bigint = s.id"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " WHERE s.name = c.service)), coalesce(c.release, ''), coalesce(c.old_release, ''), " +
    epoch_us("c.promote_requested_at") + ", coalesce(c.promote_requested_by, ''), " + epoch_us("c.undo_requested_at") +
    ", coalesce(c.undo_requested_by, ''), coalesce(c.owner_token, '')";

}  // namespace journal_sql

Cutover read_cutover(const pqxx::row& row) {
  Cutover c;
  c.id = row[0].as<std::int64_t>();
  c.service = row[1].as<std::string>();
  c.status = parse_cutover_status(row[2].as<std::string>()).value_or(CutoverStatus::running);
  if (row[17].as<bool>()) c.status = CutoverStatus::interrupted;
  c.step = row[3].as<std::string>();
  c.mode = row[4].as<std::string>();
  c.config_json = row[5].as<std::string>();
  c.lb_snapshot_json = row[6].as<std::string>();
  c.progress_json = row[7].as<std::string>();
  c.host = row[8].as<std::string>();
  c.pid = row[9].as<int>();
  c.started_at = time_of(row[10]);
  c.step_started_at = time_of(row[11]);
  c.heartbeat_at = time_of(row[12]);
  c.finished_at = optional_time_of(row[13]);
  c.abort_requested_at = optional_time_of(row[14]);
  c.error = row[15].as<std::string>();
  c.version = row[16].as<std::int64_t>();
  c.release = row[18].as<std::string>();
  c.old_release = row[19].as<std::string>();
  c.promote_requested_at = optional_time_of(row[20]);
  c.promote_requested_by = row[21].as<std::string>();
  c.undo_requested_at = optional_time_of(row[22]);
  c.undo_requested_by = row[23].as<std::string>();
  c.owner_token = row[24].as<std::string>();
  return c;
}

Result<std::optional<Cutover>> PgJournal::latest(const std::string& service) {
  return guarded_on(*m_state, "reading the journal", [&]() -> Result<std::optional<Cutover>> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows = exec_params(tx, "SELECT " + journal_sql::k_cutover_columns +
                                         " FROM lbctl.cutovers c WHERE c.service = $1 ORDER BY c.id DESC LIMIT 1",
                                     service);
    if (rows.empty()) return std::optional<Cutover>{};
    return std::optional<Cutover>{read_cutover(rows[0])};
  });
}

Result<Cutover> PgJournal::get(std::int64_t cutover_id) {
  return guarded_on(*m_state, "reading the journal", [&]() -> Result<Cutover> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows = exec_params(tx,
        "SELECT " + journal_sql::k_cutover_columns + " FROM lbctl.cutovers c WHERE c.id = $1", cutover_id);
    if (rows.empty()) return fail(ErrorKind::invalid, "no cutover " + std::to_string(cutover_id));
    return read_cutover(rows[0]);
  });
}

Result<std::vector<Cutover>> PgJournal::history(const std::string& service, std::size_t limit) {
  return guarded_on(*m_state, "reading the journal", [&]() -> Result<std::vector<Cutover>> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows = exec_params(tx, "SELECT " + journal_sql::k_cutover_columns +
                                         " FROM lbctl.cutovers c WHERE c.service = $1 ORDER BY c.id DESC LIMIT $2",
                                     service, static_cast<std::int64_t>(limit));
    std::vector<Cutover> out;
    for (const auto& row : rows) out.push_back(read_cutover(row));
    return out;
  });
}

Result<std::map<std::string, std::int64_t>> PgJournal::outcome_counts(const std::string& service) {
  return guarded_on(*m_state, "reading the journal", [&]() -> Result<std::map<std::string, std::int64_t>> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows =
        exec_params(tx, "SELECT status, count(*) FROM lbctl.cutovers WHERE service = $1 GROUP BY status", service);
    std::map<std::string, std::int64_t> out;
    for (const auto& row : rows) out[row[0].as<std::string>()] = row[1].as<std::int64_t>();
    return out;
  });
}

Result<void> PgJournal::save_server(std::int64_t cutover_id, const ServerRecord& server) {
  if (!is_valid_name(server.name)) return fail(ErrorKind::invalid, "bad server name '" + server.name + "'");
  return guarded_on(*m_state, "recording server " + server.name, [&]() -> Result<void> {
    pqxx::nontransaction tx(*m_state->db);
    const std::string haproxy_id = server.haproxy_id ? std::to_string(*server.haproxy_id) : "";
    try {
      const auto written = exec_params(tx,
          "INSERT INTO lbctl.cutover_servers (cutover_id, pool, name, address, state, haproxy_id) "
          "SELECT $1, $2, $3, $4, $5, NULLIF($6, '')::integer WHERE " +
              k_owner_holds("$7") +
              " ON CONFLICT (cutover_id, name) DO UPDATE SET pool = EXCLUDED.pool, address = EXCLUDED.address, "
              "state = EXCLUDED.state, haproxy_id = EXCLUDED.haproxy_id, updated_at = now()",
          cutover_id, std::string(to_string(server.pool)), server.name, server.address, server.state, haproxy_id,
          fence_of(*m_state, cutover_id));
      if (written.affected_rows() == 0) return taken_over(cutover_id);
    } catch (const pqxx::foreign_key_violation&) {
      return fail(ErrorKind::invalid, "no cutover " + std::to_string(cutover_id));
    }
    return {};
  });
}

namespace {

// A Postgres array literal: {"a","b"}, quotes and backslashes escaped.
std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

Result<void> PgJournal::save_servers(std::int64_t cutover_id, const std::vector<ServerRecord>& servers) {
  if (servers.empty()) return {};
  std::vector<std::string> pools, names, addresses, states, ids;
  for (const auto& server : servers) {
    if (!is_valid_name(server.name)) return fail(ErrorKind::invalid, "bad server name '" + server.name + "'");
    pools.emplace_back(to_string(server.pool));
    names.push_back(server.name);
    addresses.push_back(server.address);
    states.push_back(server.state);
    ids.push_back(server.haproxy_id ? std::to_string(*server.haproxy_id) : "");
  }
  return guarded_on(*m_state, "recording " + std::to_string(servers.size()) + " servers", [&]() -> Result<void> {
    pqxx::nontransaction tx(*m_state->db);
    try {
      const auto written = exec_params(tx,
          "INSERT INTO lbctl.cutover_servers (cutover_id, pool, name, address, state, haproxy_id) "
          "SELECT $1, s.pool, s.name, s.address, s.state, NULLIF(s.id, '')::integer "
          "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS s(pool, name, address, state, id) "
          "WHERE " +
              k_owner_holds("$7") +
              " ON CONFLICT (cutover_id, name) DO UPDATE SET pool = EXCLUDED.pool, address = EXCLUDED.address, "
              "state = EXCLUDED.state, haproxy_id = EXCLUDED.haproxy_id, updated_at = now()",
          cutover_id, array_literal(pools), array_literal(names), array_literal(addresses), array_literal(states),
          array_literal(ids), fence_of(*m_state, cutover_id));
      if (written.affected_rows() == 0) return taken_over(cutover_id);
    } catch (const pqxx::foreign_key_violation&) {
      return fail(ErrorKind::invalid, "no cutover " + std::to_string(cutover_id));
    }
    return {};
  });
}

Result<std::vector<ServerRecord>> PgJournal::servers(std::int64_t cutover_id) {
  return guarded_on(*m_state, "reading the journal", [&]() -> Result<std::vector<ServerRecord>> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows = exec_params(tx, "SELECT pool, name, address, state, haproxy_id, " + epoch_us("updated_at") +
                                         " FROM lbctl.cutover_servers WHERE cutover_id = $1"
                                         " ORDER BY pool = 'new', name",
                                     cutover_id);
    std::vector<ServerRecord> out;
    for (const auto& row : rows) {
      ServerRecord s;
      s.pool = row[0].as<std::string>() == "old" ? Pool::old_pool : Pool::new_pool;
      s.name = row[1].as<std::string>();
      s.address = row[2].as<std::string>();
      s.state = row[3].as<std::string>();
      if (!row[4].is_null()) s.haproxy_id = row[4].as<int>();
      s.updated_at = time_of(row[5]);
      out.push_back(std::move(s));
    }
    return out;
  });
}

Result<std::int64_t> PgJournal::add_event(std::int64_t cutover_id, std::string_view step, std::string_view kind,
                                          std::string_view detail_json) {
  if (!is_json(detail_json)) return not_json("the event's detail");
  return guarded_on(*m_state, "recording an event", [&]() -> Result<std::int64_t> {
    pqxx::nontransaction tx(*m_state->db);
    try {
      const auto rows = exec_params(tx,
          "INSERT INTO lbctl.events (cutover_id, step, kind, detail) SELECT $1, $2, $3, $4::jsonb WHERE " +
              k_owner_holds("$5") + " RETURNING id",
          cutover_id, std::string(step), std::string(kind), std::string(detail_json), fence_of(*m_state, cutover_id));
      if (rows.empty()) return taken_over(cutover_id);
      return rows[0][0].as<std::int64_t>();
    } catch (const pqxx::foreign_key_violation&) {
      return fail(ErrorKind::invalid, "no cutover " + std::to_string(cutover_id));
    }
  });
}

Result<std::vector<Event>> PgJournal::events(std::int64_t cutover_id, std::int64_t after_id, std::size_t limit) {
  return guarded_on(*m_state, "reading the journal", [&]() -> Result<std::vector<Event>> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows = exec_params(tx,
        "SELECT " + k_event_columns + " FROM lbctl.events WHERE cutover_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        cutover_id, after_id, static_cast<std::int64_t>(limit));
    std::vector<Event> out;
    for (const auto& row : rows) out.push_back(read_event(row));
    return out;
  });
}

Result<std::vector<Event>> PgJournal::recent_events(std::int64_t cutover_id, std::size_t limit) {
  return guarded_on(*m_state, "reading the journal", [&]() -> Result<std::vector<Event>> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows = exec_params(tx, "SELECT * FROM (SELECT " + k_event_columns +
                                         " FROM lbctl.events WHERE cutover_id = $1 ORDER BY id DESC LIMIT $2) e"
                                         " ORDER BY id",
                                     cutover_id, static_cast<std::int64_t>(limit));
    std::vector<Event> out;
    for (const auto& row : rows) out.push_back(read_event(row));
    return out;
  });
}

Result<std::int64_t> PgJournal::request_abort(const std::string& service) {
  return guarded_on(*m_state, "requesting an abort", [&]() -> Result<std::int64_t> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows = exec_params(tx,
        "UPDATE lbctl.cutovers SET abort_requested_at = coalesce(abort_requested_at, now()) "
        "WHERE service = $1 AND status IN ('running', 'needs_operator') RETURNING id",
        service);
    if (rows.empty()) return fail(ErrorKind::invalid, "service " + service + " has no running cutover to abort");
    return rows[0][0].as<std::int64_t>();
  });
}

Result<bool> PgJournal::abort_requested(std::int64_t cutover_id) {
  return guarded_on(*m_state, "reading the journal", [&]() -> Result<bool> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows =
        exec_params(tx, "SELECT abort_requested_at IS NOT NULL FROM lbctl.cutovers WHERE id = $1", cutover_id);
    if (rows.empty()) return fail(ErrorKind::invalid, "no cutover " + std::to_string(cutover_id));
    return rows[0][0].as<bool>();
  });
}

namespace {

// request_promote() and request_undo(): `what` is "promote" or "undo", the
// prefix of its two columns (a fixed word, never the caller's text).
Result<std::int64_t> request(PgJournal::State& state, const std::string& what, const std::string& service,
                             const std::string& by) {
  if (by.empty()) return fail(ErrorKind::invalid, "a request to " + what + " must name who makes it");
  return guarded_on(state, "requesting " + what, [&]() -> Result<std::int64_t> {
    pqxx::nontransaction tx(*state.db);
    const std::string at = what + "_requested_at";
    const std::string who = what + "_requested_by";
    const auto rows = exec_params(tx,
        "UPDATE lbctl.cutovers SET " + at + " = coalesce(" + at + ", now()), " + who + " = coalesce(" + who +
            ", $2) WHERE service = $1 AND status IN ('running', 'needs_operator') RETURNING id",
        service, by);
    if (rows.empty()) {
      return fail(ErrorKind::invalid, "service " + service + " has no unfinished cutover to " + what);
    }
    return rows[0][0].as<std::int64_t>();
  });
}

}  // namespace

Result<std::int64_t> PgJournal::request_promote(const std::string& service, const std::string& by) {
  return request(*m_state, "promote", service, by);
}

Result<std::int64_t> PgJournal::request_undo(const std::string& service, const std::string& by) {
  return request(*m_state, "undo", service, by);
}

Result<Requests> PgJournal::requests(std::int64_t cutover_id) {
  return guarded_on(*m_state, "reading the journal", [&]() -> Result<Requests> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows = exec_params(tx,
        "SELECT abort_requested_at IS NOT NULL, promote_requested_at IS NOT NULL, "
        "coalesce(promote_requested_by, ''), undo_requested_at IS NOT NULL, coalesce(undo_requested_by, '') "
        "FROM lbctl.cutovers WHERE id = $1",
        cutover_id);
    if (rows.empty()) return fail(ErrorKind::invalid, "no cutover " + std::to_string(cutover_id));
    const auto& row = rows[0];
    return Requests{row[0].as<bool>(), row[1].as<bool>(), row[2].as<std::string>(), row[3].as<bool>(),
                    row[4].as<std::string>()};
  });
}

}  // namespace lbctl::db
