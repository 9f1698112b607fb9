#pragma once
// What PgRestore's two files share: a private folder for the files it hands
// pg_restore and psql, and how it reads psql's failures. Internal to db/.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace lbctl::db {

// pg_restore's list and value reads can be long for a large schema.
inline constexpr std::size_t k_large_output = std::size_t{256} << 20;

// A folder only this user can read (mode 0700: a restore script holds the
// whole database), beside the backup so it sits on storage sized for dumps;
// removed with everything in it when the object goes.
class PrivateDir {
 public:
  static Result<PrivateDir> create(const std::filesystem::path& parent);
  PrivateDir(PrivateDir&& other) noexcept;
  PrivateDir& operator=(PrivateDir&&) = delete;
  PrivateDir(const PrivateDir&) = delete;
  ~PrivateDir();

  const std::filesystem::path& path() const { return m_path; }
  // Writes `text` to `name` inside it; refused when it cannot.
  Result<std::filesystem::path> write(const std::string& name, std::string_view text) const;

 private:
  explicit PrivateDir(std::filesystem::path path) : m_path(std::move(path)) {}
  std::filesystem::path m_path;
};

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
