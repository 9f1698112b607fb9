#include "pools/ssh_command.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "core/process.hpp"
#include "pools/placeholders.hpp"

namespace lbctl::pools {

namespace {

bool contains(std::string_view text, std::string_view what) { return text.find(what) != std::string_view::npos; }

std::string last_line(std::string_view text) {
  const std::string tail = tail_lines(text, 1);
  return tail.empty() ? "no message" : tail;
}

}  // namespace

std::string shell_quote(std::string_view arg) {
  const bool plain = !arg.empty() && std::all_of(arg.begin(), arg.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("._/:=@%+,-").find(c) != std::string_view::npos;
  });
  if (plain) return std::string(arg);
  std::string quoted = "'";
  for (char c : arg) {
    if (c == '\'') quoted += "'\\''";
    else quoted += c;
  }
  return quoted + "'";
}

std::vector<std::string> ssh_argv(const RuntimeApiEndpoint& endpoint, std::chrono::milliseconds connect_timeout,
                                  const std::string& control_path, SshRole role) {
  const auto seconds = std::max<long long>(1, (connect_timeout.count() + 999) / 1000);
  std::vector<std::string> argv{endpoint.ssh.program, "-T", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"};
  if (!endpoint.ssh.known_hosts.empty()) {
    argv.insert(argv.end(), {"-o", "UserKnownHostsFile=" + endpoint.ssh.known_hosts.string(), "-o",
                             "GlobalKnownHostsFile=/dev/null"});
  }
  if (!endpoint.ssh.identity_file.empty()) {
    argv.insert(argv.end(), {"-i", endpoint.ssh.identity_file.string(), "-o", "IdentitiesOnly=yes"});
  }
  // A dead network shows within 15 s even on an idle connection.
  argv.insert(argv.end(), {"-o", fmt::format("ConnectTimeout={}", seconds), "-o", "ServerAliveInterval=5", "-o",
                           "ServerAliveCountMax=3"});
  if (!control_path.empty()) {
    argv.insert(argv.end(), {"-o", "ControlPath=" + control_path});
    if (role == SshRole::connection) argv.insert(argv.end(), {"-o", "ControlMaster=yes", "-o", "ControlPersist=no", "-N"});
    else argv.insert(argv.end(), {"-o", "ControlMaster=no"});
  }
  if (endpoint.port != 0) argv.insert(argv.end(), {"-p", std::to_string(endpoint.port)});
  if (!endpoint.user.empty()) argv.insert(argv.end(), {"-l", endpoint.user});
  argv.insert(argv.end(), {"--", endpoint.host});
  if (role == SshRole::connection) return argv;
  std::string remote;
  for (const auto& arg : endpoint.ssh.command) {
    if (!remote.empty()) remote += ' ';
    remote += shell_quote(expand_placeholders(arg, {{"socket", endpoint.path}}));
  }
  argv.push_back(std::move(remote));
  return argv;
}

Error explain_ssh_failure(const RuntimeApiEndpoint& endpoint, std::string_view err, std::optional<int> exit_code,
                          bool reached_before) {
  const std::string where = endpoint.to_string();
  const std::string login = (endpoint.user.empty() ? std::string() : endpoint.user + "@") + endpoint.host;
  auto failure = [&](ErrorKind kind, std::string what) { return Error{kind, fmt::format("{}: {}", where, what)}; };
  if (contains(err, "Host key verification failed") || contains(err, "HOST IDENTIFICATION HAS CHANGED") ||
      contains(err, "host key is known for")) {
    return failure(ErrorKind::invalid,
                   fmt::format("the host key of {} is not the one in ssh.known_hosts ({}): unknown or changed. "
                               "Check the key on the LB host, then add it (ssh-keyscan{} {} >> {})",
                               endpoint.host, endpoint.ssh.known_hosts.string(),
                               endpoint.port ? fmt::format(" -p {}", endpoint.port) : "", endpoint.host,
                               endpoint.ssh.known_hosts.string()));
  }
  if (contains(err, "Permission denied (") || contains(err, "Too many authentication failures")) {
    return failure(ErrorKind::invalid,
                   fmt::format("{} refused the login (authentication; ssh.identity_file {}): is its public key in "
                               "that user's authorized_keys on the LB host?",
                               login, endpoint.ssh.identity_file.empty() ? "not set" : endpoint.ssh.identity_file.string()));
  }
  // socat on the far side: "socat[N] E connect(5, AF=1 "/path", N): <reason>"
  const bool socat_connect = contains(err, "socat[") && contains(err, " E connect(");
  if (socat_connect && contains(err, "No such file or directory")) {
    return failure(reached_before ? ErrorKind::unreachable : ErrorKind::invalid,
                   fmt::format("there is no socket at {} on {} (is HAProxy running there, with `stats socket {}`?)",
                               endpoint.path, endpoint.host, endpoint.path));
  }
  if (socat_connect && contains(err, "Connection refused")) {
    return failure(ErrorKind::unreachable,
                   fmt::format("nothing listens on {} on {} (connection refused: HAProxy stopped or restarting)",
                               endpoint.path, endpoint.host));
  }
  if (socat_connect && contains(err, "Permission denied")) {
    return failure(ErrorKind::invalid,
                   fmt::format("{} may not open {} (permission denied: the socket's mode and group, `stats socket "
                               "... mode 660 group G`)",
                               login, endpoint.path));
  }
  if (exit_code == 127 || contains(err, "command not found") || contains(err, ": not found")) {
    return failure(ErrorKind::invalid,
                   fmt::format("{} is not installed on {} (the far side of ssh runs it: apt-get install socat, or "
                               "set ssh.command): {}",
                               endpoint.ssh.command.empty() ? "the command" : endpoint.ssh.command.front(), endpoint.host,
                               last_line(err)));
  }
  if (contains(err, "Could not resolve hostname")) {
    return failure(ErrorKind::unreachable, fmt::format("cannot resolve {}: {}", endpoint.host, last_line(err)));
  }
  // ssh's own connect phase: nothing reached the far side.
  if (contains(err, "connect to host") || contains(err, "kex_exchange_identification") ||
      contains(err, "during banner exchange") || contains(err, "Network is unreachable")) {
    return failure(ErrorKind::unreachable, fmt::format("ssh to {} failed: {}", login, last_line(err)));
  }
  // Anything else broke a session that may have delivered the batch.
  return failure(ErrorKind::timeout,
                 fmt::format("the ssh session to {} broke (exit {}: {}); what it carried may have run", login,
                             exit_code ? std::to_string(*exit_code) : "unknown", last_line(err)));
}

}  // namespace lbctl::pools
