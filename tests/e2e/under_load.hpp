#pragma once
// What the end-to-end and chaos tests share: wrk through both LBs with the UP
// sampler for the length of a test, and a load's requests and failures.

#include "tests/support/catch.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "tests/e2e/stack.hpp"

namespace lbctl::test {

// Every LB's servers, in name order (servers put back by a rollback may be
// listed in another order than before).
inline std::vector<std::string> sorted_view(Stack& stack) {
  auto view = stack.fleet_view();
  std::sort(view.begin(), view.end());
  return view;
}

// A load's requests and failed requests (non-2xx and socket errors).
struct Failures {
  long requests = 0;
  long failed = 0;
};

inline Failures stop_load(Load& load) {
  const auto result = load.stop();
  INFO(result.text);
  return {static_cast<long>(result.requests), static_cast<long>(result.non_2xx + result.socket_errors)};
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
