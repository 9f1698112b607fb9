#include "db/pg_lock_session.hpp"

#include <libpq-fe.h>

namespace lbctl::db {

struct LockSession::Conn {
  PGconn* pg = nullptr;
};

namespace {

// Postgres's message without "FATAL:  " and trailing newlines.
std::string message_of(PGconn* pg) { return server_message(PQerrorMessage(pg)); }

}  // namespace

Result<std::unique_ptr<LockSession>> LockSession::open(const std::string& url, const std::string& application_name,
                                                       std::chrono::seconds connect_timeout,
                                                       std::chrono::milliseconds partition,
                                                       std::chrono::milliseconds released_after) {
  const std::string timeout = std::to_string(std::max<long long>(1, connect_timeout.count()));
  // The URL's own values win: the parameters go into it only where it has none.
  const std::string dbname = with_parameters(url, partition_parameters(partition));
  const char* keywords[] = {"dbname", "application_name", "connect_timeout", nullptr};
  const char* values[] = {dbname.c_str(), application_name.c_str(), timeout.c_str(), nullptr};
  // expand_dbname: the URL's own settings apply, then the ones above.
  PGconn* pg = PQconnectdbParams(keywords, values, 1);
  if (pg == nullptr) return fail(ErrorKind::unreachable, "cannot connect: out of memory");
  if (PQstatus(pg) != CONNECTION_OK) {
    std::string message = "cannot connect: " + message_of(pg);
    PQfinish(pg);
    return fail(ErrorKind::unreachable, std::move(message));
  }
  // A machine that vanishes without closing its TCP connection loses the
  // lock after `released_after`, not after the kernel's two hours (ignored
  // on unix sockets): idle + 3 probes = released_after, and data the server
  // sent that is never acknowledged counts the same.
  const auto seconds = [](std::chrono::milliseconds d) { return std::to_string(std::max<long long>(1, d.count() / 1000)); };
  const std::string server_side = "SET tcp_keepalives_idle = " + seconds(released_after / 2) +
                                  "; SET tcp_keepalives_interval = " + seconds(released_after / 6) +
                                  "; SET tcp_keepalives_count = 3; SET tcp_user_timeout = " +
                                  std::to_string(released_after.count()) + "; SET statement_timeout = " +
                                  std::to_string(partition.count() * 3);
  PQclear(PQexec(pg, server_side.c_str()));
  return std::unique_ptr<LockSession>(new LockSession(new Conn{pg}));
}

LockSession::LockSession(Conn* conn) : m_conn(conn) {}

LockSession::~LockSession() {
  PQfinish(m_conn->pg);
  delete m_conn;
}

Result<std::string> LockSession::query_value(const std::string& sql, AdvisoryKey key) {
  const std::string space = std::to_string(key.space);
  const std::string id = std::to_string(key.key);
  const char* params[] = {space.c_str(), id.c_str()};
  PGresult* result = PQexecParams(m_conn->pg, sql.c_str(), 2, nullptr, params, nullptr, nullptr, 0);
  std::unique_ptr<PGresult, decltype(&PQclear)> owned(result, &PQclear);
  if (PQstatus(m_conn->pg) != CONNECTION_OK) {
    return fail(ErrorKind::unreachable, "lost the connection to the state database: " + message_of(m_conn->pg));
  }
  if (result == nullptr || PQresultStatus(result) != PGRES_TUPLES_OK) {
    return fail(ErrorKind::refused, message_of(m_conn->pg));
  }
  if (PQntuples(result) < 1 || PQgetisnull(result, 0, 0)) return std::string();
  return std::string(PQgetvalue(result, 0, 0));
}

Result<bool> LockSession::try_lock(AdvisoryKey key) {
  auto value = query_value("SELECT pg_try_advisory_lock($1::int, $2::int)", key);
  if (!value) return std::unexpected(value.error());
  return *value == "t";
}

bool LockSession::holds(AdvisoryKey key) {
  auto value = query_value(
      "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
      "AND pid = pg_backend_pid() AND classid::bigint = $1::bigint AND objid::bigint = $2::bigint "
      "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      key);
  return value && *value != "0";
}

void LockSession::unlock(AdvisoryKey key) { (void)query_value("SELECT pg_advisory_unlock($1::int, $2::int)", key); }

}  // namespace lbctl::db
