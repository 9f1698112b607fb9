#include "pools/fleet.hpp"

#include <fmt/format.h>

#include "core/duration.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

asio::awaitable<Result<void>> Fleet::wait_until(FleetWait wait, Clock& clock) {
  const auto deadline = clock.now() + wait.timeout;
  for (;;) {
    auto stats = co_await all<std::vector<ServerStat>>([](LoadBalancer& lb) { return lb.stats(); });
    if (!stats) co_return std::unexpected(stats.error());
    if (wait.on_read) {
      if (auto go_on = wait.on_read(*stats); !go_on) co_return go_on;
    }
    std::vector<std::string> missing;
    for (std::size_t i = 0; i < stats->size() && i < wait.names_per_lb.size(); ++i) {
      const std::string on_lb = not_yet((*stats)[i], wait.names_per_lb[i], wait.done);
      if (!on_lb.empty()) missing.push_back(m_lbs[i]->name() + ": " + on_lb);
    }
    if (missing.empty()) co_return Result<void>{};
    if (clock.now() >= deadline) {
      co_return fail(ErrorKind::timeout, fmt::format("not {} after {}: {}", wait.what, format_duration(wait.timeout),
                                                     fmt::join(missing, "; ")));
    }
    co_await clock.sleep_for(wait.poll);
  }
}

}  // namespace lbctl::pools
