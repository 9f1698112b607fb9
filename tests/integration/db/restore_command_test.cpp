// `lbctl restore` end to end on a real Postgres: a cutover's backup and
// migrations, rows written after it, then the restore.

#include "tests/support/catch.hpp"
#include <fstream>

#include "db/pg_journal.hpp"
#include "tests/integration/db/cutover_backup_support.hpp"

using namespace lbctl::test;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// orders with three rows and one migration applied before the cutover; the
// cutover adds a column and a table referencing orders (pre/) and drops a
// column (post/); the new release then writes two orders and a note.
RecordedCutover cutover_then_writes(CommandSetup& s, std::string& schema_before) {
  s.pg.execute(
      "CREATE TABLE orders (id serial PRIMARY KEY, item text, legacy_total int); "
      "INSERT INTO orders (item) VALUES ('a'), ('b'), ('c')",
      "app");
  s.dir.write("migrations/pre/20261120_01_items.sql", "CREATE TABLE items (id serial PRIMARY KEY, name text);\n");
  REQUIRE(s.lbctl({"migrate", "pre", "-c", s.config, "--no-backup"}).exit_code == 0);
  s.dir.write("migrations/pre/20261121_01_add_total.sql",
              "ALTER TABLE orders ADD COLUMN total_cents bigint NOT NULL DEFAULT 0;\n"
              "CREATE TABLE order_notes (id serial PRIMARY KEY, order_id int NOT NULL REFERENCES orders (id), "
              "note text);\n");
  s.dir.write("migrations/post/20261121_02_drop_legacy.sql", "ALTER TABLE orders DROP COLUMN legacy_total;\n");
  schema_before = schema_of(s.pg, "app");
  const auto cutover = cutover_with_migrations(s);
  s.pg.execute(
      "INSERT INTO orders (item, total_cents) VALUES ('d', 400), ('e', 500); "
      "INSERT INTO order_notes (order_id, note) VALUES (4, 'gift')",
      "app");
  REQUIRE(schema_of(s.pg, "app") != schema_before);
  return cutover;
}

std::string rows_of(CommandSetup& s) {
  return s.value("SELECT string_agg(id || ':' || item, ',' ORDER BY id) FROM orders") + " " +
         s.value("SELECT count(*) FROM order_notes");
}

}  // namespace

TEST_CASE("restore --cutover N --yes: the schema, rows and ids of before the cutover, its files pending again",
          "[integration][db][restore][cli]") {
  CommandSetup s;
  std::string before;
  const auto cutover = cutover_then_writes(s, before);
  auto out = s.lbctl({"restore", "-c", s.config, "--cutover", std::to_string(cutover.id), "--yes"});
  INFO(out.out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "  backup: " + cutover.backup.string() + " ("));
  CHECK(contains(out.out, "CUSTOM), taken 20"));
  CHECK(
      contains(out.out, "public.orders: 2 row(s) with id > 3 written since the backup (ids resume after 3; now at 5)"));
  CHECK(contains(out.out, "public.order_notes: created since the backup: dropped with its 1 row(s)"));
  CHECK(contains(out.out, "public.items: 0 row(s) with id > 0"));
  CHECK(contains(out.out,
                 "pending again (applied since the backup; the history comes back with it):\n"
                 "    pre/20261121_01_add_total.sql\n    post/20261121_02_drop_legacy.sql\n"));
  CHECK(contains(out.out, "no maintenance page is configured"));
  CHECK(contains(out.out, "restored in "));
  CHECK(contains(out.out,
                 "pending now (the history came back with the backup): pre/20261121_01_add_total.sql, "
                 "post/20261121_02_drop_legacy.sql"));
  CHECK(contains(out.out, "ids of public.orders after 3 will be handed out again"));
  CHECK_FALSE(contains(out.out, s.pg.url("app")));

  CHECK(schema_of(s.pg, "app") == before);
  CHECK(s.value("SELECT string_agg(id || ':' || item, ',' ORDER BY id) FROM orders") == "1:a,2:b,3:c");
  CHECK(s.value("SELECT nextval('orders_id_seq')") == "4");
  CHECK(contains(s.lbctl({"migrate", "pre", "-c", s.config, "--dry-run"}).out, "pre: 1 pending (1 applied), dry run:"));
  CHECK(contains(s.lbctl({"migrate", "post", "-c", s.config, "--dry-run"}).out, "post: 1 pending (0 applied)"));

  auto history = s.lbctl({"history", "-c", s.config});
  INFO(history.out);
  CHECK(contains(history.out, "restore 1 cutover=" + std::to_string(cutover.id) + " done started="));
  CHECK(contains(history.out, " backup=" + cutover.backup.string()));
  auto json = s.lbctl({"history", "-c", s.config, "--json"});
  std::string last;
  std::istringstream lines(json.out);
  for (std::string line; std::getline(lines, line);) last = line.empty() ? last : line;
  const auto restore = nlohmann::json::parse(last);
  CHECK(restore["kind"] == "restore");
  CHECK(restore["detail"]["pending"].size() == 2);
}

TEST_CASE("a corrupt backup: restore exits 1 and the database is unchanged", "[integration][db][restore][cli]") {
  CommandSetup s;
  std::string before;
  const auto cutover = cutover_then_writes(s, before);
  const std::string schema_now = schema_of(s.pg, "app");
  const std::string rows_now = rows_of(s);
  const auto size = std::filesystem::file_size(cutover.backup);

  // Cut short (the list at its head still reads, the data does not), then garbage.
  std::filesystem::resize_file(cutover.backup, size * 6 / 10);
  auto truncated = s.lbctl({"restore", "-c", s.config, "--cutover", std::to_string(cutover.id), "--yes"});
  INFO(truncated.out);
  CHECK(truncated.exit_code == 1);
  CHECK(contains(truncated.out, "pg_restore cannot read"));
  CHECK(contains(truncated.out, "nothing changed"));
  CHECK(schema_of(s.pg, "app") == schema_now);
  CHECK(rows_of(s) == rows_now);

  std::ofstream(cutover.backup, std::ios::trunc) << std::string(size, 'x');
  auto garbage = s.lbctl({"restore", "-c", s.config, "--cutover", std::to_string(cutover.id), "--yes"});
  INFO(garbage.out);
  CHECK(garbage.exit_code == 1);
  CHECK(contains(garbage.out, "pg_restore cannot read the backup " + cutover.backup.string()));
  CHECK(schema_of(s.pg, "app") == schema_now);
  CHECK(rows_of(s) == rows_now);

  std::filesystem::remove(cutover.backup);
  auto gone = s.lbctl({"restore", "-c", s.config, "--cutover", std::to_string(cutover.id), "--yes"});
  CHECK(gone.exit_code == 1);
  CHECK(contains(gone.out, "is not there (moved or deleted?)"));
}

TEST_CASE("restore refuses without --yes off a terminal, a cutover without a backup, and a held service",
          "[integration][db][restore][cli]") {
  CommandSetup s;
  std::string before;
  const auto cutover = cutover_then_writes(s, before);
  const std::string schema_now = schema_of(s.pg, "app");
  auto unasked = s.lbctl({"restore", "-c", s.config, "--cutover", std::to_string(cutover.id)});
  CHECK(unasked.exit_code == 1);
  CHECK(contains(unasked.out, "not restored; nothing changed (give --yes)"));

  auto journal = lbctl::db::PgJournal::open({s.pg.url("lbctl"), std::chrono::seconds(5), "web1", 4242});
  REQUIRE(journal);
  auto bare = (*journal)->begin({"shop", "web1", 4243, "blue_green", "{}", "preflight"});
  REQUIRE(bare);
  // While that cutover runs (and holds the service), nothing may restore.
  auto held = s.lbctl({"restore", "-c", s.config, "--cutover", std::to_string(cutover.id), "--yes"});
  CHECK(held.exit_code == 4);
  CHECK(contains(held.out, "service shop is locked by cutover " + std::to_string(bare->id)));
  bare->status = lbctl::db::CutoverStatus::completed;
  REQUIRE((*journal)->save(*bare));
  (*journal)->release();
  auto nothing = s.lbctl({"restore", "-c", s.config, "--cutover", std::to_string(bare->id), "--yes"});
  CHECK(nothing.exit_code == 2);
  CHECK(contains(nothing.out, "took no backup"));
  auto missing = s.lbctl({"restore", "-c", s.config, "--cutover", "99", "--yes"});
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.out, "no cutover 99"));
  CHECK(schema_of(s.pg, "app") == schema_now);

  // With --json: the preview, then the result, one object per line.
  auto json = s.lbctl({"restore", "-c", s.config, "--cutover", std::to_string(cutover.id), "--yes", "--json"});
  INFO(json.out);
  CHECK(json.exit_code == 0);
  std::vector<nlohmann::json> lines;
  std::istringstream in(json.out);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["event"] == "preview");
  CHECK(lines[0]["pending_again"].size() == 2);
  CHECK(lines[0]["tables"][0]["table"] == "public.items");
  CHECK(lines[1]["event"] == "restored");
  CHECK(lines[1]["maintenance_page_on"] == false);
  CHECK(lines[1]["pending"].size() == 2);
}
