#pragma once
// What the promotion and analysis end-to-end tests share: the fleet's views
// before and after, and wrk through both LBs with the UP sampler for the
// length of a test.

#include "tests/support/catch.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "tests/e2e/stack.hpp"

namespace lbctl::test {

inline const std::vector<std::string> k_original_view{"lb1 old-1 UP", "lb1 old-2 UP", "lb2 old-1 UP", "lb2 old-2 UP"};
inline const std::vector<std::string> k_done_view{"lb1 v2-1 UP", "lb1 v2-2 UP", "lb2 v2-1 UP", "lb2 v2-2 UP"};

// Every LB's servers, in name order (servers put back by a rollback may be
// listed in another order than before).
inline std::vector<std::string> sorted_view(Stack& stack) {
  auto view = stack.fleet_view();
  std::sort(view.begin(), view.end());
  return view;
}

// wrk through both LBs and the UP sampler, for the length of a test.
class UnderLoad {
 public:
  explicit UnderLoad(Stack& stack)
      : m_load1(stack.lb(0).address(), stack.lb(0).frontend_port(), m_logs / "wrk1.txt", stack.client_launcher()),
        m_load2(stack.lb(1).address(), stack.lb(1).frontend_port(), m_logs / "wrk2.txt", stack.client_launcher()),
        m_sampler(stack) {}

  // Never fewer than 2 servers UP on any LB; wrk's result through each LB.
  std::vector<Load::Result> stop() {
    const auto lowest = m_sampler.stop();
    CHECK(m_sampler.samples() > 20);
    CHECK(lowest >= 2);
    std::vector<Load::Result> results;
    for (auto* load : {&m_load1, &m_load2}) {
      results.push_back(load->stop());
      INFO(results.back().text);
      CHECK(results.back().requests > 100);
      CHECK(results.back().socket_errors == 0);
    }
    return results;
  }

  // 0 failed requests on either LB.
  void check() {
    for (const auto& result : stop()) {
      INFO(result.text);
      CHECK(result.non_2xx + result.socket_errors == 0);
    }
  }

 private:
  TempDir m_logs;
  Load m_load1;
  Load m_load2;
  UpSampler m_sampler;
};

}  // namespace lbctl::test
