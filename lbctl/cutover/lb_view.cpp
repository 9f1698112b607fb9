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

std::string down_reason(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::unreachable: return "refused";
    // A read HAProxy answered with an error: the backend is not there.
    case ErrorKind::refused: return "no such backend";
    case ErrorKind::invalid: return "answer not understood";
    case ErrorKind::conflict:
    case ErrorKind::cancelled: break;
  }
  return "not read";
}

}  // namespace lbctl
