#pragma once
// The runtime API commands lbctl sends, built in one place: the cutover sends
// them and `lbctl plan` prints them, so the plan never drifts from what is
// sent. Pure; names and addresses are checked by the caller first.

#include <cstdint>
#include <string>
#include <string_view>

#include "pools/reload_answers.hpp"
#include "pools/server_options.hpp"

namespace lbctl::pools {

enum class AdminTarget { ready, drain, maint };
std::string_view to_string(AdminTarget target);  // "ready", "drain", "maint"

// `add server B/S ADDRESS id N OPTIONS [cookie VALUE]` (registers it in
// MAINT); no cookie when `cookie` is empty.
std::string add_server_command(std::string_view backend, std::string_view name, std::string_view address,
                               std::uint64_t id, const ServerOptions& options, std::string_view cookie = {});

// Why `cookie` on `add server` is refused on `lb`: HAProxy before 3.0 says
// "'cookie' option is not accepted for dynamic server".
std::string cookie_refusal(std::string_view lb, const HaproxyVersion& version);

std::string enable_health_command(std::string_view backend, std::string_view name);
std::string set_state_command(std::string_view backend, std::string_view name, AdminTarget target);
std::string set_weight_command(std::string_view backend, std::string_view name, unsigned weight);
std::string set_address_command(std::string_view backend, std::string_view name, std::string_view host,
                                std::uint16_t port);
std::string shutdown_sessions_command(std::string_view backend, std::string_view name);
std::string del_server_command(std::string_view backend, std::string_view name);

}  // namespace lbctl::pools
