// `lbctl migrate baseline` and `lbctl migrate repair` as an operator runs them.

#include "tests/support/catch.hpp"
#include <nlohmann/json.hpp>

#include "db/sha256.hpp"
#include "tests/integration/db/command_support.hpp"

using namespace lbctl::test;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("lbctl migrate baseline --through 03, then lbctl migrate pre applies only 04",
          "[integration][db][cli][repair]") {
  CommandSetup s;
  s.pg.execute("CREATE TABLE orders (id serial PRIMARY KEY, total int)", "app");
  s.dir.write("migrations/pre/01_orders.sql", "CREATE TABLE orders (id serial PRIMARY KEY);\n");
  s.dir.write("migrations/pre/02_total.sql", "ALTER TABLE orders ADD COLUMN total int;\n");
  s.dir.write("migrations/post/03_drop_nothing.sql", "SELECT 1;\n");
  s.dir.write("migrations/pre/04_note.sql", "ALTER TABLE orders ADD COLUMN note text;\n");

  auto dry = s.lbctl({"migrate", "baseline", "-c", s.config, "--through", "03", "--dry-run"});
  INFO(dry.out);
  CHECK(dry.exit_code == 0);
  CHECK(contains(dry.out, "baseline through 03: would record 3 file(s) as applied without running them:"));
  CHECK(contains(dry.out, "  post/03_drop_nothing.sql  sha256 " + lbctl::db::sha256_hex("SELECT 1;\n")));
  CHECK(s.value("SELECT to_regclass('lbctl_schema_migrations') IS NULL") == "t");

  auto unasked = s.lbctl({"migrate", "baseline", "-c", s.config, "--through", "03"});
  CHECK(unasked.exit_code == 1);
  CHECK(contains(unasked.out, "nothing changed (give --yes)"));

  auto done = s.lbctl({"migrate", "baseline", "-c", s.config, "--through", "03", "--yes"});
  INFO(done.out);
  CHECK(done.exit_code == 0);
  CHECK(contains(done.out, "recorded 3 file(s) as applied (origin baseline) by "));
  CHECK(s.value("SELECT count(*) FROM lbctl_schema_migrations WHERE origin = 'baseline'") == "3");

  auto pre = s.lbctl({"migrate", "pre", "-c", s.config, "--no-backup"});
  INFO(pre.out);
  CHECK(pre.exit_code == 0);
  CHECK(contains(pre.out, "applied pre/04_note.sql in "));
  CHECK(contains(pre.out, "pre: applied 1 file(s)"));

  auto again = s.lbctl({"migrate", "baseline", "-c", s.config, "--through", "03", "--yes"});
  CHECK(again.exit_code == 2);
  CHECK(contains(again.out, "already has 4 row(s)"));
  auto typo = s.lbctl({"migrate", "baseline", "-c", s.config, "--through", "3x"});
  CHECK(typo.exit_code == 2);
}

TEST_CASE("lbctl migrate repair lists an interrupted file, --done clears it, migrate goes on",
          "[integration][db][cli][repair]") {
  CommandSetup s;
  s.pg.execute("CREATE TABLE orders (id int)", "app");
  s.dir.write("migrations/pre/1_index.sql",
              "-- lbctl:no-transaction\nCREATE INDEX CONCURRENTLY orders_id ON orders (id);\n");
  REQUIRE(s.lbctl({"migrate", "pre", "-c", s.config, "--no-backup"}).exit_code == 0);
  s.pg.execute("UPDATE lbctl_schema_migrations SET status = 'running'", "app");
  s.dir.write("migrations/pre/2_more.sql", "CREATE TABLE more (id int);\n");
  auto stuck = s.lbctl({"migrate", "pre", "-c", s.config, "--no-backup"});
  CHECK(stuck.exit_code == 3);
  CHECK(contains(stuck.out, "`lbctl migrate repair --done pre/1_index.sql`"));

  auto list = s.lbctl({"migrate", "repair", "-c", s.config});
  INFO(list.out);
  CHECK(list.exit_code == 3);
  CHECK(contains(list.out, "needs repair:\n  unfinished pre/1_index.sql: recorded running since "));
  auto json = s.lbctl({"migrate", "repair", "-c", s.config, "--json"});
  const auto listed = nlohmann::json::parse(json.out.substr(0, json.out.find('\n')));
  CHECK(listed["items"][0]["kind"] == "unfinished");
  CHECK(listed["items"][0]["file"] == "pre/1_index.sql");

  auto repaired = s.lbctl({"migrate", "repair", "-c", s.config, "--done", "pre/1_index.sql", "--yes"});
  INFO(repaired.out);
  CHECK(repaired.exit_code == 0);
  CHECK(contains(repaired.out, "repaired: mark pre/1_index.sql done (its change took effect); recorded by "));
  CHECK(s.value("SELECT count(*) FROM lbctl_schema_history_edits WHERE action = 'done'") == "1");
  auto clear = s.lbctl({"migrate", "repair", "-c", s.config});
  CHECK(clear.exit_code == 0);
  CHECK(contains(clear.out, "nothing needs repair"));
  auto pre = s.lbctl({"migrate", "pre", "-c", s.config, "--no-backup"});
  INFO(pre.out);
  CHECK(pre.exit_code == 0);
  CHECK(contains(pre.out, "applied pre/2_more.sql in "));
}

TEST_CASE("a changed applied file: migrate refuses, repair --accept shows both sums and records the new one",
          "[integration][db][cli][repair]") {
  CommandSetup s;
  const std::string old_text = "CREATE TABLE orders (id int);\n";
  const std::string new_text = "-- orders since v3\nCREATE TABLE orders (id int);\n";
  s.dir.write("migrations/pre/1_orders.sql", old_text);
  REQUIRE(s.lbctl({"migrate", "pre", "-c", s.config, "--no-backup"}).exit_code == 0);
  s.dir.write("migrations/pre/1_orders.sql", new_text);
  auto refused = s.lbctl({"migrate", "pre", "-c", s.config, "--no-backup"});
  CHECK(refused.exit_code == 2);
  CHECK(contains(refused.out, "was changed after it was applied"));

  const std::string old_sum = lbctl::db::sha256_hex(old_text);
  const std::string new_sum = lbctl::db::sha256_hex(new_text);
  auto dry = s.lbctl({"migrate", "repair", "-c", s.config, "--accept", "pre/1_orders.sql", "--dry-run"});
  INFO(dry.out);
  CHECK(dry.exit_code == 0);
  CHECK(contains(dry.out, "repair: accept pre/1_orders.sql as applied: sha256 " + old_sum + " (applied) -> " + new_sum +
                              " (now)"));
  CHECK(s.value("SELECT sha256 FROM lbctl_schema_migrations") == old_sum);
  auto accepted = s.lbctl({"migrate", "repair", "-c", s.config, "--accept", "pre/1_orders.sql", "--yes"});
  CHECK(accepted.exit_code == 0);
  CHECK(s.value("SELECT sha256 FROM lbctl_schema_migrations") == new_sum);
  CHECK(s.value("SELECT old_sha256 || '>' || new_sha256 FROM lbctl_schema_history_edits") == old_sum + ">" + new_sum);
  auto now = s.lbctl({"migrate", "pre", "-c", s.config, "--no-backup"});
  CHECK(now.exit_code == 0);
  CHECK(contains(now.out, "pre: nothing to apply"));
  auto wrong = s.lbctl({"migrate", "repair", "-c", s.config, "--done", "pre/1_orders.sql", "--yes"});
  CHECK(wrong.exit_code == 2);
  CHECK(contains(wrong.out, "pre/1_orders.sql is recorded done"));
  auto both = s.lbctl({"migrate", "repair", "-c", s.config, "--done", "a.sql", "--undo", "a.sql"});
  CHECK(both.exit_code == 2);
}
