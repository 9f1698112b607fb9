#pragma once
// libpqxx 6.4 (Debian 12) and 7.10 (Debian 13) from one source. 7.10
// deprecates exec_params (for exec(query, params)) and set_variable (for
// set_session_var, which quotes the value itself); 6.4 has neither
// replacement. The build uses warnings as errors, so every query with
// parameters and every session variable goes through here. Internal to db/.

#include <pqxx/pqxx>
#include <pqxx/version>
#include <string>
#include <string_view>
#include <utility>

#if PQXX_VERSION_MAJOR > 7 || (PQXX_VERSION_MAJOR == 7 && PQXX_VERSION_MINOR >= 10)
#define LBCTL_PQXX_EXEC_WITH_PARAMS 1
#else
#define LBCTL_PQXX_EXEC_WITH_PARAMS 0
#endif

namespace lbctl::db {

// `query` with $1, $2, ... bound to `args` (sent apart from the SQL, never
// spliced into it), in transaction `tx` (a work, a nontransaction, ...).
template <typename Transaction, typename... Args>
pqxx::result exec_params(Transaction&& tx, const std::string& query, Args&&... args) {
#if LBCTL_PQXX_EXEC_WITH_PARAMS
  return tx.exec(pqxx::zview(query), pqxx::params(std::forward<Args>(args)...));
#else
  return tx.exec_params(query, std::forward<Args>(args)...);
#endif
}

// `SET name = value` for the session, `value` as plain text ("warning",
// "5000ms", an application name): quoted as a literal here.
inline void set_session_variable(pqxx::connection& connection, const std::string& name, const std::string& value) {
#if LBCTL_PQXX_EXEC_WITH_PARAMS
  connection.set_session_var(name, value);
#else
  connection.set_variable(name, connection.quote(value));
#endif
}

}  // namespace lbctl::db
