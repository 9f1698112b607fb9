#pragma once
// The text of talking to an LB host over OpenSSH, apart from running it:
// the argv handed to ssh (never a shell here; the far side's shell gets
// quoted words only), and what a failed ssh's stderr and exit code mean.
// SshRuntimeApi runs these; unit tests read them.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "pools/runtime_api_endpoint.hpp"

namespace lbctl::pools {

// What an ssh invocation is for: the shared connection (-M -N, no command), a
// session on it (ControlMaster=no: alone when the connection is gone), or a
// session with no sharing at all.
enum class SshRole { connection, session };

// ssh's argv to `endpoint`: for a session, the remote command last, quoted
// for the far side's shell. `control_path` empty: no connection sharing.
std::vector<std::string> ssh_argv(const RuntimeApiEndpoint& endpoint, std::chrono::milliseconds connect_timeout,
                                  const std::string& control_path, SshRole role);

// One argument made safe for a POSIX shell: kept when it is only
// [A-Za-z0-9._/:=@%+,-], else single-quoted.
std::string shell_quote(std::string_view arg);

// What a failed session's stderr and exit code say, in words that name the
// cause (host key, login, socket, socat, network). `reached_before`: this
// client has had answers, so a missing socket is HAProxy restarting
// (unreachable, retried), not a wrong path (invalid).
Error explain_ssh_failure(const RuntimeApiEndpoint& endpoint, std::string_view stderr_text,
                          std::optional<int> exit_code, bool reached_before);

}  // namespace lbctl::pools
