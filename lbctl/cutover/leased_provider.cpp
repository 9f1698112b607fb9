#include "lbctl/cutover/leased_provider.hpp"

namespace lbctl {

namespace asio = boost::asio;

asio::awaitable<Result<std::vector<pools::Server>>> LeasedProvider::clone(std::vector<std::string> names,
                                                                         std::optional<pools::Server> template_server) {
  if (auto held = co_await m_gate(); !held) co_return std::unexpected(held.error());
  co_return co_await m_inner.clone(std::move(names), std::move(template_server));
}

asio::awaitable<Result<void>> LeasedProvider::terminate(pools::Server server) {
  if (auto held = co_await m_gate(); !held) co_return held;
  co_return co_await m_inner.terminate(std::move(server));
}

asio::awaitable<Result<void>> LeasedProvider::remove_health_file(pools::Server server) {
  if (auto held = co_await m_gate(); !held) co_return held;
  co_return co_await m_inner.remove_health_file(std::move(server));
}

asio::awaitable<Result<void>> LeasedProvider::restore_health_file(pools::Server server) {
  if (auto held = co_await m_gate(); !held) co_return held;
  co_return co_await m_inner.restore_health_file(std::move(server));
}

asio::awaitable<Result<void>> LeasedProvider::freeze_scaling() {
  if (auto held = co_await m_gate(); !held) co_return held;
  co_return co_await m_inner.freeze_scaling();
}

asio::awaitable<Result<void>> LeasedProvider::unfreeze_scaling() {
  if (auto held = co_await m_gate(); !held) co_return held;
  co_return co_await m_inner.unfreeze_scaling();
}

}  // namespace lbctl
