#include "lbctl/serve/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace lbctl::serve {

namespace {

spdlog::logger& logger() {
  static const auto made = [] {
    auto created = std::make_shared<spdlog::logger>("serve", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    created->set_pattern("lbctl serve: %v");
    created->flush_on(spdlog::level::info);
    return created;
  }();
  return *made;
}

}  // namespace

void log_info(std::string_view text) { logger().info("{}", text); }
void log_warning(std::string_view text) { logger().warn("{}", text); }
void log_error(std::string_view text) { logger().error("{}", text); }

}  // namespace lbctl::serve
