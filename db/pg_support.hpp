#pragma once
// What PgJournal and PgMigrator share: connecting, mapping libpqxx's
// exceptions to Error at the edge, times, and naming an advisory lock's
// holder. Internal to db/ (it includes libpqxx).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "db/journal.hpp"

namespace lbctl::db {

using SystemTime = std::chrono::system_clock::time_point;

// Advisory lock keys in the two-int4 form (pg_locks: classid, objid,
// objsubid 2). `space` tells lbctl's locks from the application's own.
struct AdvisoryKey {
  std::int32_t space = 0;
  std::int32_t key = 0;
};

inline constexpr std::int32_t k_space_service_lock = 0x6c62'6331;    // "lbc1": one per service
inline constexpr std::int32_t k_space_schema_upgrade = 0x6c62'6332;  // "lbc2": lbctl's own DDL
inline constexpr std::int32_t k_space_migration_run = 0x6c62'6d31;   // "lbm1": one per application database

// Opens a connection (connect_timeout added unless the URL sets one), with
// notices below WARNING silenced and application_name set so a lock's
// holder can be named. Fails with unreachable; the message never holds the URL.
Result<std::unique_ptr<pqxx::connection>> connect(const std::string& url, const std::string& application_name,
                                                  std::chrono::seconds timeout);

// How a connection notices, from this side, a server that stopped answering
// without closing it (a partition: no reset ever comes): TCP keepalives from
// an idle connection and tcp_user_timeout for data sent but never
// acknowledged, both sized so the loss is an error within `partition`; and
// statement_timeout, set on the server, for a query that runs too long.
struct ClientTimeouts {
  std::chrono::milliseconds partition{10000};
  std::chrono::milliseconds statement{30000};
};
// libpq's keywords and values for `timeouts` (keepalives, keepalives_idle,
// keepalives_interval, keepalives_count, tcp_user_timeout); unix sockets
// ignore them.
std::vector<std::pair<std::string, std::string>> partition_parameters(std::chrono::milliseconds partition);
// connect() with them, and statement_timeout set.
Result<std::unique_ptr<pqxx::connection>> connect(const std::string& url, const std::string& application_name,
                                                  std::chrono::seconds timeout, ClientTimeouts timeouts);

// A connection string as libpq's environment variables (PGHOST, PGUSER,
// PGPASSWORD, ...), so a program lbctl starts (psql) connects without the URL
// in its argv, where `ps` shows it to every local user. Keywords that have no
// variable come back in `rest` (key=value, for -d; never the password).
// invalid when libpq cannot parse it (the message does not quote it).
struct LibpqEnvironment {
  std::vector<std::pair<std::string, std::string>> variables;
  std::string rest;
};
// lbctl's own PGPASSWORD and PGPASSFILE come first (no child inherits them,
// see withhold_from_children), so a URL without a password connects as lbctl
// itself does; the URL's own values win.
Result<LibpqEnvironment> libpq_environment(const std::string& url);

// lbctl's own PGPASSWORD and PGPASSFILE, where set: the programs that connect
// to the database for lbctl (pg_dump, psql) get them back explicitly.
std::vector<std::pair<std::string, std::string>> libpq_secrets_of_this_process();

// `url` with connect_timeout set, in URI or key=value form.
std::string with_connect_timeout(const std::string& url, std::chrono::seconds timeout);
// `url` with each keyword the URL does not set already, in URI or key=value form.
std::string with_parameters(std::string url, const std::vector<std::pair<std::string, std::string>>& parameters);

// Maps what libpqxx threw: broken_connection -> unreachable, in_doubt_error
// and sql_error and the rest -> refused. `what` says what was being done.
Error to_error(const std::exception& e, std::string_view what);

// Runs `body` (which returns Result<T>) and maps what libpqxx throws.
template <class F>
auto guarded(std::string_view what, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    return std::unexpected(to_error(e, what));
  }
}

// Postgres's first message line without its "ERROR:  " prefix.
std::string server_message(std::string_view what);

// The SQLSTATE of what libpqxx threw, "" when it carries none.
std::string sqlstate_of(const std::exception& e);

SystemTime from_epoch_us(std::int64_t us);

// True when `text` is one JSON value.
bool is_json(std::string_view text);

// Who holds `key` in the current database, as far as pg_stat_activity says:
// "'lbctl migrate pre host=a pid=7' (server pid 812, from local, connected
// 2026-11-21 10:15:30 UTC)". nullopt when nobody does.
std::optional<std::string> describe_lock_holder(pqxx::transaction_base& tx, AdvisoryKey key);

// The application_name lbctl uses, cut to Postgres's 63 bytes.
std::string application_name(std::string_view what, std::string_view host, int pid);

}  // namespace lbctl::db
