#include "lbctl/cutover/new_pool_liveness.hpp"

#include <fmt/format.h>

#include "core/duration.hpp"

namespace lbctl {

std::chrono::milliseconds NewPoolLiveness::patience(const pools::ServerOptions& options) {
  return options.inter() * (options.rise_count() + options.fall_count()) * 2 + std::chrono::seconds(2);
}

Result<void> NewPoolLiveness::check(const std::vector<std::string>& names,
                                    const std::vector<std::vector<pools::ServerStat>>& stats,
                                    std::chrono::milliseconds patience) {
  const auto now = m_clock.now();
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const auto by_name = pools::index_by_name(stats[i]);
    for (const auto& name : names) {
      const auto found = by_name.find(name);
      const pools::ServerStat* seen = found == by_name.end() ? nullptr : found->second;
      if (seen == nullptr || !seen->is_down()) {
        if (!m_down_since.empty()) m_down_since.erase({i, name});
        continue;
      }
      const std::pair<std::size_t, std::string> key{i, name};
      const auto since = m_down_since.try_emplace(key, now).first->second;
      if (now - since < patience) continue;
      return fail(ErrorKind::refused,
                  fmt::format("new server {} ({}) died after attach: {} on {} for {} (last check {})", name,
                              seen->address, seen->status, m_fleet.at(i).name(),
                              format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(now - since)),
                              seen->check_status.empty() ? "none" : seen->check_status));
    }
  }
  return {};
}

}  // namespace lbctl
