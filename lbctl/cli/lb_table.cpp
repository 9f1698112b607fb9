#include "lbctl/cli/lb_table.hpp"

#include <algorithm>

#include "lbctl/cli/table.hpp"

namespace lbctl {

std::string render_lb_view(const LbView& view, std::string_view indent) {
  const bool pools = std::any_of(view.servers.begin(), view.servers.end(), [](const ServerView& s) { return !s.pool.empty(); });
  std::vector<std::string> header{"SERVER"};
  if (pools) header.push_back("POOL");
  for (const char* column : {"ADDRESS", "STATUS", "WEIGHT", "SESSIONS", "CHECK"}) header.emplace_back(column);
  Table table(header);
  for (const auto& s : view.servers) {
    std::vector<std::string> row{s.name};
    if (pools) row.push_back(s.pool.empty() ? "-" : s.pool);
    for (auto cell : {s.address, s.status, std::to_string(s.weight), std::to_string(s.sessions),
                      s.check_status.empty() ? std::string("-") : s.check_status}) {
      row.push_back(std::move(cell));
    }
    table.add(std::move(row));
  }
  return table.render(indent);
}

}  // namespace lbctl
