// `lbctl restore` with maintenance configured, against a real HAProxy: the
// page goes on for the restore and stays on until the previous release is
// back, as the command says.

#include "tests/support/catch.hpp"

#include "tests/integration/db/cutover_backup_support.hpp"
#include "tests/support/app_server_fixture.hpp"
#include "tests/support/haproxy_fixture.hpp"

using namespace lbctl::test;

TEST_CASE("a restore turns the maintenance page on and leaves it on until `maintenance off`",
          "[integration][restore][maintenance]") {
  TempDir dir;
  PostgresFixture pg;
  pg.create_database("lbctl");
  pg.create_database("app");
  pg.execute("CREATE TABLE orders (id serial PRIMARY KEY, item text); INSERT INTO orders (item) VALUES ('a')", "app");
  dir.write("migrations/pre/1_total.sql", "ALTER TABLE orders ADD COLUMN total int;\n");
  const std::string map = dir.write("maintenance.map", "").string();
  AppServerFixture app;
  HaproxyOptions options;
  options.servers.push_back({"old-1", app.address(), ""});
  options.extra_frontend.push_back("http-request return status 503 content-type \"text/plain\" lf-string "
                                   "\"%[str(maintenance),map(" + map + ")]\" if { str(maintenance),map(" + map +
                                   ") -m found }");
  HaproxyFixture lb(options);
  const auto config = dir.write(
      "shop.yaml", "service: shop\nstate: {database_url: \"" + pg.url("lbctl") +
                       "\"}\nload_balancers:\n  - {name: lb1, runtime_api: \"" + lb.runtime_api_unix() +
                       "\", backend: app}\nprovider:\n  type: static\n  servers: [{name: v2-1, address: "
                       "\"127.0.0.1:8201\"}]\nmigrations:\n  database_url: \"" + pg.url("app") +
                       "\"\n  dir: migrations\n  backup:\n    command: [\"pg_dump\", \"-Fc\", \"-f\", "
                       "\"{backup_dir}/{service}-{cutover_id}.dump\", \"{database_url}\"]\n    dir: backups\n"
                       "maintenance:\n  map: " + map + "\n  message: \"Restoring the database\"\n");
  const auto cutover = cutover_with_migrations(config);
  REQUIRE(http_get(lb.frontend_port(), "/").status == 200);

  auto restored = run_command(
      {LBCTL_BINARY, "restore", "-c", config.string(), "--cutover", std::to_string(cutover.id), "--yes"});
  INFO(restored.out);
  CHECK(restored.exit_code == 0);
  CHECK(pg.query_value("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders'", "app") == "2");
  const auto page = http_get(lb.frontend_port(), "/");
  CHECK(page.status == 503);
  CHECK(page.body == "Restoring the database");
  CHECK(restored.out.find("the maintenance page stays on until then: `lbctl maintenance off -c " + config.string() +
                          "`") != std::string::npos);

  REQUIRE(run_command({LBCTL_BINARY, "maintenance", "off", "-c", config.string()}).exit_code == 0);
  CHECK(http_get(lb.frontend_port(), "/").status == 200);
}
