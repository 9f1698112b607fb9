#include "lbctl/health_setup.hpp"

namespace lbctl {

health::CheckPolicy to_check_policy(const HealthConfig& config) {
  health::CheckPolicy policy;
  policy.path = config.path;
  policy.expect_status = config.expect_status;
  policy.expect_body = config.expect_body;
  policy.database_path = config.database_path;
  policy.timeout = config.timeout;
  policy.interval = config.interval;
  policy.rise = config.rise;
  policy.deadline = config.deadline;
  return policy;
}

}  // namespace lbctl
