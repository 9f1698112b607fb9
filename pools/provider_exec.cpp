#include "pools/provider_check.hpp"
#include "pools/provider_exec.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/async.hpp"
#include "core/names.hpp"
#include "pools/clone_output.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

namespace {

std::string stderr_suffix(const std::string& err) {
  const std::string tail = tail_lines(err);
  if (tail.empty()) return "; no stderr";
  return "; stderr: " + tail;
}

Result<void> check_names(const std::vector<std::string>& names) {
  for (const auto& name : names) {
    if (!is_valid_name(name)) {
      return fail(ErrorKind::invalid, fmt::format("exec provider: {} is not a server name; expected 1-64 of [A-Za-z0-9._-]",
                                                  quote_for_message(name)));
    }
  }
  return {};
}

// Joins the failures of several runs into one error; success when none failed.
template <class T>
Result<std::vector<T>> gather(std::vector<Result<std::vector<T>>> results) {
  std::vector<T> values;
  std::vector<std::string> failures;
  std::optional<ErrorKind> first_kind;
  for (auto& result : results) {
    if (result) {
      for (auto& value : *result) values.push_back(std::move(value));
      continue;
    }
    if (!first_kind) first_kind = result.error().kind;
    failures.push_back(result.error().message);
  }
  if (first_kind) return fail(*first_kind, fmt::format("{}", fmt::join(failures, "\n")));
  return values;
}

}  // namespace

Result<Placeholders> server_placeholders(const Server& server) {
  if (!is_valid_name(server.name)) {
    return fail(ErrorKind::invalid, fmt::format("exec provider: {} is not a server name", quote_for_message(server.name)));
  }
  const auto target = parse_address(server.address);
  if (!target) {
    return fail(ErrorKind::invalid, fmt::format("exec provider: address {} of {} is not HOST:PORT",
                                                quote_for_message(server.address), server.name));
  }
  std::string host = target->host;
  // ssh and friends want a bare IPv6 literal.
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  Placeholders values;
  values.emplace_back("name", server.name);
  values.emplace_back("address", server.address);
  values.emplace_back("host", host);
  values.emplace_back("port", std::to_string(target->port));
  return values;
}

ExecProvider::ExecProvider(ExecProviderOptions options, ProcessRunner& runner)
    : m_options(std::move(options)), m_runner(runner) {}

asio::awaitable<Result<ProcessResult>> ExecProvider::run(std::string operation, std::vector<std::string> argv,
                                                         Placeholders values) {
  values.emplace_back("service", m_options.service);
  add_release(values);
  auto expanded = expand_argv(argv, values);
  if (!expanded) co_return std::unexpected(expanded.error().with_context(fmt::format("exec provider: {} command", operation)));
  ProcessSpec spec;
  spec.argv = std::move(*expanded);
  spec.timeout = m_options.timeout;
  const std::string what =
      fmt::format("exec provider: {} command '{}'", operation, spec.argv.empty() ? "" : spec.argv.front());
  auto result = co_await m_runner.run(std::move(spec));
  if (!result) co_return std::unexpected(result.error().with_context(what));
  if (result->exit_code != 0) {
    co_return fail(ErrorKind::refused, fmt::format("{} exited with {}{}", what, result->exit_code, stderr_suffix(result->err)));
  }
  co_return result;
}

asio::awaitable<Result<std::vector<Server>>> ExecProvider::clone(std::vector<std::string> names,
                                                                 std::optional<Server> template_server) {
  if (m_options.clone.empty()) co_return fail(ErrorKind::invalid, "exec provider: no clone command configured");
  if (auto ok = check_names(names); !ok) co_return std::unexpected(ok.error());
  if (names.empty()) co_return std::vector<Server>();
  Placeholders common;
  common.emplace_back("template", template_server ? template_server->name : "");
  common.emplace_back("template_address", template_server ? template_server->address : "");
  if (!uses_placeholder(m_options.clone, "name")) {
    Placeholders values = common;
    values.emplace_back("count", std::to_string(names.size()));
    values.emplace_back("names", fmt::format("{}", fmt::join(names, ",")));
    co_return co_await clone_batch(names, std::move(values));
  }
  // {name} in the argv: the program makes one server per run.
  std::vector<asio::awaitable<Result<std::vector<Server>>>> runs;
  for (const auto& name : names) {
    Placeholders values = common;
    values.emplace_back("name", name);
    values.emplace_back("count", "1");
    values.emplace_back("names", name);
    std::vector<std::string> one;
    one.push_back(name);
    runs.push_back(clone_batch(std::move(one), std::move(values)));
  }
  co_return gather(co_await when_all(std::move(runs)));
}

asio::awaitable<Result<std::vector<Server>>> ExecProvider::clone_batch(std::vector<std::string> names,
                                                                       Placeholders values) {
  auto result = co_await run("clone", m_options.clone, std::move(values));
  if (!result) co_return std::unexpected(result.error());
  auto servers = parse_clone_output(result->out, names);
  if (!servers) {
    co_return fail(servers.error().kind, fmt::format("exec provider: clone command '{}' printed {}{}", m_options.clone.front(),
                                                     servers.error().message, stderr_suffix(result->err)));
  }
  co_return servers;
}

asio::awaitable<Result<void>> ExecProvider::run_for_server(std::string operation, std::vector<std::string> argv,
                                                           Server server) {
  auto values = server_placeholders(server);
  if (!values) co_return std::unexpected(values.error());
  auto result = co_await run(std::move(operation), std::move(argv), std::move(*values));
  if (!result) co_return std::unexpected(result.error());
  co_return Result<void>{};
}

asio::awaitable<Result<void>> ExecProvider::on_server(std::string operation, const std::vector<std::string>& argv,
                                                       Server server, std::string_view needed_for) {
  if (!argv.empty()) co_return co_await run_for_server(std::move(operation), argv, std::move(server));
  if (m_options.unset_does_nothing) co_return Result<void>{};
  co_return fail(ErrorKind::invalid, fmt::format("exec provider: no {} command configured{}", operation, needed_for));
}

asio::awaitable<Result<void>> ExecProvider::terminate(Server server) {
  co_return co_await on_server("terminate", m_options.terminate, std::move(server), "");
}

namespace {
constexpr std::string_view k_health_file_needs =
    "; drain.method health_file needs one (or use drain.method haproxy)";
}  // namespace

asio::awaitable<Result<void>> ExecProvider::remove_health_file(Server server) {
  co_return co_await on_server("remove_health_file", m_options.remove_health_file, std::move(server),
                               k_health_file_needs);
}

asio::awaitable<Result<void>> ExecProvider::restore_health_file(Server server) {
  co_return co_await on_server("restore_health_file", m_options.restore_health_file, std::move(server),
                               k_health_file_needs);
}

asio::awaitable<Result<void>> ExecProvider::freeze_scaling() {
  if (m_options.freeze_scaling.empty()) co_return Result<void>{};
  auto result = co_await run("freeze_scaling", m_options.freeze_scaling, Placeholders());
  if (!result) co_return std::unexpected(result.error());
  co_return Result<void>{};
}

asio::awaitable<Result<void>> ExecProvider::unfreeze_scaling() {
  if (m_options.unfreeze_scaling.empty()) co_return Result<void>{};
  auto result = co_await run("unfreeze_scaling", m_options.unfreeze_scaling, Placeholders());
  if (!result) co_return std::unexpected(result.error());
  co_return Result<void>{};
}

Result<void> ExecProvider::check() const {
  const std::pair<const std::vector<std::string>*, const char*> commands[] = {
      {&m_options.clone, "provider.clone"},
      {&m_options.terminate, "provider.terminate"},
      {&m_options.remove_health_file, "provider.remove_health_file"},
      {&m_options.restore_health_file, "provider.restore_health_file"},
      {&m_options.freeze_scaling, "provider.freeze_scaling"},
      {&m_options.unfreeze_scaling, "provider.unfreeze_scaling"},
  };
  for (const auto& [argv, what] : commands) {
    if (auto program = check_program(*argv, what); !program) return program;
  }
  return {};
}

}  // namespace lbctl::pools
