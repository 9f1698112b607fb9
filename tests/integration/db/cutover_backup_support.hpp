#pragma once
// What a cutover does to the application database, through the adapters a
// real one uses (lbctl::Wiring): its journal row, the backup step's backup
// (the wiring's backup function) and its path saved in the row's progress,
// the pre and post migrations applied with the cutover's id, then the row
// completed. For `lbctl restore` tests that need "a cutover" without HAProxy.

#include <boost/asio/io_context.hpp>
#include "tests/support/catch.hpp"
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/run.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cli/wiring.hpp"
#include "tests/integration/db/command_support.hpp"

namespace lbctl::test {

struct RecordedCutover {
  std::int64_t id = 0;
  std::filesystem::path backup;
};

inline RecordedCutover cutover_with_migrations(const std::filesystem::path& config_file) {
  struct Quiet final : EventSink {
    void emit(const Event&) override {}
  } quiet;
  const Config config = load_config(config_file);
  boost::asio::io_context io;
  Wiring wiring(config, io);
  REQUIRE(wiring.open_journal());
  auto deps = wiring.deps(quiet);
  auto row = deps.journal.begin({config.service, "web1", 4242, "blue_green", "{}", "preflight"});
  REQUIRE(row);
  auto path = run_to_end(io, deps.backup(row->id, row->release));
  REQUIRE(path);
  row->step = "backup";
  row->progress_json = nlohmann::json{{"backup_path", *path}}.dump();
  REQUIRE(deps.journal.save(*row));
  auto pre = run_to_end(io, deps.migrator->apply(db::Phase::pre, row->id));
  INFO((pre ? std::string() : pre.error().message));
  REQUIRE(pre);
  auto post = run_to_end(io, deps.migrator->apply(db::Phase::post, row->id));
  INFO((post ? std::string() : post.error().message));
  REQUIRE(post);
  row->step = "terminate";
  row->status = db::CutoverStatus::completed;
  REQUIRE(deps.journal.save(*row));
  deps.journal.release();
  return {row->id, *path};
}

inline RecordedCutover cutover_with_migrations(CommandSetup& s) { return cutover_with_migrations(s.config); }

// pg_dump --schema-only without the random \restrict key pg_dump 15.14+
// writes into every dump.
inline std::string schema_of(PostgresFixture& pg, const std::string& dbname) {
  std::string out;
  std::istringstream lines(pg.dump_schema(dbname));
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("\\restrict") && !line.starts_with("\\unrestrict")) out += line + "\n";
  }
  return out;
}

}  // namespace lbctl::test
