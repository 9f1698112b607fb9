#include "pools/fleet.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "core/duration.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

namespace {

// The pause between two reads is at least this many times the last read.
constexpr int k_poll_read_ratio = 4;
constexpr std::chrono::milliseconds k_max_stretched_poll{5000};

// True when `done` holds for every name in `stats` (and every name is there).
bool holds_for_all(const std::vector<ServerStat>& stats, const std::vector<std::string>& names,
                   const StatPredicate& done) {
  const auto by_name = index_by_name(stats);
  return std::all_of(names.begin(), names.end(), [&](const std::string& name) {
    const auto it = by_name.find(name);
    return it != by_name.end() && done(*it->second);
  });
}

}  // namespace

asio::awaitable<Result<void>> Fleet::wait_until(FleetWait wait, Clock& clock) {
  const auto deadline = clock.now() + wait.timeout;
  for (;;) {
    const auto read_started = clock.now();
    auto stats = co_await all<std::vector<ServerStat>>([](LoadBalancer& lb) { return lb.stats(); });
    if (!stats) co_return std::unexpected(stats.error());
    const auto read_took = clock.now() - read_started;
    if (wait.on_read) {
      if (auto go_on = wait.on_read(*stats); !go_on) co_return go_on;
    }
    bool done = true;
    for (std::size_t i = 0; i < stats->size() && i < wait.names_per_lb.size() && done; ++i) {
      done = holds_for_all((*stats)[i], wait.names_per_lb[i], wait.done);
    }
    if (done) co_return Result<void>{};
    if (clock.now() >= deadline) {
      // Which servers, only now: 10,000 of them listed at every poll cost
      // more than the poll.
      std::vector<std::string> missing;
      for (std::size_t i = 0; i < stats->size() && i < wait.names_per_lb.size(); ++i) {
        const std::string on_lb = not_yet((*stats)[i], wait.names_per_lb[i], wait.done);
        if (!on_lb.empty()) missing.push_back(m_lbs[i]->name() + ": " + on_lb);
      }
      co_return fail(ErrorKind::timeout, fmt::format("not {} after {}: {}", wait.what, format_duration(wait.timeout),
                                                     fmt::join(missing, "; ")));
    }
    // Reading the fleet takes at most a fifth of the wait: a backend of
    // 20,000 servers on five LBs takes long enough to read that polling it
    // every 500 ms would keep lbctl busy reading. Never longer than
    // k_max_stretched_poll (a read that waited out an LB's blip is no
    // measure), nor past the deadline.
    const auto stretched = std::min<std::chrono::milliseconds>(
        std::chrono::duration_cast<std::chrono::milliseconds>(read_took * k_poll_read_ratio), k_max_stretched_poll);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock.now());
    co_await clock.sleep_for(std::max(wait.poll, std::min(stretched, left)));
  }
}

}  // namespace lbctl::pools
