// Many servers recorded in one round trip.

#include "tests/support/catch.hpp"

#include "db/pg_journal.hpp"
#include "tests/support/postgres_fixture.hpp"

using namespace lbctl;
using namespace lbctl::db;

TEST_CASE("a batch of server records is saved in one go, and saved again updates it", "[integration][db]") {
  test::PostgresFixture pg;
  pg.create_database("lbctl");
  auto journal = PgJournal::open(PgJournalOptions{pg.url("lbctl"), std::chrono::seconds(5), "host", 1});
  REQUIRE(journal.has_value());
  auto cutover = (*journal)->begin(NewCutover{"shop", "host", 1, "blue_green", "{}", "preflight", ""});
  REQUIRE(cutover.has_value());
  std::vector<ServerRecord> servers;
  for (int i = 1; i <= 500; ++i) {
    servers.push_back({Pool::new_pool, "v2-" + std::to_string(i), "127.0.0.1:" + std::to_string(9000 + i), "cloned",
                       1000 + i, {}});
  }
  servers.push_back({Pool::old_pool, "old-1", "[::1]:80", "a \"quoted\" \\state", std::nullopt, {}});
  REQUIRE((*journal)->save_servers(cutover->id, servers).has_value());
  for (auto& s : servers) s.state = "attached";
  REQUIRE((*journal)->save_servers(cutover->id, servers).has_value());
  auto stored = (*journal)->servers(cutover->id);
  REQUIRE(stored.has_value());
  REQUIRE(stored->size() == 501);
  CHECK((*stored)[0].name == "old-1");
  CHECK((*stored)[0].address == "[::1]:80");
  CHECK_FALSE((*stored)[0].haproxy_id.has_value());
  CHECK(std::all_of(stored->begin(), stored->end(), [](const ServerRecord& s) { return s.state == "attached"; }));
  const auto v2_7 = std::find_if(stored->begin(), stored->end(), [](const ServerRecord& s) { return s.name == "v2-7"; });
  REQUIRE(v2_7 != stored->end());
  CHECK(v2_7->haproxy_id == 1007);
  // A hostile name refuses the whole batch.
  servers.push_back({Pool::new_pool, "bad;name", "127.0.0.1:1", "x", std::nullopt, {}});
  CHECK_FALSE((*journal)->save_servers(cutover->id, servers).has_value());
}
