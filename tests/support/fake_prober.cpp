#include "tests/support/fake_prober.hpp"

#include <algorithm>

namespace lbctl::test {

using health::HttpResponse;
using health::ProbeError;
using health::ProbeFailure;
using health::ProbeOutcome;
using std::chrono::milliseconds;

FakeReply FakeReply::ok(std::string body, milliseconds latency) {
  FakeReply reply;
  reply.body = std::move(body);
  reply.latency = latency;
  return reply;
}

FakeReply FakeReply::status_code(int status, std::string body) {
  FakeReply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

FakeReply FakeReply::refused() {
  FakeReply reply;
  reply.kind = Kind::refused;
  reply.latency = milliseconds(0);
  return reply;
}

FakeReply FakeReply::hang() {
  FakeReply reply;
  reply.kind = Kind::hang;
  return reply;
}

FakeReply FakeReply::error(std::string message) {
  FakeReply reply;
  reply.kind = Kind::error;
  reply.message = std::move(message);
  reply.latency = milliseconds(0);
  return reply;
}

void FakeProber::script(const std::string& address, const std::string& path, std::vector<FakeReply> replies) {
  m_scripts[{address, path}] = std::move(replies);
  m_served[{address, path}] = 0;
}

void FakeProber::script(const std::string& address, const std::string& path, FakeReply reply) {
  std::vector<FakeReply> replies;
  replies.push_back(std::move(reply));
  script(address, path, std::move(replies));
}

FakeReply FakeProber::next_reply(const std::string& address, const std::string& path) {
  const auto it = m_scripts.find({address, path});
  if (it == m_scripts.end() || it->second.empty()) return m_fallback;
  std::size_t& served = m_served[{address, path}];
  const std::size_t index = std::min(served, it->second.size() - 1);
  ++served;
  return it->second[index];
}

boost::asio::awaitable<ProbeOutcome> FakeProber::get(std::string host, std::uint16_t port, std::string path,
                                                     milliseconds timeout) {
  const std::string address = host + ":" + std::to_string(port);
  m_requests.push_back(FakeRequest{address, path, timeout, m_clock.now()});
  const FakeReply reply = next_reply(address, path);
  m_max_in_flight = std::max(m_max_in_flight, ++m_in_flight);
  const bool times_out = reply.kind == FakeReply::Kind::hang || reply.latency >= timeout;
  co_await m_clock.sleep_for(times_out ? timeout : reply.latency);
  --m_in_flight;
  if (times_out) co_return std::unexpected(ProbeFailure{ProbeError::timeout, "Operation timed out", timeout});
  switch (reply.kind) {
    case FakeReply::Kind::refused:
      co_return std::unexpected(ProbeFailure{ProbeError::connection_refused, "Connection refused", reply.latency});
    case FakeReply::Kind::error:
      co_return std::unexpected(ProbeFailure{ProbeError::other, reply.message, reply.latency});
    case FakeReply::Kind::response:
    case FakeReply::Kind::hang: break;
  }
  co_return HttpResponse{reply.status, reply.body, reply.latency, false};
}

std::vector<std::string> FakeProber::request_log() const {
  std::vector<std::string> log;
  log.reserve(m_requests.size());
  for (const auto& request : m_requests) log.push_back(request.to_string());
  return log;
}

std::size_t FakeProber::count(const std::string& address, const std::string& path) const {
  return static_cast<std::size_t>(std::count_if(m_requests.begin(), m_requests.end(), [&](const FakeRequest& r) {
    return r.address == address && r.path == path;
  }));
}

}  // namespace lbctl::test
