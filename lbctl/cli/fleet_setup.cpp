#include "lbctl/cli/fleet_setup.hpp"

#include "pools/backend_file.hpp"

namespace lbctl {

namespace {

std::shared_ptr<pools::BackendFile> make_backend_file(const LoadBalancerConfig& lb, ProcessRunner& processes) {
  const auto& persist = *lb.persist;
  std::shared_ptr<pools::ConfigStore> store;
  if (persist.remote()) {
    store = std::make_shared<pools::CommandStore>(processes, persist.read, persist.write, persist.check,
                                                  persist.timeout);
  } else {
    store = std::make_shared<pools::LocalFileStore>(processes, persist.check, persist.timeout);
  }
  return std::make_shared<pools::BackendFile>(std::move(store), persist.file.string(), lb.backend,
                                              persist.carries_any_file());
}

}  // namespace

pools::Fleet make_fleet(const Config& config, Clock& clock, ProcessRunner& processes, const RuntimeApiWrap& wrap) {
  std::vector<std::unique_ptr<pools::LoadBalancer>> lbs;
  for (const auto& lb : config.load_balancers) {
    std::shared_ptr<pools::RuntimeApi> api = pools::make_runtime_api(lb.runtime_api, lb.timeout);
    if (wrap) api = wrap(lb, std::move(api));
    auto balancer = std::make_unique<pools::LoadBalancer>(lb.name, lb.backend, std::move(api), clock);
    if (lb.master_api) {
      balancer->use_master(pools::make_runtime_api(*lb.master_api, lb.timeout, pools::CliDialect::master));
    }
    if (lb.persist) balancer->persist_to(make_backend_file(lb, processes), config.new_pool.server_options);
    lbs.push_back(std::move(balancer));
  }
  return pools::Fleet(std::move(lbs));
}

}  // namespace lbctl
