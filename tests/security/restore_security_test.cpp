// `lbctl restore` against a backup whose schema names were chosen by an
// attacker (anyone with CREATE on the application database can name a
// schema): the names reach psql as data only, so a name that closes the
// restore's dollar quote or holds a psql meta-command restores as a name,
// and one that cannot be told apart in pg_restore's list is refused before
// anything runs.

#include <boost/asio/io_context.hpp>
#include "tests/support/catch.hpp"

#include "db/pg_restore.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/run_async.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lbctl::db;
using namespace std::chrono_literals;
using lbctl::test::PostgresFixture;
using lbctl::test::TempDir;

namespace {

struct Restorer {
  PostgresFixture pg;
  TempDir dir;
  lbctl::SteadyClock clock;
  lbctl::PosixProcessRunner runner;
  boost::asio::io_context io;
  RestoreOptions options;

  Restorer() {
    pg.create_database("app");
    options.database_url = pg.url("app");
    options.dir = dir.path() / "migrations";
    options.lock_timeout = 2s;
    options.host = "test-host";
    options.pid = 1;
  }

  std::filesystem::path backup() {
    const auto file = dir.path() / "backups" / "app.dump";
    std::filesystem::create_directories(file.parent_path());
    const auto dumped = lbctl::test::run_command({"pg_dump", "-Fc", "-f", file.string(), pg.url("app")});
    REQUIRE(dumped.exit_code == 0);
    return file;
  }

  lbctl::Result<RestoreReport> preview_and_restore(const std::filesystem::path& file) {
    PgRestore restore(options, runner, clock);
    auto preview = lbctl::test::run_async(io, restore.preview(file));
    if (!preview) return std::unexpected(preview.error());
    return lbctl::test::run_async(io, restore.restore(*preview));
  }

  std::string value(const std::string& sql) { return pg.query_value(sql, "app"); }
};

// An SQL identifier in double quotes.
std::string ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// An SQL string literal.
std::string literal(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace

TEST_CASE("schemas named with $lbctl_restore$ or $$ or a quote or a psql meta-command restore as names", "[security][restore]") {
  Restorer r;
  const std::vector<std::string> hostile{"a$lbctl_restore$", "b$$", "c'd", "e\\!x", "f$lbctl_restore$;\\!id;--"};
  for (const auto& name : hostile) {
    r.pg.execute("CREATE SCHEMA " + ident(name) + "; CREATE TABLE " + ident(name) +
                     ".t (id int); INSERT INTO " + ident(name) + ".t VALUES (1), (2)",
                 "app");
  }
  const auto file = r.backup();
  for (const auto& name : hostile) {
    r.pg.execute("DELETE FROM " + ident(name) + ".t; CREATE TABLE " + ident(name) + ".added (x int)", "app");
  }
  const auto report = r.preview_and_restore(file);
  INFO((report ? std::string() : report.error().message));
  REQUIRE(report);
  for (const auto& name : hostile) {
    INFO(name);
    CHECK(r.value("SELECT string_agg(id::text, ',' ORDER BY id) FROM " + ident(name) + ".t") == "1,2");
    CHECK(r.value("SELECT count(*) FROM pg_tables WHERE tablename = 'added' AND schemaname = " + literal(name)) == "0");
  }
}

TEST_CASE("a schema named to close the restore's quote and run a shell command: refused, nothing runs",
          "[security][restore]") {
  Restorer r;
  TempDir witness;
  const auto marker = witness / "ran";
  const std::string attack = "a$lbctl_restore$ \\! touch " + marker.string() + " #";
  r.pg.execute("CREATE SCHEMA " + ident(attack) + "; CREATE TABLE " + ident(attack) + ".t (id int); " +
                   "CREATE TABLE public.orders (id int); INSERT INTO public.orders VALUES (1)",
               "app");
  const auto file = r.backup();
  r.pg.execute("INSERT INTO public.orders VALUES (2)", "app");
  const auto report = r.preview_and_restore(file);
  REQUIRE_FALSE(report);
  INFO(report.error().message);
  CHECK(report.error().kind == lbctl::ErrorKind::invalid);
  CHECK(report.error().message.find("a blank or a control character in a schema's name") != std::string::npos);
  CHECK(report.error().message.find("nothing changed") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(marker));
  CHECK(r.value("SELECT count(*) FROM public.orders") == "2");
}

TEST_CASE("the restore's psql script never holds a schema's name: it comes as a psql variable", "[security][restore]") {
  const std::string name = "x$lbctl_restore$ \\! touch /tmp/owned #";
  const auto preamble = restore_preamble(1s);
  CHECK(preamble.find("$lbctl_restore$ \\!") == std::string::npos);
  CHECK(preamble.find(":'lbctl_schemas'") != std::string::npos);
  CHECK(schemas_variable({"public", name}) == "lbctl_schemas=public\n" + name);
}
