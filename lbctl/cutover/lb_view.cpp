#include "lbctl/cutover/lb_view.hpp"

namespace lbctl {

LbView lb_view(const std::string& name, const std::vector<pools::ServerStat>& stats,
               const std::unordered_map<std::string, std::string>& pool_of) {
  LbView view;
  view.name = name;
  view.servers.reserve(stats.size());
  for (const auto& s : stats) {
    const auto pool = pool_of.find(s.name);
    view.servers.push_back({s.name, pool == pool_of.end() ? "" : pool->second, s.address, s.status, s.weight,
                            s.sessions(), s.scur, s.qcur, s.srv_icur, s.check_status});
  }
  return view;
}

}  // namespace lbctl
