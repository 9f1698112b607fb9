#include "pools/commands.hpp"

#include <fmt/format.h>

#include "core/enum_names.hpp"

namespace lbctl::pools {

namespace {

constexpr auto k_targets = enum_names<AdminTarget>({
    {AdminTarget::ready, "ready"},
    {AdminTarget::drain, "drain"},
    {AdminTarget::maint, "maint"},
});

}  // namespace

std::string_view to_string(AdminTarget target) { return k_targets.name(target); }

std::string add_server_command(std::string_view backend, std::string_view name, std::string_view address,
                               std::uint64_t id, const ServerOptions& options, std::string_view cookie) {
  const std::string text = options.text();
  return fmt::format("add server {}/{} {} id {}{}{}{}{}", backend, name, address, id, text.empty() ? "" : " ", text,
                     cookie.empty() ? "" : " cookie ", cookie);
}

std::string cookie_refusal(std::string_view lb, const HaproxyVersion& version) {
  return fmt::format("{} runs HAProxy {}, which refuses `cookie` on a server added at runtime (HAProxy 3.0 and later "
                     "take it)",
                     lb, version.text);
}

std::string enable_health_command(std::string_view backend, std::string_view name) {
  return fmt::format("enable health {}/{}", backend, name);
}

std::string set_state_command(std::string_view backend, std::string_view name, AdminTarget target) {
  return fmt::format("set server {}/{} state {}", backend, name, to_string(target));
}

std::string set_weight_command(std::string_view backend, std::string_view name, unsigned weight) {
  return fmt::format("set weight {}/{} {}", backend, name, weight);
}

std::string set_address_command(std::string_view backend, std::string_view name, std::string_view host,
                                std::uint16_t port) {
  return fmt::format("set server {}/{} addr {} port {}", backend, name, host, port);
}

std::string shutdown_sessions_command(std::string_view backend, std::string_view name) {
  return fmt::format("shutdown sessions server {}/{}", backend, name);
}

std::string del_server_command(std::string_view backend, std::string_view name) {
  return fmt::format("del server {}/{}", backend, name);
}

}  // namespace lbctl::pools
