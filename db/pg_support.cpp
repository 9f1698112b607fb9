#include "db/pg_support.hpp"
#include "db/pqxx_compat.hpp"

#include <cstdlib>

#include <libpq-fe.h>

#include <nlohmann/json.hpp>

namespace lbctl::db {

namespace {

constexpr std::string_view k_locks_of_key =
    "FROM pg_locks l "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.classid::bigint = $1 AND l.objid::bigint = $2";

}  // namespace

std::string with_parameters(std::string url, const std::vector<std::pair<std::string, std::string>>& parameters) {
  const bool uri = url.starts_with("postgres://") || url.starts_with("postgresql://");
  for (const auto& [key, value] : parameters) {
    if (url.find(key + "=") != std::string::npos) continue;
    const std::string pair = key + "=" + value;
    if (uri) url += (url.find('?') == std::string::npos ? "?" : "&") + pair;
    else url = url.empty() ? pair : url + " " + pair;
  }
  return url;
}

std::string with_connect_timeout(const std::string& url, std::chrono::seconds timeout) {
  return with_parameters(url, {{"connect_timeout", std::to_string(std::max<std::int64_t>(1, timeout.count()))}});
}

std::vector<std::pair<std::string, std::string>> partition_parameters(std::chrono::milliseconds partition) {
  // idle + count x interval = partition: 2/5 idle, then 3 probes 1/5 apart.
  const auto seconds = [](std::chrono::milliseconds d) {
    return std::to_string(std::max<std::int64_t>(1, (d.count() + 999) / 1000));
  };
  return {{"keepalives", "1"},
          {"keepalives_idle", seconds(partition * 2 / 5)},
          {"keepalives_interval", seconds(partition / 5)},
          {"keepalives_count", "3"},
          {"tcp_user_timeout", std::to_string(partition.count())}};
}

Result<std::unique_ptr<pqxx::connection>> connect(const std::string& url, const std::string& application_name,
                                                  std::chrono::seconds timeout, ClientTimeouts timeouts) {
  auto connection = connect(with_parameters(url, partition_parameters(timeouts.partition)), application_name, timeout);
  if (!connection) return connection;
  try {
    set_session_variable(**connection, "statement_timeout", std::to_string(timeouts.statement.count()) + "ms");
  } catch (const std::exception& e) {
    return std::unexpected(Error{ErrorKind::unreachable, "cannot connect: " + server_message(e.what())});
  }
  return connection;
}

std::vector<std::pair<std::string, std::string>> libpq_secrets_of_this_process() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* name : {"PGPASSWORD", "PGPASSFILE"}) {
    if (const char* value = std::getenv(name); value != nullptr) out.emplace_back(name, value);
  }
  return out;
}

Result<LibpqEnvironment> libpq_environment(const std::string& url) {
  char* problem = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &problem);
  if (problem != nullptr) PQfreemem(problem);
  if (options == nullptr) return fail(ErrorKind::invalid, "libpq cannot parse the database URL");
  LibpqEnvironment out;
  out.variables = libpq_secrets_of_this_process();
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || o->val[0] == '\0') continue;
    if (o->envvar != nullptr) {
      out.variables.emplace_back(o->envvar, o->val);
      continue;
    }
    if (std::string_view(o->keyword).find("password") != std::string_view::npos) {
      PQconninfoFree(options);
      return fail(ErrorKind::invalid, std::string("the database URL's ") + o->keyword +
                                          " has no libpq environment variable: it would show in psql's argv");
    }
    std::string value;
    for (const char* c = o->val; *c != '\0'; ++c) {
      if (*c == '\'' || *c == '\\') value += '\\';
      value += *c;
    }
    out.rest += (out.rest.empty() ? "" : " ") + std::string(o->keyword) + "='" + value + "'";
  }
  PQconninfoFree(options);
  return out;
}

Result<std::unique_ptr<pqxx::connection>> connect(const std::string& url, const std::string& application_name,
                                                  std::chrono::seconds timeout) {
  try {
    auto connection = std::make_unique<pqxx::connection>(with_connect_timeout(url, timeout));
    set_session_variable(*connection, "client_min_messages", "warning");
    set_session_variable(*connection, "application_name", application_name);
    return connection;
  } catch (const std::exception& e) {
    return std::unexpected(Error{ErrorKind::unreachable, "cannot connect: " + server_message(e.what())});
  }
}

std::string server_message(std::string_view what) {
  std::string_view line = what.substr(0, what.find('\n'));
  for (std::string_view prefix : {"ERROR:  ", "FATAL:  ", "ERROR: ", "FATAL: "}) {
    if (line.starts_with(prefix)) {
      line.remove_prefix(prefix.size());
      break;
    }
  }
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
  return std::string(line);
}

std::string sqlstate_of(const std::exception& e) {
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) return sql->sqlstate();
  // libpqxx 6 throws these without their SQLSTATE (they are not sql_errors).
  if (dynamic_cast<const pqxx::deadlock_detected*>(&e)) return "40P01";
  if (dynamic_cast<const pqxx::serialization_failure*>(&e)) return "40001";
  if (dynamic_cast<const pqxx::statement_completion_unknown*>(&e)) return "40003";
  return {};
}

Error to_error(const std::exception& e, std::string_view what) {
  const std::string context = std::string(what) + ": ";
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) {
    return Error{ErrorKind::unreachable, context + "lost the connection to the database: " + server_message(e.what())};
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
    return Error{ErrorKind::refused, context + "the connection broke during COMMIT; it may or may not have committed"};
  }
  const std::string state = sqlstate_of(e);
  // 22P02, invalid_text_representation: a value Postgres could not read as
  // its type (text that is not JSON cast to jsonb): the input was wrong.
  if (state == "22P02") return Error{ErrorKind::invalid, context + server_message(e.what())};
  return Error{ErrorKind::refused,
               context + server_message(e.what()) + (state.empty() ? "" : " (SQLSTATE " + state + ")")};
}

SystemTime from_epoch_us(std::int64_t us) { return SystemTime{std::chrono::microseconds(us)}; }

bool is_json(std::string_view text) { return nlohmann::json::accept(text); }

std::optional<std::string> describe_lock_holder(pqxx::transaction_base& tx, AdvisoryKey key) {
  const auto rows = exec_params(tx,
      "SELECT l.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local'), "
      "(extract(epoch FROM a.backend_start) * 1000000)::bigint "
      "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid " +
          std::string(k_locks_of_key.substr(k_locks_of_key.find("WHERE"))) + " LIMIT 1",
      key.space, key.key);
  if (rows.empty()) return std::nullopt;
  const auto& row = rows[0];
  std::string text = row[1].as<std::string>().empty() ? "a session" : "'" + row[1].as<std::string>() + "'";
  text += " (server pid " + row[0].as<std::string>() + ", from " + row[2].as<std::string>();
  if (!row[3].is_null()) text += ", connected " + format_utc(from_epoch_us(row[3].as<std::int64_t>()));
  return text + ")";
}

std::string application_name(std::string_view what, std::string_view host, int pid) {
  std::string name = std::string(what) + " host=" + std::string(host) + " pid=" + std::to_string(pid);
  if (name.size() > 63) name.resize(63);
  return name;
}

}  // namespace lbctl::db
