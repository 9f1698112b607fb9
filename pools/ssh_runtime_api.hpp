#pragma once
// The runtime API (or master CLI) of an HAProxy on another host, over
// OpenSSH: lbctl runs the system's ssh client (an argv, never a shell here;
// BatchMode; host keys checked against the known_hosts file the config
// names) and the far side's socat joins each session to the socket.
//
// One long-lived SSH connection per LB (ssh -M -N: the ControlMaster, in a
// private folder), started again when it breaks; on it, one session in
// prompt mode kept across batches (a session costs a process and the far
// side's login shell). Each batch first asks `show info`: after a reload the
// old worker would keep answering a kept session (and keep living while it
// is open), so a worker that says `Stopping: 1`, or a session that ended,
// is left for a new one before anything of the batch is sent.
//
// A batch the connection breaks in the middle of fails with `timeout`: some
// of it may have run, and callers read again before acting (never assumed
// done).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "core/async_mutex.hpp"
#include "core/process.hpp"
#include "pools/runtime_api.hpp"
#include "pools/ssh_command.hpp"

namespace lbctl::pools {

class SshRuntimeApi final : public RuntimeApi {
 public:
  SshRuntimeApi(RuntimeApiEndpoint endpoint, std::chrono::milliseconds timeout, CliDialect dialect = CliDialect::stats);
  ~SshRuntimeApi() override;

  boost::asio::awaitable<Result<std::vector<std::string>>> run(std::vector<std::string> commands) override;
  std::string describe() const override { return m_endpoint.to_string(); }
  // Starts the ssh connection (the ControlMaster) at once; the first batch
  // waits for it to be ready, or reports why it is not.
  void connect_early() override;

  // The ssh client holding the connection (0: none): tests kill it mid-batch.
  pid_t connection_pid() const;
  // How many connections were made (each batch reuses the live one).
  std::size_t connections_started() const { return m_connections; }
  // How many prompt-mode sessions were opened on them (each batch reuses the live one).
  std::size_t sessions_started() const { return m_sessions; }

  struct Child;

 private:
  boost::asio::awaitable<Result<void>> ensure_connection();
  boost::asio::awaitable<Result<std::shared_ptr<Child>>> start(std::vector<std::string> argv);
  boost::asio::awaitable<Result<void>> converse(std::shared_ptr<Child> session, std::string request,
                                                std::function<bool(std::string_view)> on_data);
  boost::asio::awaitable<Error> explain(std::shared_ptr<Child> child);
  boost::asio::awaitable<Result<std::string>> session(std::string request, std::function<bool(std::string_view)> on_data);
  boost::asio::awaitable<Result<void>> ensure_session();

  RuntimeApiEndpoint m_endpoint;
  std::chrono::milliseconds m_timeout;
  CliDialect m_dialect;
  AsyncMutex m_one_at_a_time;
  std::string m_control_path;          // the connection's socket; empty: no sharing (each session connects)
  std::shared_ptr<Child> m_connection;  // ssh -M -N, once its control socket is there
  std::optional<PipedProcess> m_early;   // ssh -M -N started by connect_early(), not yet waited for
  std::shared_ptr<Child> m_session;     // the stats dialect's kept prompt-mode session
  std::size_t m_connections = 0;
  std::size_t m_sessions = 0;
  bool m_reached = false;  // a session has answered: a missing socket later is HAProxy restarting
};

}  // namespace lbctl::pools
