#pragma once
// serve reads each LB once per interval for every service it watches: one
// exchange per LB (show info, then show stat and show servers state of each
// backend the services need), on one connection, retried once when it is
// slow or cannot connect; every service's LB then answers its reads from
// that exchange. So the connections serve opens to an LB per interval do
// not grow with the number of services, and the stats socket's slots (10 by
// default) stay free for the cutovers. Lives on the pollers' thread.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "pools/runtime_api.hpp"

namespace lbctl::serve {

class SharedReads {
 public:
  // `clock` paces the second try of a slow exchange.
  explicit SharedReads(Clock& clock) : m_clock(clock) {}

  // The runtime API a service's LB uses: `real` is its own socket client
  // (the first one given for an endpoint is the one used), `backend` the
  // service's backend there. Reads of that backend come from read_all();
  // anything else goes to the LB itself.
  std::shared_ptr<pools::RuntimeApi> share(std::shared_ptr<pools::RuntimeApi> real, const std::string& backend);

  // One exchange with every LB, all at once.
  boost::asio::awaitable<void> read_all();

  // Exchanges sent to each endpoint ("unix:/run/haproxy/admin.sock") so far,
  // retries included.
  std::map<std::string, std::uint64_t> exchanges() const;

  struct Endpoint;

 private:
  Clock& m_clock;
  std::map<std::string, std::shared_ptr<Endpoint>> m_endpoints;
};

}  // namespace lbctl::serve
