// The resume record: typed, versioned, and a record the first release wrote
// (untyped JSON, the pools under "old" and "new") still resumes.

#include "tests/support/catch.hpp"

#include "lbctl/cutover/progress.hpp"

using namespace lbctl;

TEST_CASE("a resume record written by the previous format is read into the typed one", "[lbctl][progress]") {
  // As lbctl 0.1 journaled it mid-drain, after a forced cut and a stage.
  const std::string format_1 = R"({
    "old": [{"name": "old-1", "address": "127.0.0.1:9001"}, {"name": "old-2", "address": "127.0.0.1:9002"}],
    "new": [{"name": "v2-1", "address": "127.0.0.1:9100", "id": 1000}, {"name": "v2-2", "address": "", "id": 1001}],
    "migrations": {"pre": ["20261121_01_add_total.sql"], "post": []},
    "backup_path": "/var/backups/shop-7.dump",
    "frozen": true,
    "drain_started": true,
    "watch_started_ms": 1795620628000,
    "cut_sessions": [{"lb": "lb1", "server": "old-1", "scur": 3, "qcur": 1}],
    "stage": 1,
    "weights_changed": true,
    "failure": {"step": "watch", "message": "drain.timeout passed"},
    "maintenance_on": false
  })";
  auto read = read_progress(format_1);
  REQUIRE(read.has_value());
  const auto& p = *read;
  CHECK(p.format == CutoverProgress::k_format);
  REQUIRE(p.old_pool.size() == 2);
  CHECK(p.old_pool[1].name == "old-2");
  CHECK(p.old_pool[1].address == "127.0.0.1:9002");
  REQUIRE(p.new_pool.size() == 2);
  CHECK(p.new_pool[0].id == 1000);
  CHECK(p.cloned().size() == 1);
  CHECK(p.migrations.at("pre") == std::vector<std::string>{"20261121_01_add_total.sql"});
  CHECK(p.migrations_pending());
  CHECK(p.backup_path == "/var/backups/shop-7.dump");
  CHECK(p.frozen);
  CHECK(p.drain_started);
  CHECK(p.watch_started_ms == 1795620628000);
  REQUIRE(p.cut_sessions.size() == 1);
  CHECK(p.cut_sessions[0].scur == 3);
  CHECK(p.stage == 1);
  CHECK(p.weights_changed);
  CHECK(p.failure.step == "watch");
  CHECK(p.terminate_after_ms == 0);  // not set yet: its default
  // Formats 1 and 2 did not say whose health files were removed: a drain
  // that had started removed them all.
  CHECK(p.health_files_removed == std::vector<std::string>{"old-1", "old-2"});
}

TEST_CASE("a format-2 record before the drain removed no health file, one after it removed them all",
          "[lbctl][progress]") {
  const std::string before = R"({"format": 2, "old_pool": [{"name": "old-1"}], "drain_started": false})";
  const std::string after = R"({"format": 2, "old_pool": [{"name": "old-1"}, {"name": "old-2"}], "drain_started": true})";
  auto read_before = read_progress(before);
  auto read_after = read_progress(after);
  REQUIRE(read_before.has_value());
  REQUIRE(read_after.has_value());
  CHECK(read_before->health_files_removed.empty());
  CHECK(read_after->health_files_removed == std::vector<std::string>{"old-1", "old-2"});
  CHECK(read_after->format == 3);
}

TEST_CASE("a record round-trips through the journal's text", "[lbctl][progress]") {
  CutoverProgress p;
  p.old_pool = {{"old-1", "127.0.0.1:9001", 0}};
  p.new_pool = {{"v2-1", "127.0.0.1:9100", 1000}};
  p.terminate_after_ms = 42;
  p.maintenance_text = "Upgrading (expected back by 2026-11-25 18:00 UTC)";
  auto back = read_progress(write_progress(p));
  REQUIRE(back.has_value());
  CHECK(write_progress(*back) == write_progress(p));
  CHECK(back->new_names() == std::vector<std::string>{"v2-1"});
}

TEST_CASE("an empty record is a fresh one, an unreadable or newer one is refused", "[lbctl][progress]") {
  auto fresh = read_progress("");
  REQUIRE(fresh.has_value());
  CHECK(fresh->old_pool.empty());
  auto garbage = read_progress("[1, 2]");
  REQUIRE_FALSE(garbage.has_value());
  CHECK(garbage.error().kind == ErrorKind::invalid);
  auto wrong_type = read_progress(R"({"old": "old-1"})");
  REQUIRE_FALSE(wrong_type.has_value());
  auto newer = read_progress(R"({"format": 99})");
  REQUIRE_FALSE(newer.has_value());
  CHECK(newer.error().message.find("newer lbctl") != std::string::npos);
}
