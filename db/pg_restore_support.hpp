#pragma once
// What PgRestore's two files share: the query for what depends on the
// backup's schemas from outside them, and how it reads psql's failures.
// Internal to db/.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/private_files.hpp"

namespace lbctl::db {

// pg_restore's list and value reads can be long for a large schema.
inline constexpr std::size_t k_large_output = std::size_t{256} << 20;

// A query listing, as pg_describe_object words them ("view reports.v"),
// the objects outside the schemas in `schemas_array` (an SQL text[]
// expression) that depend on an object inside them: the restore's DROP ...
// CASCADE would take them too, so it refuses instead.
std::string outside_dependents_query(const std::string& schemas_array);

// What psql's exit status and stderr say about a failed run.
enum class PsqlFailure {
  busy,             // a lock timeout or deadlock: rolled back, worth another try
  not_connected,    // it never connected: nothing ran
  connection_lost,  // the connection broke mid-way: COMMIT may or may not have happened
  rolled_back,      // an SQL error (ON_ERROR_STOP): rolled back
};
PsqlFailure classify_psql_failure(int exit_code, std::string_view err);

}  // namespace lbctl::db
