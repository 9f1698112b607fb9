#include "lbctl/cutover/hooks.hpp"

#include <fmt/format.h>

namespace lbctl {

namespace asio = boost::asio;

namespace {

std::string server_list(const std::vector<pools::Server>& servers) {
  std::vector<std::string> items;
  for (const auto& s : servers) items.push_back(s.name + "=" + s.address);
  return fmt::format("{}", fmt::join(items, ","));
}

}  // namespace

asio::awaitable<Result<void>> run_hook(CutoverRun& run, std::optional<HookCommand> hook, std::string name, Step step) {
  if (!hook || hook->argv.empty()) co_return Result<void>{};
  ProcessSpec spec;
  spec.argv = hook->argv;
  spec.timeout = hook->timeout;
  spec.env.emplace_back("LBCTL_SERVICE", run.config().service);
  spec.env.emplace_back("LBCTL_CUTOVER_ID", std::to_string(run.id()));
  spec.env.emplace_back("LBCTL_RELEASE", run.row().release);
  spec.env.emplace_back("LBCTL_OLD_RELEASE", run.row().old_release);
  spec.env.emplace_back("LBCTL_STEP", std::string(to_string(step)));
  spec.env.emplace_back("LBCTL_HOOK", name);
  spec.env.emplace_back("LBCTL_OLD_SERVERS", server_list(run.progress().old_servers()));
  spec.env.emplace_back("LBCTL_NEW_SERVERS", server_list(run.progress().cloned()));
  run.emit(step, EventKind::hook_started, fmt::format("hook {}: {}", name, describe_argv(hook->argv)), {{"hook", name}});
  const auto executor = co_await boost::asio::this_coro::executor;
  const auto polling = run.session().keep_polling(executor);
  auto result = co_await run.processes().run(spec);
  if (!result) {
    run.emit(step, EventKind::hook_failed, fmt::format("hook {}: {}", name, result.error().message), {{"hook", name}});
    co_return std::unexpected(result.error().with_context("hook " + name));
  }
  const std::string out = tail_lines(result->out, 20);
  const std::string err = tail_lines(result->err, 20);
  run.emit(step, result->exit_code == 0 ? EventKind::hook_done : EventKind::hook_failed,
           fmt::format("hook {} exited {} after {} ms", name, result->exit_code, result->elapsed.count()),
           {{"hook", name}, {"exit_code", result->exit_code}, {"stdout", out}, {"stderr", err}});
  if (result->exit_code != 0) {
    co_return fail(ErrorKind::refused, fmt::format("hook {} ({}) exited {}{}{}", name, hook->argv.front(),
                                                   result->exit_code, err.empty() ? "" : ": ", err));
  }
  co_return Result<void>{};
}

asio::awaitable<Result<void>> run_hook_at(CutoverRun& run, HookPoint point, Step step) {
  co_return co_await run_hook(run, hook_command(run.config(), point), std::string(to_string(point)), step);
}

}  // namespace lbctl
