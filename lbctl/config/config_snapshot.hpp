#pragma once
// The config as the journal keeps it: every setting a later reader (status,
// history, a resumed cutover's operator) needs, with secrets left out:
// database URLs and webhook URLs are replaced by "(redacted)".

#include <nlohmann/json.hpp>

#include "lbctl/config/config.hpp"

namespace lbctl {

nlohmann::json config_snapshot(const Config& config);

}  // namespace lbctl
