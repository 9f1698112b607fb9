#pragma once
// Builds the provider the config describes: provider.type picks local, exec
// or static; the config's fields become that provider's options.

#include <memory>

#include "core/clock.hpp"
#include "core/process.hpp"
#include "lbctl/config/config.hpp"
#include "pools/provider.hpp"
#include "pools/provider_exec.hpp"
#include "pools/provider_local.hpp"
#include "pools/provider_static.hpp"

namespace lbctl {

pools::LocalProviderOptions to_local_options(const ProviderConfig& provider);
pools::ExecProviderOptions to_exec_options(const ProviderConfig& provider, const std::string& service);
pools::StaticProviderOptions to_static_options(const ProviderConfig& provider, const std::string& service);

// `runner` runs the exec and static commands; `clock` paces the local
// provider's waits. Both must outlive the provider.
std::unique_ptr<pools::Provider> make_provider(const Config& config, ProcessRunner& runner, Clock& clock);

}  // namespace lbctl
