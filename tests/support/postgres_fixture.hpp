#pragma once
// A throwaway Postgres 15 cluster: initdb and pg_ctl as the postgres user, a
// unix socket in a temp dir, no TCP; stopped and removed at scope exit.

#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace lbctl::test {

struct PostgresOptions {
  // Also listen on TCP (a free port, tcp_port()), for tests of what crosses a network.
  bool tcp = false;
  // The address it listens on with tcp; one that is not loopback (a lab
  // host's) also lets its whole subnet in (trust, as a test cluster).
  std::string listen_address = "127.0.0.1";
  // argv prefix the server runs under (a lab host's, say).
  std::vector<std::string> launcher{};
};

class PostgresFixture {
 public:
  // `tcp`: also listen on 127.0.0.1 (a free port, tcp_port()), for tests of
  // what crosses a network.
  explicit PostgresFixture(bool tcp = false) : PostgresFixture(PostgresOptions{.tcp = tcp}) {}
  explicit PostgresFixture(PostgresOptions options);
  ~PostgresFixture();

  // A libpq connection string for `dbname` as the superuser.
  std::string url(const std::string& dbname = "postgres") const;
  const std::string& socket_dir() const { return m_socket_dir; }
  // The TCP port (0 without tcp), and a libpq URL to `dbname` through
  // host:port (a relay to it, say).
  std::uint16_t tcp_port() const { return m_tcp_port; }
  std::string tcp_url(const std::string& dbname, const std::string& host, std::uint16_t port) const;
  void create_database(const std::string& name);
  // Runs SQL (several statements allowed) in autocommit.
  void execute(const std::string& sql, const std::string& dbname = "postgres");
  // The first column of the first row, "" when there is none or it is NULL.
  std::string query_value(const std::string& sql, const std::string& dbname = "postgres");
  // pg_dump --schema-only, for before/after comparisons.
  std::string dump_schema(const std::string& dbname);
  // Stops it at once (as a crash or a failover would: every session gone);
  // start() brings the same cluster back.
  void stop();
  void start();

 private:
  PostgresOptions m_options;
  TempDir m_dir;
  std::string m_data_dir;
  std::string m_socket_dir;
  bool m_running = false;
  std::uint16_t m_port = 5432;
  std::uint16_t m_tcp_port = 0;
};

// Runs argv as the postgres user when we are root (initdb and pg_ctl refuse root).
std::vector<std::string> as_postgres(std::vector<std::string> argv);

// The server programs' folder, with its trailing '/': the newest
// /usr/lib/postgresql/N/bin holding initdb (15 on Debian 12, 17 on Debian 13).
const std::string& pg_bin();

}  // namespace lbctl::test
