#include "lbctl/cutover/maintenance.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace lbctl {

namespace asio = boost::asio;

std::string maintenance_text(const std::string& message, std::optional<Duration> duration,
                             std::chrono::system_clock::time_point now) {
  if (!duration) return message;
  const auto back = std::chrono::time_point_cast<std::chrono::minutes>(now + *duration + std::chrono::seconds(59));
  return fmt::format("{} (expected back by {:%Y-%m-%d %H:%M} UTC)", message, back);
}

asio::awaitable<Result<void>> check_maintenance_map(pools::Fleet& fleet, std::string map) {
  auto loaded = co_await fleet.all<std::vector<std::string>>([](pools::LoadBalancer& lb) { return lb.maps(); });
  if (!loaded) co_return std::unexpected(loaded.error());
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < loaded->size(); ++i) {
    const auto& maps = (*loaded)[i];
    if (std::find(maps.begin(), maps.end(), map) == maps.end()) missing.push_back(fleet.at(i).name());
  }
  if (missing.empty()) co_return Result<void>{};
  co_return fail(ErrorKind::invalid,
                 fmt::format("{} did not load the map {}: create the file (empty) and add to the frontend: "
                             "http-request return status 503 content-type \"text/plain\" lf-string "
                             "\"%[str(maintenance),map({})]\" if {{ str(maintenance),map({}) -m found }} "
                             "(see configs/haproxy.cfg), then reload HAProxy once",
                             fmt::join(missing, ", "), map, map, map));
}

asio::awaitable<Result<void>> maintenance_on(pools::Fleet& fleet, std::string map, std::string text) {
  if (auto known = co_await check_maintenance_map(fleet, map); !known) co_return known;
  auto set_page = [map, text](pools::LoadBalancer& lb) {
    return lb.ensure_map_value(map, k_maintenance_key, text);
  };
  auto results = co_await fleet.each<pools::Applied>(set_page);
  std::vector<std::string> failures;
  for (const auto& r : results) {
    if (!r.result) failures.push_back(r.result.error().message);
  }
  if (failures.empty()) co_return Result<void>{};
  // All or nothing: the LBs that switched go back.
  auto clear_page = [map](pools::LoadBalancer& lb) { return lb.ensure_map_key_absent(map, k_maintenance_key); };
  (void)co_await fleet.each<pools::Applied>(clear_page);
  co_return fail(ErrorKind::refused, fmt::format("maintenance stays off everywhere: {}", fmt::join(failures, "; ")));
}

asio::awaitable<Result<void>> maintenance_off(pools::Fleet& fleet, std::string map) {
  auto clear_page = [map](pools::LoadBalancer& lb) { return lb.ensure_map_key_absent(map, k_maintenance_key); };
  auto cleared = co_await fleet.all<pools::Applied>(clear_page);
  if (!cleared) co_return std::unexpected(cleared.error());
  co_return Result<void>{};
}

}  // namespace lbctl
