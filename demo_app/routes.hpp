#pragma once
// What lbctl-app answers on each path, apart from the transport: the server
// asks find_route, then builds the reply (after waiting, for /slow and /health/db).

#include <chrono>
#include <string>
#include <string_view>

#include "demo_app/database_check.hpp"
#include "demo_app/options.hpp"

namespace lbctl::demo_app {

struct Reply {
  unsigned status = 200;
  std::string content_type = "text/plain";
  std::string body;
};

enum class Endpoint {
  health_file,  // GET /<health-file>
  version,      // GET /version
  database,     // GET /health/db
  slow,         // GET /slow?ms=N
  bad_request,  // a known path with a bad query
  other,        // everything else: --status
};

struct Route {
  Endpoint endpoint = Endpoint::other;
  std::chrono::milliseconds hold{0};  // for slow
  std::string problem;                // for bad_request
};

inline constexpr std::chrono::milliseconds k_max_slow{600'000};

// Which endpoint a request target ("/slow?ms=300") is for.
Route find_route(std::string_view target, const AppOptions& options);

// The health file's content (read now, on every request), 404 when it is absent.
Reply health_file_reply(const AppOptions& options);
Reply version_reply(const AppOptions& options);
Reply database_reply(const DatabaseVerdict& verdict);
Reply slow_reply(std::chrono::milliseconds held);
Reply other_reply(const AppOptions& options);

}  // namespace lbctl::demo_app
