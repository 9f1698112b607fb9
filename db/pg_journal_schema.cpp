// Schema lbctl, versioned: each entry upgrades from the previous version.
// Never edit an entry that has shipped; append a new one.

#include <array>

#include "db/pg_journal_state.hpp"
#include "db/pqxx_compat.hpp"

namespace lbctl::db {

namespace {

struct SchemaStep {
  int version;
  const char* ddl;
};

constexpr std::array k_schema_steps{
    SchemaStep{1, R"sql(
CREATE TABLE lbctl.services (
  id serial PRIMARY KEY,  -- the service lock's key
  name text NOT NULL UNIQUE
);
CREATE TABLE lbctl.cutovers (
  id bigserial PRIMARY KEY,
  service text NOT NULL REFERENCES lbctl.services (name),
  status text NOT NULL CHECK (status IN ('running', 'completed', 'rolled_back', 'needs_operator')),
  step text NOT NULL,
  mode text NOT NULL,
  config jsonb NOT NULL,
  lb_snapshot jsonb,
  progress jsonb NOT NULL DEFAULT '{}',
  host text NOT NULL,
  pid integer NOT NULL,
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz NOT NULL DEFAULT now(),
  step_started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  error text,
  version bigint NOT NULL DEFAULT 1,
  abort_requested_at timestamptz
);
CREATE INDEX cutovers_by_service ON lbctl.cutovers (service, id DESC);
-- One unfinished cutover per service, whatever the locks say.
CREATE UNIQUE INDEX cutovers_one_active ON lbctl.cutovers (service)
  WHERE status IN ('running', 'needs_operator');
CREATE TABLE lbctl.cutover_servers (
  cutover_id bigint NOT NULL REFERENCES lbctl.cutovers (id) ON DELETE CASCADE,
  pool text NOT NULL CHECK (pool IN ('old', 'new')),
  name text NOT NULL,
  address text NOT NULL,
  state text NOT NULL,
  haproxy_id integer,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cutover_id, name)
);
CREATE TABLE lbctl.events (
  id bigserial PRIMARY KEY,
  cutover_id bigint NOT NULL REFERENCES lbctl.cutovers (id) ON DELETE CASCADE,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  step text NOT NULL,
  kind text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_by_cutover ON lbctl.events (cutover_id, id);
)sql"},
    SchemaStep{2, R"sql(
-- What lbctl last left on each LB of a service (its servers, their
-- addresses, ids, admin states, weights): what drift is measured against
-- and what `lbctl reconcile` restores.
CREATE TABLE lbctl.lb_records (
  service text NOT NULL REFERENCES lbctl.services (name),
  lb text NOT NULL,
  backend text NOT NULL,
  state jsonb NOT NULL,
  cutover_id bigint,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (service, lb)
);
)sql"},
    SchemaStep{3, R"sql(
-- Restores of the application database from the backup a cutover took
-- (`lbctl restore`), so `lbctl history` shows them.
CREATE TABLE lbctl.restores (
  id bigserial PRIMARY KEY,
  service text NOT NULL REFERENCES lbctl.services (name),
  cutover_id bigint NOT NULL REFERENCES lbctl.cutovers (id),
  backup_path text NOT NULL,
  backup_taken_at timestamptz,
  status text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  run_by text NOT NULL,
  host text NOT NULL,
  pid integer NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  error text,
  detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX restores_by_service ON lbctl.restores (service, id DESC);
)sql"},
    SchemaStep{4, R"sql(
-- The release each cutover deploys (--release, or r<id>) and the one it
-- replaces (the last completed cutover's).
ALTER TABLE lbctl.cutovers ADD COLUMN release text, ADD COLUMN old_release text;
)sql"},
    SchemaStep{5, R"sql(
-- `lbctl promote` and `lbctl undo` from any machine: when, and who
-- ("alice@web1"); the first request is kept.
ALTER TABLE lbctl.cutovers ADD COLUMN promote_requested_at timestamptz, ADD COLUMN promote_requested_by text,
  ADD COLUMN undo_requested_at timestamptz, ADD COLUMN undo_requested_by text;
)sql"},
    SchemaStep{6, R"sql(
-- Who runs a cutover now: a token made fresh at every adoption (start,
-- resume, abort from another host), written with the service lock held;
-- every write of the owner is conditional on it. NULL: its runner gave it
-- up. And `stopped`: a cutover that ended before changing any load balancer.
ALTER TABLE lbctl.cutovers ADD COLUMN owner_token text;
ALTER TABLE lbctl.cutovers DROP CONSTRAINT cutovers_status_check;
ALTER TABLE lbctl.cutovers ADD CONSTRAINT cutovers_status_check
  CHECK (status IN ('running', 'completed', 'rolled_back', 'needs_operator', 'stopped'));
)sql"},
    SchemaStep{7, R"sql(
-- Cutovers asked for through the database (`lbctl submit`, serve's POST) and
-- run by `lbctl agent`: queued, then taken by the cutover that carries it
-- out, in the same commit as that cutover's row (so a request runs once).
CREATE TABLE lbctl.requests (
  id bigserial PRIMARY KEY,
  service text NOT NULL REFERENCES lbctl.services (name),
  release text NOT NULL DEFAULT '',
  requested_by text NOT NULL,
  config_digest text NOT NULL DEFAULT '',
  requested_at timestamptz NOT NULL DEFAULT now(),
  state text NOT NULL CHECK (state IN ('queued', 'taken')),
  cutover_id bigint UNIQUE REFERENCES lbctl.cutovers (id),
  agent text,
  taken_at timestamptz,
  CHECK ((state = 'taken') = (cutover_id IS NOT NULL))
);
CREATE INDEX requests_queued ON lbctl.requests (service, id) WHERE state = 'queued';
CREATE INDEX requests_by_service ON lbctl.requests (service, id DESC);
)sql"},
};

constexpr int k_latest = k_schema_steps.back().version;

// nullopt when schema lbctl has no version table yet.
std::optional<int> stored_version(pqxx::transaction_base& tx) {
  if (tx.exec("SELECT to_regclass('lbctl.schema_version') IS NULL")[0][0].as<bool>()) return std::nullopt;
  const auto rows = tx.exec("SELECT version FROM lbctl.schema_version");
  return rows.empty() ? 0 : rows[0][0].as<int>();
}

std::unexpected<Error> too_new(int version) {
  return fail(ErrorKind::invalid, "the state database's lbctl schema is version " + std::to_string(version) +
                                      ", newer than this lbctl knows (" + std::to_string(k_latest) +
                                      "): upgrade lbctl");
}

}  // namespace

int PgJournal::schema_version() { return k_latest; }

Result<void> ensure_schema(pqxx::connection& connection) {
  return guarded("creating schema lbctl", [&]() -> Result<void> {
    {
      // The common case, and the only one a read-only user can pass: up to date.
      pqxx::nontransaction read(connection);
      const auto version = stored_version(read);
      if (version && *version > k_latest) return too_new(*version);
      if (version == k_latest) return {};
    }
    pqxx::work tx(connection);
    tx.exec("SET LOCAL lock_timeout = '30s'");
    // Two lbctl starting at once on a fresh database take turns here.
    exec_params(tx, "SELECT pg_advisory_xact_lock($1, 0)", k_space_schema_upgrade);
    tx.exec("CREATE SCHEMA IF NOT EXISTS lbctl");
    tx.exec(
        "CREATE TABLE IF NOT EXISTS lbctl.schema_version ("
        " only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),"
        " version integer NOT NULL,"
        " upgraded_at timestamptz NOT NULL DEFAULT now())");
    const int current = stored_version(tx).value_or(0);
    if (current > k_latest) return too_new(current);
    for (const auto& step : k_schema_steps) {
      if (step.version > current) tx.exec(step.ddl);
    }
    exec_params(tx,
        "INSERT INTO lbctl.schema_version (version) VALUES ($1) "
        "ON CONFLICT (only_row) DO UPDATE SET version = EXCLUDED.version, upgraded_at = now()",
        k_latest);
    tx.commit();
    return {};
  });
}

}  // namespace lbctl::db
