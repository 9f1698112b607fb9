#pragma once
// The HTTP transport the health checks use, behind a narrow interface: one GET
// and its outcome. The real one is CurlProber; unit tests script a fake.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace lbctl::health {

// Bodies are cut here: a health endpoint that answers more is not read further.
inline constexpr std::size_t k_max_body_bytes = 64 * 1024;

struct HttpResponse {
  int status = 0;
  std::string body;  // at most k_max_body_bytes
  std::chrono::milliseconds latency{0};
  bool truncated = false;  // the body was longer than k_max_body_bytes
};

enum class ProbeError {
  connection_refused,  // nothing listens on that port (ECONNREFUSED)
  timeout,             // no complete answer within the timeout
  other,               // anything else: unreachable host, reset, empty reply, bad URL
};

struct ProbeFailure {
  ProbeError kind = ProbeError::other;
  std::string message;  // libcurl's words, for humans
  std::chrono::milliseconds latency{0};
};

using ProbeOutcome = std::expected<HttpResponse, ProbeFailure>;

std::string_view to_string(ProbeError kind);

// Coroutines here take their arguments by value: a reference would dangle
// once the caller's temporaries die before the first resume.
class HttpProber {
 public:
  virtual ~HttpProber() = default;

  // One `GET http://host:port/path`, no proxy, no redirects followed, bounded
  // by `timeout` (connect included). Any HTTP status is a response; a failure
  // says whether the connection was refused, timed out, or failed otherwise.
  // Never throws for network trouble.
  virtual boost::asio::awaitable<ProbeOutcome> get(std::string host, std::uint16_t port, std::string path,
                                                   std::chrono::milliseconds timeout) = 0;
};

}  // namespace lbctl::health
