#pragma once
// The static provider: new servers provisioned beforehand and listed in the
// config. Retiring them and their health files is up to optional commands
// (run as the exec provider runs them); without one, that operation does
// nothing.

#include <vector>

#include "core/process.hpp"
#include "pools/provider.hpp"
#include "pools/provider_exec.hpp"

namespace lbctl::pools {

struct StaticProviderOptions {
  std::vector<Server> servers;
  // terminate, the health-file commands, freeze and unfreeze, each optional
  // (empty: that operation succeeds doing nothing); `clone` is not used.
  ExecProviderOptions commands;
};

class StaticProvider final : public Provider {
 public:
  StaticProvider(StaticProviderOptions options, ProcessRunner& runner);

  // The listed servers for `names`, in that order, at once (nothing is
  // started; the controller's health check proves them). Fails (invalid)
  // naming a requested name that is not listed.
  boost::asio::awaitable<Result<std::vector<Server>>> clone(std::vector<std::string> names,
                                                            std::optional<Server> template_server) override;
  boost::asio::awaitable<Result<void>> terminate(Server server) override;
  boost::asio::awaitable<Result<void>> remove_health_file(Server server) override;
  boost::asio::awaitable<Result<void>> restore_health_file(Server server) override;
  boost::asio::awaitable<Result<void>> freeze_scaling() override;
  boost::asio::awaitable<Result<void>> unfreeze_scaling() override;
  Result<void> check() const override;
  std::string kind() const override { return "static"; }

 private:
  std::vector<Server> m_servers;
  ExecProvider m_commands;
};

}  // namespace lbctl::pools
