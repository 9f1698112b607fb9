// PgJournal: opening, the service lock, and the owner's writes.

#include "db/pg_journal.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <random>

#include "core/names.hpp"
#include "db/pg_journal_state.hpp"
#include "db/pqxx_compat.hpp"

namespace lbctl::db {

std::string new_owner_token() {
  std::random_device random;
  std::string token;
  for (int i = 0; i < 4; ++i) token += fmt::format("{:08x}", static_cast<std::uint32_t>(random()));
  return token;
}

std::unexpected<Error> taken_over(std::int64_t cutover_id) {
  return fail(ErrorKind::conflict, "cutover " + std::to_string(cutover_id) +
                                       " was taken over by another lbctl (its owner token changed): this lbctl no "
                                       "longer owns it and must stop");
}

ClientTimeouts journal_timeouts(const PgJournalOptions& options) {
  // Journal queries are short: three times the partition timeout is a
  // server stuck, not a slow one.
  return ClientTimeouts{options.partition_timeout, options.partition_timeout * 3};
}

bool server_closed(pqxx::connection& db) {
  const int fd = db.sock();
  if (fd < 0) return true;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

namespace {

using journal_sql::k_cutover_columns;

// The service's id in lbctl.services is its lock key: no hash collisions.
std::int32_t service_key(pqxx::connection& db, const std::string& service) {
  pqxx::nontransaction tx(db);
  exec_params(tx, "INSERT INTO lbctl.services (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", service);
  return exec_params(tx, "SELECT id FROM lbctl.services WHERE name = $1", service)[0][0].as<std::int32_t>();
}

// The service's unfinished cutover (running or needs_operator), if any.
std::optional<Cutover> active_cutover(pqxx::connection& db, const std::string& service) {
  pqxx::nontransaction tx(db);
  const auto rows = exec_params(tx, "SELECT " + k_cutover_columns +
                                       " FROM lbctl.cutovers c WHERE c.service = $1"
                                       " AND c.status IN ('running', 'needs_operator') ORDER BY c.id DESC LIMIT 1",
                                   service);
  if (rows.empty()) return std::nullopt;
  return read_cutover(rows[0]);
}

std::unexpected<Error> held_by_other(pqxx::connection& db, const std::string& service, AdvisoryKey key) {
  if (auto holder = active_cutover(db, service)) {
    return std::unexpected(lock_held_error(*holder));
  }
  pqxx::nontransaction tx(db);
  const auto session = describe_lock_holder(tx, key);
  return fail(ErrorKind::conflict, "service " + service + " is locked by " + session.value_or("another session") +
                                       ", which has not recorded its cutover yet");
}

}  // namespace

PgJournal::PgJournal(std::unique_ptr<State> state) : m_state(std::move(state)) {}

PgJournal::~PgJournal() { release(); }

Result<std::unique_ptr<PgJournal>> PgJournal::open(PgJournalOptions options) {
  auto db = connect(options.database_url, application_name("lbctl journal", options.host, options.pid),
                    options.connect_timeout, journal_timeouts(options));
  if (!db) return std::unexpected(db.error().with_context("state database"));
  if (auto schema = ensure_schema(**db); !schema) return std::unexpected(schema.error().with_context("state database"));
  auto state = std::make_unique<State>();
  state->options = std::move(options);
  state->nonce = new_owner_token().substr(0, 8);
  state->db = std::move(*db);
  return std::unique_ptr<PgJournal>(new PgJournal(std::move(state)));
}

namespace {

// Takes `service`'s lock on a connection of its own, kept in `state`.
Result<void> take_service_lock(PgJournal::State& state, const std::string& service, const std::string& owner_host,
                               int owner_pid) {
  if (state.lock) {
    return fail(ErrorKind::invalid, "this lbctl already holds the lock of service " + state.lock_service);
  }
  const AdvisoryKey key{k_space_service_lock, service_key(*state.db, service)};
  auto lock =
      LockSession::open(state.options.database_url,
                        application_name("lbctl[" + state.nonce + "] cutover " + service, owner_host, owner_pid),
                        state.options.connect_timeout, state.options.partition_timeout,
                        state.options.lease + k_lock_release_margin);
  if (!lock) return std::unexpected(lock.error());
  auto taken = (*lock)->try_lock(key);
  if (!taken) return std::unexpected(taken.error());
  if (!*taken) return held_by_other(*state.db, service, key);
  state.lock = std::move(*lock);
  state.lock_key = key;
  state.lock_service = service;
  return {};
}

// Lets go of a lock just taken unless the caller got what it wanted.
class ReleaseUnlessKept {
 public:
  explicit ReleaseUnlessKept(PgJournal& journal) : m_journal(journal) {}
  ~ReleaseUnlessKept() {
    if (!m_kept) m_journal.release();
  }
  ReleaseUnlessKept(const ReleaseUnlessKept&) = delete;
  ReleaseUnlessKept& operator=(const ReleaseUnlessKept&) = delete;
  Cutover keep(Cutover c) {
    m_kept = true;
    return c;
  }

 private:
  PgJournal& m_journal;
  bool m_kept = false;
};

}  // namespace

Result<Cutover> PgJournal::begin(const NewCutover& cutover) {
  if (!is_valid_name(cutover.service)) return fail(ErrorKind::invalid, "bad service name '" + cutover.service + "'");
  if (!is_json(cutover.config_json)) return fail(ErrorKind::invalid, "the config snapshot is not valid JSON");
  return guarded_on(*m_state, "starting a cutover", [&]() -> Result<Cutover> {
    if (auto locked = take_service_lock(*m_state, cutover.service, cutover.host, cutover.pid); !locked) {
      return std::unexpected(locked.error());
    }
    ReleaseUnlessKept guard(*this);
    if (auto active = active_cutover(*m_state->db, cutover.service)) {
      return std::unexpected(unfinished_cutover_error(*active));
    }
    // One commit: the cutover's row and, when it carries out a request, that
    // request taken (a request another agent took already is refused).
    pqxx::work tx(*m_state->db);
    // The id first: a release not given is named after it.
    const auto id =
        tx.exec("SELECT nextval(pg_get_serial_sequence('lbctl.cutovers', 'id'))")[0][0].as<std::int64_t>();
    const std::string token = new_owner_token();
    const auto rows = exec_params(tx,
        "INSERT INTO lbctl.cutovers AS c (id, service, status, step, mode, config, host, pid, release, old_release, "
        "owner_token) "
        "VALUES ($1::bigint, $2, 'running', $3, $4, $5::jsonb, $6, $7, coalesce(nullif($8, ''), 'r' || $1::bigint), "
        "(SELECT p.release FROM lbctl.cutovers p WHERE p.service = $2 AND p.status = 'completed' "
        "ORDER BY p.id DESC LIMIT 1), $9) RETURNING " +
            k_cutover_columns,
        id, cutover.service, cutover.step, cutover.mode, cutover.config_json, cutover.host, cutover.pid,
        cutover.release, token);
    if (cutover.request_id != 0) {
      const auto taken = exec_params(tx,
          "UPDATE lbctl.requests SET state = 'taken', cutover_id = $1, agent = $2, taken_at = now() "
          "WHERE id = $3 AND service = $4 AND state = 'queued'",
          id, cutover.agent, cutover.request_id, cutover.service);
      if (taken.affected_rows() != 1) {
        return fail(ErrorKind::conflict, "request " + std::to_string(cutover.request_id) + " of service " +
                                             cutover.service + " is no longer queued (another agent took it)");
      }
    }
    tx.commit();
    m_state->owned = id;
    m_state->token = token;
    return guard.keep(read_cutover(rows[0]));
  });
}

Result<Cutover> PgJournal::adopt(const std::string& service, const std::string& host, int pid) {
  if (!is_valid_name(service)) return fail(ErrorKind::invalid, "bad service name '" + service + "'");
  return guarded_on(*m_state, "taking over a cutover", [&]() -> Result<Cutover> {
    if (auto locked = take_service_lock(*m_state, service, host, pid); !locked) return std::unexpected(locked.error());
    ReleaseUnlessKept guard(*this);
    const auto active = active_cutover(*m_state->db, service);
    if (!active) {
      return fail(ErrorKind::invalid, "service " + service + " has no interrupted cutover to resume or abort");
    }
    pqxx::nontransaction tx(*m_state->db);
    // A running cutover whose runner still beats may be alive, cut off from
    // the database but not from the LBs: it is taken over only once its lease
    // ran out (it has stopped acting by then), and the new token refuses its
    // later writes.
    const std::string token = new_owner_token();
    const auto rows = exec_params(tx,
        "UPDATE lbctl.cutovers AS c SET host = $2, pid = $3, heartbeat_at = now(), owner_token = $4, "
        "version = version + 1 WHERE id = $1 AND (status <> 'running' OR owner_token IS NULL "
        "OR heartbeat_at <= now() - make_interval(secs => $5::double precision / 1000)) RETURNING " +
            k_cutover_columns,
        active->id, host, pid, token, static_cast<double>(m_state->options.lease.count()));
    if (rows.empty()) return std::unexpected(lease_not_run_out(*active, m_state->options.lease));
    m_state->owned = active->id;
    m_state->token = token;
    return guard.keep(read_cutover(rows[0]));
  });
}

Result<void> PgJournal::lock_service(const std::string& service, const std::string& host, int pid) {
  if (!is_valid_name(service)) return fail(ErrorKind::invalid, "bad service name '" + service + "'");
  return guarded_on(*m_state, "locking service " + service, [&]() -> Result<void> {
    if (auto locked = take_service_lock(*m_state, service, host, pid); !locked) return std::unexpected(locked.error());
    ReleaseUnlessKept guard(*this);
    if (auto active = active_cutover(*m_state->db, service)) return std::unexpected(unfinished_cutover_error(*active));
    (void)guard.keep(Cutover{});
    return {};
  });
}

Result<void> PgJournal::save(Cutover& cutover) {
  if (cutover.status == CutoverStatus::interrupted) {
    return fail(ErrorKind::invalid, "interrupted is derived, never stored: save running, or where it ended");
  }
  // The progress and the LB snapshot are lbctl's own serialization, of
  // megabytes at 10,000 servers: Postgres's ::jsonb cast is their check
  // (parsing them here too cost a tenth of a large cutover's CPU).
  return guarded_on(*m_state, "saving cutover " + std::to_string(cutover.id), [&]() -> Result<void> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows = exec_params(tx,
        "UPDATE lbctl.cutovers AS c SET status = $3, step = $4, "
        "step_started_at = CASE WHEN step = $4 THEN step_started_at ELSE now() END, "
        "progress = $5::jsonb, lb_snapshot = NULLIF($6, '')::jsonb, error = NULLIF($7, ''), "
        "finished_at = CASE WHEN $3 IN ('completed', 'rolled_back', 'stopped') THEN coalesce(finished_at, now()) END, "
        "heartbeat_at = now(), version = version + 1 "
        "WHERE id = $1 AND version = $2 AND " +
            k_owner_holds("$8") + " RETURNING " + k_cutover_columns,
        cutover.id, cutover.version, std::string(to_string(cutover.status)), cutover.step, cutover.progress_json,
        cutover.lb_snapshot_json, cutover.error, fence_of(*m_state, cutover.id));
    if (!rows.empty()) {
      cutover = read_cutover(rows[0]);
      return {};
    }
    const auto now = exec_params(tx, "SELECT version, host, pid, coalesce(owner_token, '') FROM lbctl.cutovers WHERE id = $1",
                                    cutover.id);
    if (now.empty()) return fail(ErrorKind::invalid, "no cutover " + std::to_string(cutover.id));
    const std::string fence = fence_of(*m_state, cutover.id);
    if (!fence.empty() && now[0][3].as<std::string>() != fence) return taken_over(cutover.id);
    return fail(ErrorKind::conflict, "cutover " + std::to_string(cutover.id) +
                                         " was changed by another writer (version " + now[0][0].as<std::string>() +
                                         ", this one had " + std::to_string(cutover.version) + "; owner now host " +
                                         now[0][1].as<std::string>() + ", pid " + now[0][2].as<std::string>() +
                                         "): this lbctl no longer owns it and must stop");
  });
}

Result<void> PgJournal::heartbeat(std::int64_t cutover_id) {
  if (!m_state->lock) return fail(ErrorKind::invalid, "heartbeat without holding a service lock");
  const bool held = m_state->lock->holds(m_state->lock_key);
  if (!held) {
    const std::string service = m_state->lock_service;
    // Its connection broke or stopped answering: it goes, without a word
    // to a server that may not hear it; the cutover stays this journal's
    // (reacquire() takes the lock again and checks the token).
    m_state->lock.reset();
    m_state->lock_service.clear();
    return fail(ErrorKind::conflict, "lost the lock of service " + service +
                                         " (its database connection broke): another lbctl may take over; stopping");
  }
  return guarded_on(*m_state, "heartbeat", [&]() -> Result<void> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows = exec_params(tx, "UPDATE lbctl.cutovers SET heartbeat_at = now() WHERE id = $1 AND " +
                                         k_owner_holds("$2") + " RETURNING id",
                                     cutover_id, fence_of(*m_state, cutover_id));
    if (!rows.empty()) return {};
    if (exec_params(pqxx::nontransaction(*m_state->db), "SELECT 1 FROM lbctl.cutovers WHERE id = $1", cutover_id)
            .empty()) {
      return fail(ErrorKind::invalid, "no cutover " + std::to_string(cutover_id));
    }
    return taken_over(cutover_id);
  });
}

namespace {

// The reads-and-writes connection, opened again when the server closed it (a
// restart of the database closes every session).
Result<void> ensure_connected(PgJournal::State& state) {
  if (state.db && !server_closed(*state.db)) return {};
  auto db = connect(state.options.database_url, application_name("lbctl journal", state.options.host, state.options.pid),
                    state.options.connect_timeout, journal_timeouts(state.options));
  if (!db) return std::unexpected(db.error().with_context("state database"));
  state.db = std::move(*db);
  return {};
}

// This journal's own lock sessions from before the outage that the server
// still keeps: behind a proxy (pgbouncer, an LB) the server never sees the
// client go, so its keepalives cannot free the lock. Ended here (a role may
// end its own sessions); true when there was one.
bool end_lost_lock_sessions(PgJournal::State& state) {
  const auto ended = exec_params(pqxx::nontransaction(*state.db),
      "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 2000)) FROM pg_stat_activity "
      "WHERE application_name LIKE $1 AND pid <> pg_backend_pid()",
      "lbctl[" + state.nonce + "]%");
  return ended[0][0].as<std::int64_t>() > 0;
}

// The row `reacquire` found is still this lbctl's own: its owner token, and
// the version it last wrote (or the one after, a save whose answer was lost).
Result<void> still_ours(const Cutover& stored, std::int64_t version, const std::string& token) {
  const bool ours = !token.empty() && stored.owner_token == token;
  if (ours && (stored.version == version || stored.version == version + 1) &&
      (stored.status == CutoverStatus::running || stored.status == CutoverStatus::interrupted)) {
    return {};
  }
  return fail(ErrorKind::conflict,
              "cutover " + std::to_string(stored.id) + " changed while the state database was out of reach (now " +
                  std::string(to_string(stored.status)) + ", version " + std::to_string(stored.version) +
                  ", this lbctl had " + std::to_string(version) + "; owner host " + stored.host + ", pid " +
                  std::to_string(stored.pid) + "): this lbctl no longer owns it and must stop");
}

}  // namespace

Result<Cutover> PgJournal::reacquire(std::int64_t cutover_id, std::int64_t version, const std::string& host, int pid) {
  return guarded("taking the service lock again", [&]() -> Result<Cutover> {
    if (auto connected = ensure_connected(*m_state); !connected) return std::unexpected(connected.error());
    const auto read = [&] {
      pqxx::nontransaction tx(*m_state->db);
      const auto rows =
          exec_params(tx, "SELECT " + k_cutover_columns + " FROM lbctl.cutovers c WHERE c.id = $1", cutover_id);
      return rows.empty() ? std::optional<Cutover>() : std::optional<Cutover>(read_cutover(rows[0]));
    };
    const auto before = read();
    if (!before) return fail(ErrorKind::invalid, "no cutover " + std::to_string(cutover_id));
    if (auto ours = still_ours(*before, version, fence_of(*m_state, cutover_id)); !ours) {
      release();
      return std::unexpected(ours.error());
    }
    const bool kept =
        m_state->lock && m_state->lock_service == before->service && m_state->lock->holds(m_state->lock_key);
    if (!kept) {
      m_state->lock.reset();  // its connection broke: the server let the lock go with it, or will
      m_state->lock_service.clear();
      auto locked = take_service_lock(*m_state, before->service, host, pid);
      if (!locked && locked.error().kind == ErrorKind::conflict && end_lost_lock_sessions(*m_state)) {
        locked = take_service_lock(*m_state, before->service, host, pid);
      }
      if (!locked) {
        if (locked.error().kind != ErrorKind::conflict) return std::unexpected(locked.error());
        // The cutover is still ours (its token unchanged): the lock is held by
        // this lbctl's own session from before, which the server has not
        // found dead yet (a partition: no reset came), or by an lbctl about
        // to take over once the lease ran out. Either way: not yet.
        return fail(ErrorKind::unreachable, "the service lock is still held (" + locked.error().message +
                                                "); this lbctl's session from before the outage, as far as the "
                                                "journal says: the server frees it within state.lease + 10 s");
      }
    }
    // Read again with the lock held: a take-over in between shows now.
    const auto stored = read();
    if (auto ours = still_ours(*stored, version, fence_of(*m_state, cutover_id)); !ours) {
      release();
      return std::unexpected(ours.error());
    }
    exec_params(pqxx::nontransaction(*m_state->db),
                "UPDATE lbctl.cutovers SET heartbeat_at = now() WHERE id = $1 AND owner_token = $2", cutover_id,
                stored->owner_token);
    m_state->silent = false;
    return *stored;
  });
}

void PgJournal::release() {
  if (!m_state) return;
  // A cutover left running is given up, so another lbctl need not wait for
  // the lease; a database that stopped answering is sent nothing more (the
  // lease then runs out by itself).
  if (m_state->owned != 0 && !m_state->silent && m_state->db && !server_closed(*m_state->db)) {
    (void)guarded("giving up the cutover", [&]() -> Result<void> {
      exec_params(pqxx::nontransaction(*m_state->db),
                  "UPDATE lbctl.cutovers SET owner_token = NULL WHERE id = $1 AND owner_token = $2", m_state->owned,
                  m_state->token);
      return {};
    });
  }
  m_state->owned = 0;
  m_state->token.clear();
  if (!m_state->lock) return;
  if (!m_state->silent) m_state->lock->unlock(m_state->lock_key);
  m_state->lock.reset();
  m_state->lock_service.clear();
}

Result<std::chrono::milliseconds> PgJournal::lease_left(const std::string& service) {
  return guarded_on(*m_state, "reading the lease", [&]() -> Result<std::chrono::milliseconds> {
    pqxx::nontransaction tx(*m_state->db);
    const auto rows = exec_params(tx,
        "SELECT greatest(0, extract(epoch FROM heartbeat_at + make_interval(secs => $2::double precision / 1000) "
        "- now()) * 1000)::bigint FROM lbctl.cutovers WHERE service = $1 AND status = 'running' "
        "AND owner_token IS NOT NULL ORDER BY id DESC LIMIT 1",
        service, static_cast<double>(m_state->options.lease.count()));
    if (rows.empty()) return std::chrono::milliseconds(0);
    return std::chrono::milliseconds(rows[0][0].as<std::int64_t>());
  });
}

}  // namespace lbctl::db
