#pragma once
// One HTTP POST, behind an interface: how lbctl sends webhook notifications
// on the same event loop as its checks. CurlProber is the real one.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "health/probe.hpp"

namespace lbctl::health {

class HttpPoster {
 public:
  virtual ~HttpPoster() = default;

  // POSTs `body` (Content-Type: application/json) to `url` (http or https),
  // bounded by `timeout`; the environment's proxy settings apply. Any HTTP
  // status is a response; a failure tells refused, timeout or other apart.
  virtual boost::asio::awaitable<ProbeOutcome> post(std::string url, std::string body,
                                                    std::chrono::milliseconds timeout) = 0;
};

}  // namespace lbctl::health
