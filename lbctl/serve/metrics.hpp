#pragma once
// /metrics: every service's state in Prometheus' text format (version
// 0.0.4), from what the poller last saw; rendering reads no LB and no
// journal. Pure.

#include <string>
#include <vector>

#include "lbctl/serve/live.hpp"

namespace lbctl::serve {

inline constexpr const char* k_metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

std::string render_metrics(const std::vector<const ServiceLive*>& services);

// A label value as the format writes it: '\\', '"' and newlines escaped.
std::string escape_label(std::string_view value);

}  // namespace lbctl::serve
