#include "tests/support/catch.hpp"

#include "tests/support/child_process.hpp"
#include "tests/support/haproxy_fixture.hpp"
#include "tests/support/postgres_fixture.hpp"

using namespace lbctl::test;

TEST_CASE("the HAProxy fixture starts a real HAProxy with both admin sockets", "[integration][fixture]") {
  HaproxyOptions options;
  options.servers.push_back({"old-1", "127.0.0.1:1", ""});
  HaproxyFixture haproxy(options);
  // The HAProxy the tests were told to run (LBCTL_TEST_HAPROXY, else PATH's): its -v names the version it answers with.
  const std::string version = haproxy.version();
  REQUIRE_FALSE(version.empty());
  const auto v = run_command({haproxy_program(), "-v"});
  CHECK_THAT(v.out, Catch::Contains("HAProxy version " + version + " "));
  CHECK(haproxy.at_least(2, 6));  // what lbctl supports
  CHECK(haproxy.servers() == std::vector<std::string>{"old-1"});
  CHECK(haproxy.runtime_api_tcp().rfind("tcp:127.0.0.1:", 0) == 0);
}

TEST_CASE("the Postgres fixture starts a throwaway cluster", "[integration][fixture]") {
  PostgresFixture pg;
  pg.create_database("app");
  pg.execute("CREATE TABLE t (id int)", "app");
  CHECK(pg.query_value("SELECT count(*) FROM t", "app") == "0");
  CHECK(pg.dump_schema("app").find("CREATE TABLE public.t") != std::string::npos);
}
