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
  // (empty: that operation succeeds doing nothing); `clone` and
  // `unset_does_nothing` are not used.
  ExecProviderOptions commands;
};

// An exec provider whose clone hands out the listed servers, and whose
// commands are optional.
class StaticProvider final : public ExecProvider {
 public:
  StaticProvider(StaticProviderOptions options, ProcessRunner& runner);

  // The listed servers for `names`, in that order, at once (nothing is
  // started; the controller's health check proves them). Fails (invalid)
  // naming a requested name that is not listed.
  boost::asio::awaitable<Result<std::vector<Server>>> clone(std::vector<std::string> names,
                                                            std::optional<Server> template_server) override;
  std::string kind() const override { return "static"; }

 private:
  std::vector<Server> m_servers;
};

}  // namespace lbctl::pools
