#pragma once
// What a cutover would do, for people (text) and automation (--json).

#include <nlohmann/json.hpp>
#include <string>

#include "lbctl/cutover/plan_report.hpp"

namespace lbctl {

std::string render_plan(const PlanReport& report, const Config& config);
nlohmann::json plan_json(const PlanReport& report, const Config& config);

}  // namespace lbctl
