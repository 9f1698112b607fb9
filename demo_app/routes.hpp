#pragma once
// What lbctl-app answers on each path, apart from the transport: the server
// asks find_route, then builds the reply (after waiting, for /slow and /health/db,
// and for --delay-ms on the other paths).

#include <chrono>
#include <cstdint>
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
  other,        // everything else: --status (or 500, --error-percent), after --delay-ms
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
// The answer --error-percent puts in place of other_reply.
Reply injected_error_reply(const AppOptions& options);

// Which requests to the other paths --error-percent fails. Deterministic, not
// random: the n-th request fails when floor(n * percent / 100) goes up, so
// exactly that share fails over any long run, spread evenly (10: the 10th, the
// 20th, ...; 2.5: the 40th, the 80th, ...).
class ErrorSchedule {
 public:
  explicit ErrorSchedule(std::uint32_t percent_millionths) : m_share(percent_millionths) {}
  // Counts one more request; true when it is to fail.
  bool next_fails();

 private:
  // 100% in millionths of a percent. floor(n*s/W) goes up at n exactly when
  // (n*s mod W) < s, which depends only on n mod W: counting modulo W never overflows.
  static constexpr std::uint64_t k_whole = 100 * std::uint64_t{k_error_percent_scale};
  std::uint64_t m_share;
  std::uint64_t m_count = 0;  // requests so far, modulo k_whole
};

}  // namespace lbctl::demo_app
