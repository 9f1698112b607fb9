#pragma once
// What the HTTP side of `serve` answers from: each service's latest snapshot
// (a copy the poller hands over after each poll) and the streams waiting for
// the next one. Lives on the HTTP thread; the pollers post to it.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lbctl/serve/live.hpp"

namespace lbctl::serve {

struct Snapshot {
  std::shared_ptr<const ServiceLive> live;
  std::string live_text;  // live_json() as sent, serialized once per poll
};

class Hub {
 public:
  // `services`: every service's name, in the order the page lists them.
  Hub(std::vector<std::string> services, bool actions_allowed);

  bool actions_allowed() const { return m_actions_allowed; }
  const std::vector<std::string>& services() const { return m_services; }
  bool knows(const std::string& service) const { return m_snapshots.contains(service); }
  // null until the service's first poll ended.
  std::shared_ptr<const Snapshot> snapshot(const std::string& service) const;
  // Every polled service's live state, in order.
  std::vector<const ServiceLive*> polled() const;
  std::uint64_t publications() const { return m_publications; }

  // A poll's result: replaces the service's snapshot and wakes every stream.
  void publish(const std::string& service, std::shared_ptr<const Snapshot> snapshot);

  // A stream waits on its timer; publish() cancels every one (and forgets them).
  void wait_on(const std::shared_ptr<boost::asio::steady_timer>& timer) { m_waiting.push_back(timer); }
  // Wakes every waiting stream (a publication, or the server stopping).
  void wake_all();

 private:
  std::vector<std::string> m_services;
  bool m_actions_allowed;
  std::map<std::string, std::shared_ptr<const Snapshot>> m_snapshots;
  std::vector<std::weak_ptr<boost::asio::steady_timer>> m_waiting;
  std::uint64_t m_publications = 0;
};

// The snapshot of `live` as it stands (copied, so the poller goes on).
std::shared_ptr<const Snapshot> make_snapshot(const ServiceLive& live, bool actions_allowed);

}  // namespace lbctl::serve
