#pragma once
// One LB's view of its backend, as people and --json see it: the live
// display, `status`, `servers` and `serve` all show this one shape.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "pools/stats.hpp"

namespace lbctl {

struct ServerView {
  std::string name;
  std::string pool;  // "old", "new", or "" (not part of a cutover)
  std::string address;
  std::string status;
  std::uint64_t weight = 0;
  std::uint64_t sessions = 0;  // scur + qcur: user sessions, what a drain waits for
  std::uint64_t scur = 0;
  std::uint64_t qcur = 0;
  std::uint64_t srv_icur = 0;  // idle connections HAProxy keeps to it
  std::string check_status;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ServerView, name, pool, address, status, weight, sessions, scur, qcur,
                                                srv_icur, check_status)

struct LbView {
  std::string name;
  std::vector<ServerView> servers;
  std::string error;  // when the LB did not answer
  // Why, in one word for pages and metrics: "timeout", "refused" (no
  // connection), "no such backend" (HAProxy said so), "answer not
  // understood"; "" when it answered.
  std::string reason = {};
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LbView, name, servers, error, reason)

// The reason an LB's read failed with `kind`, as LbView::reason says it.
std::string down_reason(ErrorKind kind);

// `stats` as seen on LB `name`; `pool_of` names each server's pool.
LbView lb_view(const std::string& name, const std::vector<pools::ServerStat>& stats,
               const std::unordered_map<std::string, std::string>& pool_of);

}  // namespace lbctl
