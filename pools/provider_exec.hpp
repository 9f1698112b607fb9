#pragma once
// The exec provider: the user's own programs create and retire servers (a
// cloud API wrapper, ssh, an autoscaler's CLI). Each operation is an argv
// list run without a shell, with placeholders filled in per call:
//   every command      {service}
//   clone              {template} (the old server cloned from, "" when none),
//                      {template_address}, {count}, {names} (comma
//                      separated), {name} (see clone)
//   per-server ones    {name}, {address}, {host}, {port}
// An unknown placeholder is passed on as written.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/process.hpp"
#include "pools/placeholders.hpp"
#include "pools/provider.hpp"

namespace lbctl::pools {

struct ExecProviderOptions {
  std::string service;
  // Each empty when not configured.
  std::vector<std::string> clone;
  std::vector<std::string> terminate;
  std::vector<std::string> remove_health_file;
  std::vector<std::string> restore_health_file;
  std::vector<std::string> freeze_scaling;
  std::vector<std::string> unfreeze_scaling;
  // Per command run; past it the command's process group is killed.
  std::chrono::milliseconds timeout{60000};
  // terminate and the health-file operations, without a command: fail
  // (false), or succeed doing nothing (true: the static provider's servers,
  // which someone else runs).
  bool unset_does_nothing = false;
};

class ExecProvider : public Provider {
 public:
  ExecProvider(ExecProviderOptions options, ProcessRunner& runner);

  // Runs `clone` once for the whole batch ({names}, {count}), which is what a
  // cloud API's "launch N instances" wants; when the argv holds {name}, it
  // runs once per server instead, concurrently. The output must hold one
  // line {"name": ..., "address": "HOST:PORT"} per requested name (see
  // clone_output.hpp). Running it again must find the servers it made: the
  // program owns that idempotence.
  boost::asio::awaitable<Result<std::vector<Server>>> clone(std::vector<std::string> names,
                                                            std::optional<Server> template_server) override;
  // Each fails naming the operation and argv[0] on a non-zero exit (refused),
  // a timeout or a program that cannot be started, with the tail of its
  // stderr. terminate and the health-file operations fail (invalid) when no
  // command is configured (unless unset_does_nothing); freeze and unfreeze
  // then succeed.
  boost::asio::awaitable<Result<void>> terminate(Server server) override;
  boost::asio::awaitable<Result<void>> remove_health_file(Server server) override;
  boost::asio::awaitable<Result<void>> restore_health_file(Server server) override;
  boost::asio::awaitable<Result<void>> freeze_scaling() override;
  boost::asio::awaitable<Result<void>> unfreeze_scaling() override;
  Result<void> check() const override;
  std::string kind() const override { return "exec"; }

  // Runs `argv` (expanded with `values` and {service}) as operation
  // `operation`; the static provider runs its optional commands through this.
  boost::asio::awaitable<Result<ProcessResult>> run(std::string operation, std::vector<std::string> argv,
                                                    Placeholders values);
  const ExecProviderOptions& options() const { return m_options; }

 private:
  boost::asio::awaitable<Result<std::vector<Server>>> clone_batch(std::vector<std::string> names, Placeholders values);
  boost::asio::awaitable<Result<void>> run_for_server(std::string operation, std::vector<std::string> argv,
                                                      Server server);
  // `argv` run for `server` as `operation`; without one, see unset_does_nothing
  // (the failure says what it is `needed_for`).
  boost::asio::awaitable<Result<void>> on_server(std::string operation, const std::vector<std::string>& argv,
                                                 Server server, std::string_view needed_for);

  ExecProviderOptions m_options;
  ProcessRunner& m_runner;
};

// The placeholders of an operation on one server: {name}, {address}, {host},
// {port}. Fails (invalid) on a name or address that could not have come from
// lbctl's checks.
Result<Placeholders> server_placeholders(const Server& server);

}  // namespace lbctl::pools
