#pragma once
// An in-memory HTTP transport for unit tests: answers scripted per server and
// per path, latency and timeouts played on the (manual) clock, and a record of
// every request it was sent.

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "health/probe.hpp"

namespace lbctl::test {

struct FakeReply {
  enum class Kind { response, refused, hang, error };
  Kind kind = Kind::response;
  int status = 200;
  std::string body = "ok";
  std::chrono::milliseconds latency{1};
  std::string message;  // for Kind::error

  // 200 with `body`.
  static FakeReply ok(std::string body = "ok", std::chrono::milliseconds latency = std::chrono::milliseconds(1));
  static FakeReply status_code(int status, std::string body = "");
  // Nothing listens: fails at once with connection refused.
  static FakeReply refused();
  // Accepts and never answers: fails with a timeout once the request's timeout passes.
  static FakeReply hang();
  static FakeReply error(std::string message);
};

struct FakeRequest {
  std::string address;  // HOST:PORT
  std::string path;
  std::chrono::milliseconds timeout{0};
  Clock::TimePoint at{};

  std::string to_string() const { return address + path; }  // "127.0.0.1:9001/health-check.html"
};

class FakeProber final : public health::HttpProber {
 public:
  explicit FakeProber(Clock& clock) : m_clock(clock) {}

  // The replies to GET `path` on `address`, in order; the last one repeats.
  // Replaces what was scripted there before.
  void script(const std::string& address, const std::string& path, std::vector<FakeReply> replies);
  // One reply, forever.
  void script(const std::string& address, const std::string& path, FakeReply reply);
  // For anything not scripted; connection refused unless set, as when nothing listens.
  void set_fallback(FakeReply reply) { m_fallback = std::move(reply); }

  // Plays the next scripted reply on the clock: waits its latency (or the
  // timeout, whichever is first; a hang always waits the timeout).
  boost::asio::awaitable<health::ProbeOutcome> get(std::string host, std::uint16_t port, std::string path,
                                                   std::chrono::milliseconds timeout) override;

  const std::vector<FakeRequest>& requests() const { return m_requests; }
  // Each request as "HOST:PORT/path", in the order they were sent.
  std::vector<std::string> request_log() const;
  std::size_t count(const std::string& address, const std::string& path) const;
  // The most requests outstanding at the same time.
  std::size_t max_in_flight() const { return m_max_in_flight; }

 private:
  FakeReply next_reply(const std::string& address, const std::string& path);

  Clock& m_clock;
  std::map<std::pair<std::string, std::string>, std::vector<FakeReply>> m_scripts;
  std::map<std::pair<std::string, std::string>, std::size_t> m_served;
  FakeReply m_fallback = FakeReply::refused();
  std::vector<FakeRequest> m_requests;
  std::size_t m_in_flight = 0;
  std::size_t m_max_in_flight = 0;
};

}  // namespace lbctl::test
