#pragma once
// One LB's view as a table, the same in `status`, `servers` and the live
// display.

#include <string>
#include <string_view>

#include "lbctl/cutover/lb_view.hpp"

namespace lbctl {

// SERVER [POOL] ADDRESS STATUS WEIGHT SESSIONS CHECK, one row per server; the
// POOL column only when some server belongs to a cutover's pool.
std::string render_lb_view(const LbView& view, std::string_view indent);

}  // namespace lbctl
