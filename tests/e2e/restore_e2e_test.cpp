// The runbook's downgrade path after a real cutover: lbctl restore puts the
// application database back to the backup the cutover took.

#include "tests/support/catch.hpp"
#include <sstream>

#include "tests/e2e/stack.hpp"

using namespace lbctl::test;

namespace {

// pg_dump --schema-only without the random \restrict key pg_dump 15.14+ writes.
std::string schema_of(PostgresFixture& pg) {
  std::string out;
  std::istringstream lines(pg.dump_schema("app"));
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("\\restrict") && !line.starts_with("\\unrestrict")) out += line + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("after a real cutover, restore --cutover 1 brings back the schema, rows and ids of before it",
          "[e2e][restore]") {
  Stack stack;
  auto& pg = stack.postgres();
  pg.execute("INSERT INTO orders (item, legacy_total) VALUES ('a', 1.5), ('b', 2.5)", "app");
  const std::string before = schema_of(pg);
  const auto cutover = stack.lbctl({"cutover", "--yes"});
  INFO(cutover.out);
  REQUIRE(cutover.exit_code == 0);
  REQUIRE_FALSE(stack.orders_has_column("legacy_total"));
  pg.execute("INSERT INTO orders (item, total_cents) VALUES ('c', 300)", "app");

  const auto restored = stack.lbctl({"restore", "--cutover", "1", "--yes"});
  INFO(restored.out);
  CHECK(restored.exit_code == 0);
  CHECK(restored.out.find("public.orders: 1 row(s) with id > 2 written since the backup") != std::string::npos);
  CHECK(schema_of(pg) == before);
  CHECK(pg.query_value("SELECT string_agg(item, ',' ORDER BY id) FROM orders", "app") == "a,b");
  CHECK(pg.query_value("SELECT nextval('orders_id_seq')", "app") == "3");
  // The history did not exist before the first migration: both files are pending again.
  CHECK(stack.lbctl({"migrate", "pre", "--dry-run"}).out.find("pre: 1 pending (0 applied)") != std::string::npos);
  CHECK(stack.lbctl({"migrate", "post", "--dry-run"}).out.find("post: 1 pending (0 applied)") != std::string::npos);
  const auto history = stack.lbctl({"history"});
  CHECK(history.out.find("restore 1 cutover=1 done started=") != std::string::npos);
}
