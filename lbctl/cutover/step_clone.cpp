// clone: the provider creates the new servers (named and numbered at
// preflight); their addresses are saved before anything else happens.

#include <fmt/format.h>

#include "lbctl/cutover/steps.hpp"

namespace lbctl {

namespace asio = boost::asio;

asio::awaitable<Result<void>> step_clone(CutoverRun& run) {
  auto& progress = run.progress();
  std::optional<pools::Server> template_server;
  if (!progress.old_pool.empty()) template_server = progress.old_servers().front();
  auto cloned = co_await run.provider().clone(run.new_names(), template_server);
  if (!cloned) co_return std::unexpected(cloned.error().with_context("clone"));
  auto& new_pool = progress.new_pool;
  if (cloned->size() != new_pool.size()) {
    co_return fail(ErrorKind::invalid, fmt::format("clone: the provider returned {} servers for {} names",
                                                   cloned->size(), new_pool.size()));
  }
  for (std::size_t i = 0; i < cloned->size(); ++i) {
    if ((*cloned)[i].name != new_pool[i].name || !pools::parse_address((*cloned)[i].address)) {
      co_return fail(ErrorKind::invalid,
                     fmt::format("clone: the provider returned server '{}' where {} with a HOST:PORT address was "
                                 "expected",
                                 (*cloned)[i].name, new_pool[i].name));
    }
    new_pool[i].address = (*cloned)[i].address;
  }
  if (auto saved = co_await run.save(); !saved) co_return saved;
  run.record_servers(db::Pool::new_pool, "cloned");
  std::vector<std::string> list;
  for (const auto& s : new_pool) list.push_back(s.name + "=" + s.address);
  run.emit(Step::clone, EventKind::cloned, fmt::format("cloned {}", fmt::join(list, ", ")), {{"new", new_pool}});
  co_return Result<void>{};
}

}  // namespace lbctl
