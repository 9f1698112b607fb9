// --release wins over the config's release:, and a bad one is a config error.

#include "tests/support/catch.hpp"

#include "lbctl/cli/release.hpp"
#include "tests/support/fake_journal.hpp"

using namespace lbctl;

TEST_CASE("a --release flag wins over release:, which wins over none, a bad one is invalid (exit 2)",
          "[cli][release]") {
  Config config;
  config.service = "shop";
  CHECK(cli::given_release("", config).value() == "");
  config.release = "from-config";
  CHECK(cli::given_release("", config).value() == "from-config");
  CHECK(cli::given_release("2026.11.25", config).value() == "2026.11.25");
  for (const std::string& bad : std::vector<std::string>{"v 2", "a/b", std::string(65, 'x'), "r\n1"}) {
    auto refused = cli::given_release(bad, config);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::invalid);
    CHECK_THAT(refused.error().message, Catch::Contains("--release"));
    CHECK(refused.error().message.find('\n') == std::string::npos);
  }
}

TEST_CASE("plan without a release shows the name the next cutover will get", "[cli][release]") {
  Config config;
  config.service = "shop";
  test::FakeJournal journal;
  CHECK(cli::planned_release("", config, journal).value() == "r1");
  REQUIRE(journal.begin(db::NewCutover{"shop", "h", 1, "blue_green", "{}", "preflight", ""}));
  CHECK(cli::planned_release("", config, journal).value() == "r2");
  CHECK(cli::planned_release("x9", config, journal).value() == "x9");
}
