// serve's shared reads, on the manual clock: one exchange per LB per
// interval for any number of services, each service's reads answered from
// it, a slow exchange tried again before the LB is called down, and why.

#include "tests/support/catch.hpp"

#include "lbctl/cutover/lb_view.hpp"
#include "lbctl/serve/shared_reads.hpp"
#include "pools/load_balancer.hpp"
#include "tests/support/fake_haproxy.hpp"
#include "tests/support/manual_clock.hpp"

using namespace lbctl;
using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

// The services' LBs, each on the same fake HAProxy through the shared reads.
std::vector<std::unique_ptr<pools::LoadBalancer>> services_on(serve::SharedReads& reads,
                                                              std::shared_ptr<FakeHaproxy> haproxy, Clock& clock,
                                                              int services) {
  std::vector<std::unique_ptr<pools::LoadBalancer>> lbs;
  for (int i = 0; i < services; ++i) {
    lbs.push_back(std::make_unique<pools::LoadBalancer>("lb1", "app", reads.share(haproxy, "app"), clock));
  }
  return lbs;
}

// A RuntimeApi that times out the first `slow` exchanges, then answers as `real` does.
class SlowFirst final : public pools::RuntimeApi {
 public:
  SlowFirst(std::shared_ptr<pools::RuntimeApi> real, int slow) : m_real(std::move(real)), m_slow(slow) {}
  boost::asio::awaitable<Result<std::vector<std::string>>> run(std::vector<std::string> commands) override {
    ++runs;
    if (m_slow-- > 0) co_return fail(ErrorKind::timeout, "lb1: no answer within 2s");
    co_return co_await m_real->run(std::move(commands));
  }
  std::string describe() const override { return "unix:/run/haproxy/slow.sock"; }
  int runs = 0;

 private:
  std::shared_ptr<pools::RuntimeApi> m_real;
  int m_slow;
};

std::size_t count(const std::vector<std::string>& log, std::string_view prefix) {
  return static_cast<std::size_t>(
      std::count_if(log.begin(), log.end(), [&](const std::string& c) { return c.starts_with(prefix); }));
}

}  // namespace

TEST_CASE("serve reads an LB once per interval for twenty services, and each gets its part", "[lbctl][serve][reads]") {
  Simulation sim;
  auto haproxy = std::make_shared<FakeHaproxy>("app", sim.clock);
  haproxy->add_config_server("old-1", "127.0.0.1:9001");
  serve::SharedReads reads(sim.clock);
  auto lbs = services_on(reads, haproxy, sim.clock, 20);
  for (int interval = 0; interval < 3; ++interval) {
    sim.run(reads.read_all());
    for (auto& lb : lbs) {
      const auto snapshot = sim.run(lb->snapshot());
      REQUIRE(snapshot);
      REQUIRE(snapshot->stats.size() == 1);
      CHECK(snapshot->stats[0].name == "old-1");
    }
  }
  // Three intervals, twenty services: three exchanges, one connection each.
  CHECK(haproxy->connections() == 3);
  CHECK(count(haproxy->log(), "show info") == 3);
  CHECK(count(haproxy->log(), "show stat app") == 3);
  CHECK(reads.exchanges().at(haproxy->describe()) == 3);
}

TEST_CASE("a slow exchange is tried again before the LB is called down, and down says why", "[lbctl][serve][reads]") {
  Simulation sim;
  auto haproxy = std::make_shared<FakeHaproxy>("app", sim.clock);
  haproxy->add_config_server("old-1", "127.0.0.1:9001");
  serve::SharedReads reads(sim.clock);
  auto slow = std::make_shared<SlowFirst>(haproxy, 1);
  pools::LoadBalancer lb("lb1", "app", reads.share(slow, "app"), sim.clock);
  sim.run(reads.read_all());
  CHECK(slow->runs == 2);  // timed out once, answered the second time
  CHECK(sim.run(lb.snapshot()));

  auto down = std::make_shared<SlowFirst>(haproxy, 2);
  serve::SharedReads other(sim.clock);
  pools::LoadBalancer lb2("lb2", "app", other.share(down, "app"), sim.clock);
  sim.run(other.read_all());
  CHECK(down->runs == 2);
  const auto snapshot = sim.run(lb2.snapshot());
  REQUIRE_FALSE(snapshot);
  CHECK(snapshot.error().kind == ErrorKind::timeout);
  CHECK(down_reason(snapshot.error().kind) == "timeout");
}

TEST_CASE("a backend an LB does not have is down for its service only", "[lbctl][serve][reads]") {
  Simulation sim;
  auto haproxy = std::make_shared<FakeHaproxy>("app", sim.clock);
  haproxy->add_config_server("old-1", "127.0.0.1:9001");
  serve::SharedReads reads(sim.clock);
  pools::LoadBalancer shop("lb1", "app", reads.share(haproxy, "app"), sim.clock);
  pools::LoadBalancer cart("lb1", "cart", reads.share(haproxy, "cart"), sim.clock);
  sim.run(reads.read_all());
  CHECK(haproxy->connections() == 1);
  CHECK(sim.run(shop.snapshot()));
  const auto missing = sim.run(cart.snapshot());
  REQUIRE_FALSE(missing);
  CHECK(down_reason(missing.error().kind) == "no such backend");
}
