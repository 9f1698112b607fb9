#pragma once
// A config for `lbctl history` and `lbctl migrate` against a throwaway
// Postgres: databases lbctl (state) and app (migrations), a migrations
// folder and a backup folder in a temp dir.

#include <string>

#include "tests/support/child_process.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace lbctl::test {

struct CommandSetup {
  PostgresFixture pg;
  TempDir dir;
  std::string config;

  explicit CommandSetup(const std::string& migrations_extra = "lock_timeout: 500ms\n  lock_wait: 30s\n") {
    pg.create_database("lbctl");
    pg.create_database("app");
    config = dir.write("shop.yaml",
                       "service: shop\n"
                       "state: {database_url: \"" +
                           pg.url("lbctl") +
                           "\"}\n"
                           "load_balancers:\n"
                           "  - {name: lb1, runtime_api: \"unix:/run/haproxy/admin.sock\", backend: app}\n"
                           "provider:\n"
                           "  type: static\n"
                           "  servers: [{name: v2-1, address: \"127.0.0.1:8201\"}]\n"
                           "migrations:\n"
                           "  database_url: \"" +
                           pg.url("app") +
                           "\"\n"
                           "  dir: migrations\n"
                           "  " +
                           migrations_extra +
                           "  backup:\n"
                           "    command: [\"pg_dump\", \"-Fc\", \"-f\", \"{backup_dir}/{service}-{timestamp}.dump\", "
                           "\"{database_url}\"]\n"
                           "    dir: backups\n")
                 .string();
  }

  CommandOutput lbctl(std::vector<std::string> args) {
    args.insert(args.begin(), LBCTL_BINARY);
    return run_command(args);
  }

  std::string value(const std::string& sql, const std::string& db = "app") { return pg.query_value(sql, db); }
};

}  // namespace lbctl::test
