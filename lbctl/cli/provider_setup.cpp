#include "lbctl/cli/provider_setup.hpp"

namespace lbctl {

pools::LocalProviderOptions to_local_options(const ProviderConfig& provider) {
  return pools::LocalProviderOptions{.command = provider.command,
                                     .ports = pools::PortRange{provider.port_min, provider.port_max},
                                     .base_dir = provider.base_dir,
                                     .health_file = provider.health_file,
                                     .host = provider.host,
                                     .start_timeout = provider.start_timeout,
                                     .stop_grace = provider.stop_grace};
}

pools::ExecProviderOptions to_exec_options(const ProviderConfig& provider, const std::string& service) {
  pools::ExecProviderOptions options;
  options.service = service;
  options.clone = provider.clone;
  options.terminate = provider.terminate;
  options.remove_health_file = provider.remove_health_file;
  options.restore_health_file = provider.restore_health_file;
  options.freeze_scaling = provider.freeze_scaling;
  options.unfreeze_scaling = provider.unfreeze_scaling;
  options.timeout = provider.timeout;
  return options;
}

pools::StaticProviderOptions to_static_options(const ProviderConfig& provider, const std::string& service) {
  pools::StaticProviderOptions options;
  for (const auto& entry : provider.servers) options.servers.push_back(pools::Server{entry.name, entry.address});
  options.commands = to_exec_options(provider, service);
  options.commands.clone.clear();  // the listed servers are the clone
  return options;
}

std::unique_ptr<pools::Provider> make_provider(const Config& config, ProcessRunner& runner, Clock& clock) {
  switch (config.provider.type) {
    case ProviderConfig::Type::local:
      return std::make_unique<pools::LocalProvider>(to_local_options(config.provider), clock);
    case ProviderConfig::Type::exec:
      return std::make_unique<pools::ExecProvider>(to_exec_options(config.provider, config.service), runner);
    case ProviderConfig::Type::static_:
      return std::make_unique<pools::StaticProvider>(to_static_options(config.provider, config.service), runner);
  }
  return nullptr;
}

}  // namespace lbctl
