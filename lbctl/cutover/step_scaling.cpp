// freeze and unfreeze: the provider's autoscaler held still for the cutover,
// so no server of the old version appears in the middle of it.

#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;

asio::awaitable<Result<void>> step_freeze(CutoverRun& run) {
  auto frozen = co_await run.provider().freeze_scaling();
  if (!frozen) co_return std::unexpected(frozen.error().with_context("freeze scaling"));
  run.progress().frozen = true;
  if (auto saved = co_await run.save(); !saved) co_return saved;
  run.emit(Step::freeze, EventKind::frozen, "scaling frozen");
  co_return Result<void>{};
}

asio::awaitable<Result<void>> step_unfreeze(CutoverRun& run) {
  auto unfrozen = co_await run.provider().unfreeze_scaling();
  if (!unfrozen) co_return std::unexpected(unfrozen.error().with_context("unfreeze scaling"));
  run.progress().frozen = false;
  if (auto saved = co_await run.save(); !saved) co_return saved;
  run.emit(Step::unfreeze, EventKind::unfrozen, "scaling unfrozen");
  co_return Result<void>{};
}

}  // namespace lbctl
