#include "lbctl/cutover/plan_files.hpp"

#include <fmt/format.h>
#include <set>

#include "lbctl/cutover/drift.hpp"
#include "pools/backend_file.hpp"

namespace lbctl {

namespace asio = boost::asio;

namespace {

// The backend's servers once the cutover completed: the old pool gone, the
// new one ready (its addresses come from the provider).
std::vector<pools::DesiredServer> after_cutover(const pools::LoadBalancer& lb, const LbState& state,
                                                const CutoverPlan& plan) {
  std::set<std::string> old;
  for (const auto& s : plan.old_servers) old.insert(s.name);
  std::vector<pools::DesiredServer> desired;
  for (auto& server : lb.desired_lines(state.state)) {
    if (!old.contains(server.name)) desired.push_back(std::move(server));
  }
  const std::string options = plan.options.text();
  for (std::size_t i = 0; i < plan.new_names.size(); ++i) {
    desired.push_back({plan.new_names[i], "ADDRESS:PORT", plan.id_of(i), options, false, 1});
  }
  return desired;
}

}  // namespace

asio::awaitable<std::expected<std::vector<FilePlan>, PlanFailure>> gather_files(pools::Fleet& fleet,
                                                                              const std::vector<LbState>& lbs,
                                                                              const CutoverPlan& plan) {
  using Failure = std::unexpected<PlanFailure>;
  std::vector<FilePlan> files;
  for (std::size_t i = 0; i < fleet.size() && i < lbs.size(); ++i) {
    auto& lb = fleet.at(i);
    auto* file = lb.persisted_file();
    if (file == nullptr) continue;
    const std::string where = fmt::format("{}: persist: {}", lb.name(), file->describe());
    auto backend = co_await file->inspect();
    if (!backend) co_return Failure(PlanFailure{ErrorKind::invalid, fmt::format("{}: {}", lb.name(), backend.error().message)});
    if (auto checked = co_await file->check_current(); !checked) {
      co_return Failure(PlanFailure{ErrorKind::invalid,
                                    fmt::format("{}: the check fails on the file as it is now, before any change: {}",
                                                lb.name(), checked.error().message)});
    }
    std::vector<std::string> missing_or_extra;
    for (const auto& d : drift_from_file(lb.name(), file->path(), *backend, lbs[i].state)) {
      // A server only in the file, or only on the LB (state and weight
      // differences are the operator's runtime changes: lbctl keeps them).
      if (d.recorded.empty() || d.live.empty()) missing_or_extra.push_back(d.text.substr(lb.name().size() + 2));
    }
    if (!missing_or_extra.empty()) {
      co_return Failure(PlanFailure{
          ErrorKind::invalid,
          fmt::format("{}: the file and the live backend {} hold different servers ({}); lbctl would overwrite the "
                      "file with the live servers. Reload HAProxy to apply the file, or run `lbctl reconcile`; "
                      "nothing changed",
                      where, lb.backend(), fmt::join(missing_or_extra, "; "))});
    }
    auto change = co_await file->preview(after_cutover(lb, lbs[i], plan));
    if (!change) co_return Failure(PlanFailure{ErrorKind::invalid, fmt::format("{}: {}", lb.name(), change.error().message)});
    files.push_back({lb.name(), file->describe(), pools::line_diff(change->before, change->after, file->path()),
                     file->has_check()});
  }
  co_return files;
}

}  // namespace lbctl
