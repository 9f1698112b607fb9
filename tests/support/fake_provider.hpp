#pragma once
// An in-memory Provider for the controller's unit tests. It keeps which
// servers run and which have their health file, records every call in order
// ("clone v2-1,v2-2", "terminate old-1", "remove_health_file old-1",
// "restore_health_file old-1", "freeze_scaling", "unfreeze_scaling"), fails
// on request, and can tell a FakeHaproxy when a health file comes or goes.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "pools/provider.hpp"

namespace lbctl::test {

class FakeProvider final : public pools::Provider {
 public:
  // With a clock, set_delay makes operations take simulated time.
  explicit FakeProvider(Clock* clock = nullptr) : m_clock(clock) {}

  // Creates the missing servers: each new one gets 127.0.0.1:(9100 + i), i
  // counting the servers this fake created, runs, and has its health file.
  // A name that runs already comes back unchanged. A failure scripted for
  // "clone" and one of the names fails the call after the names before it
  // were created.
  boost::asio::awaitable<Result<std::vector<pools::Server>>> clone(std::vector<std::string> names,
                                                                   std::optional<pools::Server> template_server) override;
  boost::asio::awaitable<Result<void>> terminate(pools::Server server) override;
  boost::asio::awaitable<Result<void>> remove_health_file(pools::Server server) override;
  boost::asio::awaitable<Result<void>> restore_health_file(pools::Server server) override;
  boost::asio::awaitable<Result<void>> freeze_scaling() override;
  boost::asio::awaitable<Result<void>> unfreeze_scaling() override;
  Result<void> check() const override;
  std::string kind() const override { return "fake"; }
  // The next check() fails with this.
  void fail_check(Error error) { m_check_failure = std::move(error); }

  // Test controls.
  // A server that exists before the test (the old pool): running, with its
  // health file.
  void add_server(const std::string& name, const std::string& address);
  static constexpr int k_always = -1;
  // The next `times` calls of `operation` ("clone", "terminate", ...) for
  // `server` ("" = any server; freeze/unfreeze have none) fail with `error`.
  void fail_next(const std::string& operation, const std::string& server, Error error, int times = 1);
  // Every failure scripted so far forgotten (a host that answers again).
  void clear_failures() { m_failures.clear(); }
  // Each call of `operation` first sleeps `delay` on the clock.
  void set_delay(const std::string& operation, std::chrono::milliseconds delay);
  // Called with (server, present) when a health file is removed (false) or
  // restored (true), e.g. to drive FakeHaproxy::set_app.
  void on_health_file(std::function<void(const std::string& server, bool present)> callback) {
    m_on_health_file = std::move(callback);
  }

  // What was asked of it.
  const std::vector<std::string>& calls() const { return m_calls; }
  void clear_calls() { m_calls.clear(); }
  // The template_server of the last clone call.
  const std::optional<pools::Server>& last_template() const { return m_last_template; }

  // State.
  bool running(const std::string& name) const { return m_running.contains(name); }
  bool has_health_file(const std::string& name) const { return m_health_files.contains(name); }
  bool frozen() const { return m_frozen; }
  std::vector<std::string> running_servers() const;
  std::optional<std::string> address(const std::string& name) const;

 private:
  struct ScriptedFailure {
    std::string operation;
    std::string server;
    Error error;
    int remaining;
  };

  // The scripted error for this call, if one is due (and counts it).
  std::optional<Error> take_failure(const std::string& operation, const std::string& server);
  boost::asio::awaitable<void> delay(std::string operation);

  Clock* m_clock;
  std::map<std::string, std::string> m_running;  // name -> address
  std::set<std::string> m_health_files;
  std::size_t m_created = 0;
  bool m_frozen = false;
  std::vector<ScriptedFailure> m_failures;
  std::map<std::string, std::chrono::milliseconds> m_delays;
  std::function<void(const std::string&, bool)> m_on_health_file;
  std::vector<std::string> m_calls;
  mutable std::optional<Error> m_check_failure;
  std::optional<pools::Server> m_last_template;
};

}  // namespace lbctl::test
