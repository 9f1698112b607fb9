#pragma once
// The runtime API commands lbctl sends, built in one place: the cutover sends
// them and `lbctl plan` prints them, so the plan never drifts from what is
// sent. Pure; names and addresses are checked by the caller first.

#include <cstdint>
#include <string>
#include <string_view>

#include "pools/server_options.hpp"

namespace lbctl::pools {

enum class AdminTarget { ready, drain, maint };
std::string_view to_string(AdminTarget target);  // "ready", "drain", "maint"

// `add server B/S ADDRESS id N OPTIONS` (registers it in MAINT).
std::string add_server_command(std::string_view backend, std::string_view name, std::string_view address,
                               std::uint64_t id, const ServerOptions& options);
std::string enable_health_command(std::string_view backend, std::string_view name);
std::string set_state_command(std::string_view backend, std::string_view name, AdminTarget target);
std::string set_weight_command(std::string_view backend, std::string_view name, unsigned weight);
std::string set_address_command(std::string_view backend, std::string_view name, std::string_view host,
                                std::uint16_t port);
std::string shutdown_sessions_command(std::string_view backend, std::string_view name);
std::string del_server_command(std::string_view backend, std::string_view name);

}  // namespace lbctl::pools
