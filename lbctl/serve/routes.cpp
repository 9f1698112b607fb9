#include "lbctl/serve/routes.hpp"

#include <fmt/format.h>

#include "core/time_format.hpp"
#include "lbctl/serve/assets.hpp"
#include "lbctl/serve/log.hpp"
#include "lbctl/serve/metrics.hpp"

namespace lbctl::serve {

namespace asio = boost::asio;

namespace {

constexpr std::string_view k_api = "/api/v1/services";
constexpr std::size_t k_events_limit = 1000;

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// /api/v1/services/NAME[/WHAT]: NAME and WHAT ("" for none); nullopt for any other path.
struct ServicePath {
  std::string service;
  std::string what;
};

std::optional<ServicePath> service_path(std::string_view path) {
  if (!path.starts_with(k_api) || path.size() <= k_api.size() || path[k_api.size()] != '/') return std::nullopt;
  const std::string_view rest = path.substr(k_api.size() + 1);
  const auto slash = rest.find('/');
  return ServicePath{std::string(rest.substr(0, slash)),
                     slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash + 1))};
}

Reply asset_reply(std::string_view name, unsigned status = 200) {
  const auto* asset = find_asset(name);
  if (asset == nullptr) return error_reply(404, "no such file");
  Reply reply{status, std::string(asset->content_type), std::string(asset->body), {}};
  reply.headers.emplace_back("Cache-Control", "no-cache");
  return reply;
}

nlohmann::json api_event_json(const db::Event& e) {
  auto detail = nlohmann::json::parse(e.detail_json, nullptr, false);
  if (detail.is_discarded()) detail = nlohmann::json::object();
  return {{"id", e.id},     {"cutover_id", e.cutover_id}, {"at", format_time(e.at, TimeFormat::iso_ms)},
          {"step", e.step}, {"event", e.kind},           {"details", std::move(detail)}};
}

unsigned status_for(Outcome outcome) {
  switch (outcome) {
    case Outcome::done: return 202;
    case Outcome::unreachable: return 503;
    case Outcome::usage:
    case Outcome::locked:
    case Outcome::needs_operator:
    case Outcome::failed: return 409;
  }
  return 500;
}

std::optional<Request> parse_request(std::string_view what) {
  if (what == "promote") return Request::promote;
  if (what == "abort") return Request::abort;
  if (what == "undo") return Request::undo;
  return std::nullopt;
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& security_headers() {
  static const std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
  };
  return headers;
}

Reply json_reply(unsigned status, const nlohmann::json& body) {
  Reply reply{status, "application/json", dump(body) + "\n", {}};
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

Reply error_reply(unsigned status, const std::string& message) { return json_reply(status, {{"error", message}}); }

Router::Router(Hub& hub, Backend& backend, std::string token, std::string host, HostAllowList hosts)
    : m_hub(hub), m_backend(backend), m_auth(std::move(token)), m_host(std::move(host)), m_hosts(std::move(hosts)) {}

std::optional<Reply> Router::refused_host(const HttpRequest& request) const {
  if (m_hosts.allows(request.host)) return std::nullopt;
  return error_reply(421, fmt::format("Host {} is not a name this serve answers to (it answers to {}); if it is "
                                      "serve's name, start serve with --allow-host NAME",
                                      nlohmann::json(request.host).dump(-1, ' ', false,
                                                                        nlohmann::json::error_handler_t::replace),
                                      m_hosts.describe()));
}

bool Router::is_stream(const HttpRequest& request, const std::optional<Target>& target) {
  return request.method == "GET" && target && target->path == "/api/v1/stream";
}

std::variant<std::vector<std::string>, Reply> Router::stream_services(const HttpRequest& request,
                                                                       const std::optional<Target>& target) const {
  if (auto refused = refused_host(request)) return std::move(*refused);
  if (!target) return error_reply(400, "a target that does not parse");
  const auto service = target->param("service");
  if (!service) return m_hub.services();
  if (!m_hub.knows(*service)) return error_reply(404, fmt::format("no service `{}` here", *service));
  return std::vector<std::string>{*service};
}

asio::awaitable<Reply> Router::answer(const HttpRequest& request) {
  co_return co_await answer(request, parse_target(request.target));
}

asio::awaitable<Reply> Router::answer(const HttpRequest& request, const std::optional<Target>& target) {
  if (auto refused = refused_host(request)) co_return std::move(*refused);
  if (!target) co_return error_reply(400, "a target that does not parse");
  const auto api = service_path(target->path);
  const std::string service = api ? api->service : "";
  const std::string what = api ? api->what : "";
  if (request.method == "POST") {
    if (!service.empty() && (parse_request(what) || what == "cutovers")) {
      co_return co_await action(service, what, request, *target);
    }
    Reply refused = error_reply(405, "only cutovers, promote, abort and undo take a POST");
    refused.headers.emplace_back("Allow", "GET, HEAD");
    co_return refused;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    Reply refused = error_reply(405, fmt::format("{} is not answered here", request.method));
    refused.headers.emplace_back("Allow", "GET, HEAD, POST");
    co_return refused;
  }
  if (!service.empty() && what == "events") {
    if (!m_hub.knows(service)) co_return error_reply(404, fmt::format("no service `{}` here", service));
    co_return co_await events(service, *target);
  }
  co_return get(*target);
}

Reply Router::get(const Target& target) const {
  const std::string& path = target.path;
  if (path == "/") return asset_reply("index.html");
  if (path.starts_with("/services/")) {
    const bool known = m_hub.knows(path.substr(std::string_view("/services/").size()));
    return asset_reply("index.html", known ? 200 : 404);
  }
  if (path.starts_with("/assets/")) {
    const std::string name = path.substr(std::string_view("/assets/").size());
    if (name == "index.html" || name.find('/') != std::string::npos) return error_reply(404, "no such file");
    return asset_reply(name);
  }
  if (path == "/metrics") {
    Reply reply{200, k_metrics_content_type, render_metrics(m_hub.polled()), {}};
    reply.headers.emplace_back("Cache-Control", "no-store");
    return reply;
  }
  if (path == k_api) {
    auto services = nlohmann::json::array();
    for (const auto& name : m_hub.services()) {
      const auto snapshot = m_hub.snapshot(name);
      if (snapshot) {
        services.push_back(snapshot->live->summary_json());
      } else {
        services.push_back({{"service", name}, {"state", "unknown"}, {"cutover", nullptr},
                            {"load_balancers", nlohmann::json::array()}, {"error", "not polled yet"}});
      }
    }
    return json_reply(200, {{"services", std::move(services)}, {"actions_allowed", m_hub.actions_allowed()}});
  }
  const auto api = service_path(path);
  if (!api) return error_reply(404, fmt::format("nothing at {}", path));
  const auto& [service, what] = *api;
  if (!m_hub.knows(service)) return error_reply(404, fmt::format("no service `{}` here", service));
  const auto snapshot = m_hub.snapshot(service);
  if (!snapshot) {
    Reply wait = error_reply(503, fmt::format("service `{}` has not been polled yet", service));
    wait.headers.emplace_back("Retry-After", "1");
    return wait;
  }
  const auto& live = *snapshot->live;
  if (what.empty()) return json_reply(200, live.status());
  if (what == "live") {
    Reply reply{200, "application/json", snapshot->live_text + "\n", {}};
    reply.headers.emplace_back("Cache-Control", "no-store");
    return reply;
  }
  if (what == "history") return json_reply(200, live.history());
  return error_reply(404, fmt::format("nothing at {}", path));
}

asio::awaitable<Reply> Router::events(const std::string& service, const Target& target) {
  std::int64_t since = 0;
  if (const auto text = target.param("since")) {
    const auto value = query_number(*text);
    if (!value) co_return error_reply(400, fmt::format("since={}: expected an event id (a whole number)", *text));
    since = *value;
  }
  std::size_t limit = k_events_limit;
  if (const auto text = target.param("limit")) {
    const auto value = query_number(*text);
    if (!value || *value < 1 || *value > static_cast<std::int64_t>(k_events_limit)) {
      co_return error_reply(400, fmt::format("limit={}: expected 1 to {}", *text, k_events_limit));
    }
    limit = static_cast<std::size_t>(*value);
  }
  std::int64_t cutover = 0;
  if (const auto text = target.param("cutover")) {
    const auto value = query_number(*text);
    if (!value || *value == 0) co_return error_reply(400, fmt::format("cutover={}: expected a cutover id", *text));
    cutover = *value;
  } else if (const auto snapshot = m_hub.snapshot(service)) {
    cutover = snapshot->live->cutover_id();
  }
  if (cutover == 0) co_return json_reply(200, {{"cutover_id", nullptr}, {"events", nlohmann::json::array()}, {"last_id", since}});
  if (m_event_reads >= k_max_event_reads) {
    Reply busy = error_reply(503, fmt::format("{} event reads are running; try again", m_event_reads));
    busy.headers.emplace_back("Retry-After", "1");
    co_return busy;
  }
  struct InFlight {
    std::size_t& count;
    explicit InFlight(std::size_t& c) : count(c) { ++count; }
    ~InFlight() { --count; }
  } in_flight(m_event_reads);
  auto events = co_await m_backend.events(service, cutover, since, limit);
  if (!events) co_return error_reply(events.error().kind == ErrorKind::invalid ? 404 : 503, events.error().message);
  auto list = nlohmann::json::array();
  std::int64_t last = since;
  for (const auto& e : *events) {
    list.push_back(api_event_json(e));
    last = std::max(last, e.id);
  }
  co_return json_reply(200, {{"cutover_id", cutover}, {"events", std::move(list)}, {"last_id", last}});
}

asio::awaitable<Reply> Router::action(const std::string& service, const std::string& what, const HttpRequest& request,
                                      const Target& target) {
  if (!m_hub.actions_allowed()) {
    co_return error_reply(403, "actions are off: start `lbctl serve` with --allow-actions and a token");
  }
  const auto verdict = m_auth.check(request.authorization, request.client, request.received_at);
  if (verdict.retry_after) {
    Reply slow = error_reply(429, fmt::format("too many wrong tokens from {}: try again in {} s", request.client,
                                              verdict.retry_after->count()));
    slow.headers.emplace_back("Retry-After", std::to_string(verdict.retry_after->count()));
    co_return slow;
  }
  if (!verdict.allowed) {
    log_warning(fmt::format("a wrong or missing token for {} of {} from {}", what, service, request.remote));
    Reply refused = error_reply(401, "an action needs the header `Authorization: Bearer TOKEN` with serve's token");
    refused.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"lbctl serve\"");
    co_return refused;
  }
  if (!m_hub.knows(service)) co_return error_reply(404, fmt::format("no service `{}` here", service));
  const std::string by = fmt::format("lbctl serve on {} (a request from {})", m_host, request.remote);
  if (what == "cutovers") co_return co_await submit(service, target, by, request.remote);
  const auto outcome = co_await m_backend.request(service, *parse_request(what), by);
  const unsigned status = status_for(outcome.outcome);
  log_info(fmt::format("{} of {} from {}: {} {}", what, service, request.remote, status, outcome.message));
  if (status == 202) co_return json_reply(202, {{"ok", true}, {"cutover_id", outcome.cutover_id}, {"message", outcome.message}});
  co_return json_reply(status, {{"error", outcome.message}, {"cutover_id", outcome.cutover_id}});
}

// POST /api/v1/services/NAME/cutovers[?release=R][&queue=true]: what
// `lbctl submit` does. 202 with the request's id; 409 while the service is
// busy (without queue=true); 400 for a bad release or queue; 503 when the
// state database does not answer.
asio::awaitable<Reply> Router::submit(const std::string& service, const Target& target, const std::string& by,
                                      const std::string& remote) {
  const std::string release = target.param("release").value_or("");
  const std::string queue = target.param("queue").value_or("false");
  if (queue != "true" && queue != "false") co_return error_reply(400, "queue: expected true or false");
  auto submitted = co_await m_backend.submit(service, release, queue == "true", by);
  if (!submitted) {
    const auto& e = submitted.error();
    const unsigned status = e.kind == ErrorKind::conflict  ? 409
                            : e.kind == ErrorKind::invalid ? 400
                                                           : 503;
    log_info(fmt::format("cutovers of {} from {}: {} {}", service, remote, status, e.message));
    co_return error_reply(status, e.message);
  }
  log_info(fmt::format("cutovers of {} from {}: 202 request {} queued", service, remote, submitted->id));
  co_return json_reply(202, {{"ok", true}, {"request_id", submitted->id}, {"service", service},
                             {"release", submitted->release}, {"requested_by", submitted->requested_by}});
}

}  // namespace lbctl::serve
