// How the config's enums are written, one table each: parsing, the
// snapshot, the summary and the plan all read these.

#include "core/enum_names.hpp"
#include "lbctl/config/config.hpp"

namespace lbctl {

namespace {

constexpr auto k_modes = enum_names<CutoverMode>({
    {CutoverMode::blue_green, "blue_green"},
    {CutoverMode::maintenance, "maintenance"},
});

constexpr auto k_provider_types = enum_names<ProviderConfig::Type>({
    {ProviderConfig::Type::local, "local"},
    {ProviderConfig::Type::exec, "exec"},
    {ProviderConfig::Type::static_, "static"},
});

constexpr auto k_drain_methods = enum_names<DrainConfig::Method>({
    {DrainConfig::Method::health_file, "health_file"},
    {DrainConfig::Method::haproxy, "haproxy"},
});

constexpr auto k_on_timeout = enum_names<DrainConfig::OnTimeout>({
    {DrainConfig::OnTimeout::abort, "abort"},
    {DrainConfig::OnTimeout::force, "force"},
});

constexpr auto k_promotion_modes = enum_names<PromotionConfig::Mode>({
    {PromotionConfig::Mode::automatic, "auto"},
    {PromotionConfig::Mode::manual, "manual"},
});

}  // namespace

std::string_view to_string(CutoverMode mode) { return k_modes.name(mode); }
std::string_view to_string(ProviderConfig::Type type) { return k_provider_types.name(type); }
std::string_view to_string(DrainConfig::Method method) { return k_drain_methods.name(method); }
std::string_view to_string(DrainConfig::OnTimeout action) { return k_on_timeout.name(action); }
std::optional<CutoverMode> parse_mode(std::string_view text) { return k_modes.parse(text); }
std::optional<ProviderConfig::Type> parse_provider_type(std::string_view text) { return k_provider_types.parse(text); }
std::optional<DrainConfig::Method> parse_drain_method(std::string_view text) { return k_drain_methods.parse(text); }
std::optional<DrainConfig::OnTimeout> parse_on_timeout(std::string_view text) { return k_on_timeout.parse(text); }
std::string_view to_string(PromotionConfig::Mode mode) { return k_promotion_modes.name(mode); }
std::optional<PromotionConfig::Mode> parse_promotion_mode(std::string_view text) { return k_promotion_modes.parse(text); }

}  // namespace lbctl
