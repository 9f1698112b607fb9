#pragma once
// The provider as a cutover's run sees it: every change it makes to servers
// (clone, terminate, a health file removed or restored, scaling frozen)
// waits, like every batch to an LB, until the run holds its lease; a runner
// cut off from the state database changes nothing. Internal to the
// controller.

#include <functional>

#include "pools/provider.hpp"

namespace lbctl {

class LeasedProvider final : public pools::Provider {
 public:
  using Gate = std::function<boost::asio::awaitable<Result<void>>()>;
  LeasedProvider(pools::Provider& inner, Gate gate) : m_inner(inner), m_gate(std::move(gate)) {}

  boost::asio::awaitable<Result<std::vector<pools::Server>>> clone(std::vector<std::string> names,
                                                                   std::optional<pools::Server> template_server) override;
  boost::asio::awaitable<Result<void>> terminate(pools::Server server) override;
  boost::asio::awaitable<Result<void>> remove_health_file(pools::Server server) override;
  boost::asio::awaitable<Result<void>> restore_health_file(pools::Server server) override;
  boost::asio::awaitable<Result<void>> freeze_scaling() override;
  boost::asio::awaitable<Result<void>> unfreeze_scaling() override;
  Result<void> check() const override { return m_inner.check(); }
  std::string kind() const override { return m_inner.kind(); }

 private:
  pools::Provider& m_inner;
  Gate m_gate;
};

}  // namespace lbctl
