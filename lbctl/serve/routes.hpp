#pragma once
// What `serve` answers, apart from the sockets: the page and its assets,
// /api/v1, /metrics and the actions. GET answers come from the hub (what
// the pollers last saw); only the events since an id and the actions reach
// the journal, through Backend.

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <variant>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "db/journal.hpp"
#include "lbctl/cutover/outcome.hpp"
#include "lbctl/cutover/promotion_requests.hpp"
#include "lbctl/cutover/step.hpp"
#include "lbctl/serve/access.hpp"
#include "lbctl/serve/hub.hpp"
#include "lbctl/serve/target.hpp"

namespace lbctl::serve {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::string authorization;
  std::string remote;  // the peer's address and port, for the journal
  std::string host = {};    // the Host header ("" when absent)
  std::string client = {};  // the peer's address alone: what limits count by
  SteadyTime received_at{};
};

struct Reply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// The journal, wherever it lives (the pollers' thread in `serve`).
class Backend {
 public:
  virtual ~Backend() = default;
  virtual boost::asio::awaitable<Result<std::vector<db::Event>>> events(const std::string& service,
                                                                        std::int64_t cutover_id, std::int64_t after_id,
                                                                        std::size_t limit) = 0;
  virtual boost::asio::awaitable<CutoverOutcome> request(const std::string& service, Request what,
                                                         const std::string& by) = 0;
  // POST .../cutovers: a cutover request for the agents (db::Journal's
  // submit_request, with the service's config digest).
  virtual boost::asio::awaitable<Result<db::CutoverRequest>> submit(const std::string& service, std::string release,
                                                                    bool queue, std::string by) = 0;
};

// Every answer carries these: a Content-Security-Policy that allows this
// origin's script, style and connections only, and no framing or sniffing.
const std::vector<std::pair<std::string, std::string>>& security_headers();

class Router {
 public:
  // `token`: what an action's `Authorization: Bearer` must say ("" with
  // actions off). `hosts`: the Host headers answered (421 for the rest).
  Router(Hub& hub, Backend& backend, std::string token, std::string host,
         HostAllowList hosts = HostAllowList(true, {}));

  // `target`: parse_target(request.target), read once by the caller.
  boost::asio::awaitable<Reply> answer(const HttpRequest& request, const std::optional<Target>& target);
  // The same, parsing the target itself.
  boost::asio::awaitable<Reply> answer(const HttpRequest& request);

  // GET /api/v1/stream[?service=NAME]: the services the stream follows, or
  // the error to answer instead.
  static bool is_stream(const HttpRequest& request, const std::optional<Target>& target);
  std::variant<std::vector<std::string>, Reply> stream_services(const HttpRequest& request,
                                                                const std::optional<Target>& target) const;

 private:
  Reply get(const Target& target) const;
  boost::asio::awaitable<Reply> events(const std::string& service, const Target& target);
  boost::asio::awaitable<Reply> action(const std::string& service, const std::string& what, const HttpRequest& request,
                                       const Target& target);
  boost::asio::awaitable<Reply> submit(const std::string& service, const Target& target, const std::string& by,
                                       const std::string& remote);

  std::optional<Reply> refused_host(const HttpRequest& request) const;

  Hub& m_hub;
  Backend& m_backend;
  ActionAuth m_auth;
  std::string m_host;
  HostAllowList m_hosts;
  // Event reads run on the pollers' thread: a few at a time, so a flood of
  // them never delays a poll.
  std::size_t m_event_reads = 0;
};

inline constexpr std::size_t k_max_event_reads = 4;

Reply json_reply(unsigned status, const nlohmann::json& body);
Reply error_reply(unsigned status, const std::string& message);

}  // namespace lbctl::serve
