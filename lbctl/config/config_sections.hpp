#pragma once
// One reader per section of the config file. Each checks its own keys, types
// and ranges; parse_config (config.cpp) checks what spans sections.

#include <filesystem>
#include <vector>

#include "lbctl/config/config.hpp"
#include "lbctl/config/config_reader.hpp"

namespace lbctl::config_detail {

// Relative paths in the file are relative to the file's folder.
std::filesystem::path resolve(const std::filesystem::path& folder, const std::string& path);

// config_pools.cpp
std::vector<LoadBalancerConfig> read_load_balancers(Reader& reader, const Value& value,
                                                    const std::filesystem::path& folder);
std::vector<ServerEntry> read_servers(Reader& reader, const Value& value);
OldPoolConfig read_old_pool(Reader& reader, const Value& value);
NewPoolConfig read_new_pool(Reader& reader, const Value& value);
ProviderConfig read_provider(Reader& reader, const Value& value, const std::filesystem::path& folder);

// config_sections.cpp
HealthConfig read_health(Reader& reader, const Value& value);
DrainConfig read_drain(Reader& reader, const Value& value);
// `url_from_env`: LBCTL_MIGRATIONS_DATABASE_URL is set, so database_url may be left out.
MigrationsConfig read_migrations(Reader& reader, const Value& value, const std::filesystem::path& folder,
                                 bool url_from_env);
std::vector<StageConfig> read_stages(Reader& reader, const Value& value);
PromotionConfig read_promotion(Reader& reader, const Value& value);
// config_analysis.cpp
AnalysisConfig read_analysis(Reader& reader, const Value& value);
HooksConfig read_hooks(Reader& reader, const Value& value);
NotificationsConfig read_notifications(Reader& reader, const Value& value);
MaintenanceConfig read_maintenance(Reader& reader, const Value& value);

}  // namespace lbctl::config_detail
