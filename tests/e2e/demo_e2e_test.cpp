// scripts/demo, the README's first command, runs to its end.

#include "tests/support/catch.hpp"

#include <filesystem>

#include "tests/support/child_process.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

TEST_CASE("scripts/demo runs a real cutover to its end with exit 0 and no failed request", "[e2e][demo]") {
  // The demo uses the binaries of this build rather than building its own.
  const auto build = std::filesystem::path(LBCTL_BINARY).parent_path().parent_path();
  const auto demo = run_command({std::string(LBCTL_SOURCE_DIR) + "/scripts/demo"}, 10min,
                                {{"LBCTL_DEMO_BUILD", build.string()}});
  INFO(demo.out);
  CHECK(demo.exit_code == 0);
  CHECK(demo.out.find("failed requests: 0") != std::string::npos);
  CHECK(demo.out.find("long requests held through the drain: 6 of 6 finished with 200") != std::string::npos);
  CHECK(demo.out.find("completed") != std::string::npos);
  CHECK(demo.out.find("== live page: http://127.0.0.1:") != std::string::npos);
  CHECK(demo.out.find("lbctl_cutovers_total{service=\"demo\",outcome=\"completed\"} 1") != std::string::npos);
  CHECK(demo.out.find("total_cents") != std::string::npos);
}
