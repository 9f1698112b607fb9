#include "lbctl/cutover/reload_watch.hpp"

#include <fmt/format.h>

namespace lbctl {

namespace asio = boost::asio;

void ReloadWatch::mark() {
  m_mark.clear();
  for (const auto& lb : m_fleet.lbs()) m_mark.push_back(lb->reloads_seen());
  m_interrupted = false;
}

std::vector<std::string> ReloadWatch::since_mark() const {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < m_mark.size() && i < m_fleet.size(); ++i) {
    if (m_fleet.lbs()[i]->reloads_seen() != m_mark[i]) names.push_back(m_fleet.lbs()[i]->name());
  }
  return names;
}

asio::awaitable<Result<std::vector<std::string>>> ReloadWatch::look() {
  auto seen = co_await m_fleet.all<pools::LbIdentity>([](pools::LoadBalancer& lb) { return lb.identity(); });
  if (!seen) co_return std::unexpected(seen.error());
  co_return since_mark();
}

Result<void> ReloadWatch::notice() {
  if (m_mark.empty()) return {};
  const auto reloaded = since_mark();
  if (reloaded.empty()) return {};
  m_interrupted = true;
  return fail(ErrorKind::cancelled, fmt::format("{} reloaded", fmt::join(reloaded, ", ")));
}

asio::awaitable<Result<void>> ReloadWatch::look_and_notice() {
  auto reloaded = co_await look();
  if (!reloaded) co_return std::unexpected(reloaded.error());
  co_return notice();
}

}  // namespace lbctl
