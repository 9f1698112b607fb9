#pragma once
// The real HTTP transport: libcurl's multi interface driven by the caller's
// Asio io_context. Curl tells us which sockets to watch and when its timer is
// due; Asio waits for those events on the same thread as everything else. Many
// checks run at once on one thread, each on a connection of its own.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>

#include "health/http_post.hpp"
#include "health/policy.hpp"
#include "health/probe.hpp"

namespace lbctl::health {

class CurlProber final : public HttpProber, public HttpPoster {
 public:
  // Transfers running at once by default; more wait their turn, first come
  // first served (a round of 10,000 checks holds a socket and curl's state
  // for each one running, not for all). Well above the 1,000 checks at once
  // the health fan-out target asks for.
  static constexpr std::size_t k_default_max_in_flight = 2048;

  // Every transfer runs on `io`; the prober must be destroyed before it.
  // `tls` applies to checks (get), never to webhook posts.
  explicit CurlProber(boost::asio::io_context& io, ProbeTls tls = {},
                      std::size_t max_in_flight = k_default_max_in_flight);
  ~CurlProber() override;
  CurlProber(const CurlProber&) = delete;
  CurlProber& operator=(const CurlProber&) = delete;

  // See HttpProber::get. Environment proxies are ignored: checks go straight
  // to the server. Transfers still running when the prober is destroyed end
  // with ProbeError::other.
  boost::asio::awaitable<ProbeOutcome> get(std::string host, std::uint16_t port, std::string path,
                                           std::chrono::milliseconds timeout) override;

  // See HttpPoster::post.
  boost::asio::awaitable<ProbeOutcome> post(std::string url, std::string body,
                                            std::chrono::milliseconds timeout) override;

  // Transfers running and not finished yet, waiting ones not counted (tests, benchmarks).
  std::size_t in_flight() const;

 private:
  class Multi;
  std::unique_ptr<Multi> m_multi;
  ProbeTls m_tls;
};

}  // namespace lbctl::health
