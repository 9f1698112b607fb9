// LoadBalancer and its configuration file: after a batch changes the backend,
// the file's server lines are rewritten to say what the backend now holds.

#include <fmt/format.h>

#include "pools/backend_file.hpp"
#include "pools/load_balancer.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

void LoadBalancer::persist_to(std::shared_ptr<BackendFile> file, std::string default_options) {
  m_file = std::move(file);
  m_default_options = std::move(default_options);
}

std::vector<DesiredServer> LoadBalancer::desired_lines(const BackendState& live) const {
  std::vector<DesiredServer> desired;
  desired.reserve(live.admin.size());
  for (const auto& admin : live.admin) {
    DesiredServer server;
    server.name = admin.name;
    server.address = live.stats.empty() ? admin.address : live.address_of(admin.name);
    server.id = admin.id;
    // Only an admin MAINT is the config's `disabled`: a config-born server
    // that was made ready keeps its config flag (0x04) without being in MAINT.
    server.maint = (admin.admin_state & k_admin_forced_maint) != 0;
    server.weight = static_cast<unsigned>(admin.user_weight);
    const auto options = m_line_options.find(admin.name);
    server.options = options == m_line_options.end() ? m_default_options : options->second;
    desired.push_back(std::move(server));
  }
  return desired;
}

asio::awaitable<Result<bool>> LoadBalancer::ensure_persisted() {
  if (!m_file) co_return false;
  auto live = co_await admin_snapshot();
  if (!live) co_return std::unexpected(live.error());
  co_return co_await m_file->ensure(desired_lines(*live));
}

asio::awaitable<Result<void>> LoadBalancer::persist_batch() {
  if (!m_file) co_return Result<void>{};
  auto persisted = co_await ensure_persisted();
  if (!persisted) {
    co_return std::unexpected(persisted.error().with_context(
        fmt::format("{}: the change was made on the LB, but persisting it failed", m_name)));
  }
  co_return Result<void>{};
}

asio::awaitable<Result<Applied>> LoadBalancer::persist_map(std::string map, std::string key,
                                                           std::optional<std::string> value, Applied applied) {
  if (!m_file) co_return applied;
  // Also when the LB already held it: the file may not (a write that failed).
  auto persisted = co_await m_file->ensure_map(map, key, value);
  if (!persisted) {
    co_return std::unexpected(persisted.error().with_context(
        fmt::format("{}: the map holds it on the LB, but persisting it failed", m_name)));
  }
  co_return applied;
}

}  // namespace lbctl::pools
