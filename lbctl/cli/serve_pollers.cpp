#include "lbctl/cli/serve_pollers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "lbctl/cutover/agent.hpp"
#include "lbctl/cutover/promotion_requests.hpp"
#include "lbctl/cutover/service_status.hpp"
#include "lbctl/cutover/step_table.hpp"
#include "lbctl/serve/poller.hpp"

namespace lbctl::cli {

namespace asio = boost::asio;

namespace {

// How long a stop waits for the poll in flight before it stops the pollers' loop.
constexpr std::chrono::seconds k_poller_grace{10};

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The journal's reads and writes the routes need, run on the pollers' thread.
asio::awaitable<Result<std::vector<db::Event>>> read_events(Service* service, std::int64_t cutover, std::int64_t after,
                                                            std::size_t limit) {
  if (!service->journal_open) co_return fail(ErrorKind::unreachable, "the state database has not answered yet");
  co_return serve::service_events(service->wiring.journal(), service->config.service, cutover, after, limit);
}

asio::awaitable<CutoverOutcome> record(Service* service, Request what, std::string by) {
  if (!service->journal_open) {
    co_return CutoverOutcome{Outcome::unreachable, 0, "the state database has not answered yet"};
  }
  co_return record_request(service->wiring.journal(), service->config.service, what, by, wall_ms());
}

asio::awaitable<Result<db::CutoverRequest>> submit_for(Service* service, db::NewRequest request) {
  if (!service->journal_open) co_return fail(ErrorKind::unreachable, "the state database has not answered yet");
  request.config_digest = config_digest(service->config);
  co_return service->wiring.journal().submit_request(request);
}

// One poll of `service` (its journal, and its LBs from the interval's
// shared reads), handed to the hub.
asio::awaitable<void> poll_once(Service* service, serve::Hub* hub, asio::any_io_executor http, bool actions) {
  if (!service->journal_open) {
    auto opened = service->wiring.open_journal();
    service->journal_open = opened.has_value();
    if (!opened) {
      auto status = co_await gather_fleet_status(service->config, service->wiring.fleet(), opened.error().message);
      service->live.update(std::move(status), wall_ms());
    }
  }
  if (service->journal_open) {
    co_await serve::poll_service(service->config, service->wiring.fleet(), service->wiring.journal(), service->live,
                                 wall_ms());
    if (!service->live.status().error.empty()) {
      // The journal did not answer (Postgres restarted, failed over): a new connection at the next poll.
      service->wiring.close_journal();
      service->journal_open = false;
    }
  }
  auto snapshot = serve::make_snapshot(service->live, actions);
  asio::post(http, [hub, name = service->config.service, snapshot = std::move(snapshot)]() mutable {
    hub->publish(name, std::move(snapshot));
  });
}

}  // namespace

Service::Service(Config c, asio::io_context& io, serve::SharedReads& reads)
    : config(std::move(c)),
      wiring(config, io,
             [&reads](const LoadBalancerConfig& lb, std::shared_ptr<pools::RuntimeApi> api) {
               return reads.share(std::move(api), lb.backend);
             }),
      live(config.service, flow_step_names(config)) {}

asio::awaitable<Result<std::vector<db::Event>>> PollerBackend::events(const std::string& service, std::int64_t cutover,
                                                                      std::int64_t after, std::size_t limit) {
  co_return co_await asio::co_spawn(m_poll_io, read_events(m_services.at(service), cutover, after, limit),
                                    asio::use_awaitable);
}

asio::awaitable<CutoverOutcome> PollerBackend::request(const std::string& service, Request what, const std::string& by) {
  co_return co_await asio::co_spawn(m_poll_io, record(m_services.at(service), what, by), asio::use_awaitable);
}

asio::awaitable<Result<db::CutoverRequest>> PollerBackend::submit(const std::string& service, std::string release,
                                                                   bool queue, std::string by) {
  db::NewRequest request;
  request.service = service;
  request.release = std::move(release);
  request.requested_by = std::move(by);
  request.queue = queue;
  co_return co_await asio::co_spawn(m_poll_io, submit_for(m_services.at(service), std::move(request)),
                                    asio::use_awaitable);
}

Pollers::Pollers() : m_work(asio::make_work_guard(m_io)), m_timer(m_io), m_reads(m_clock) {}

void Pollers::start(std::vector<std::unique_ptr<Service>>& services, serve::Hub& hub, asio::any_io_executor http,
                    std::chrono::milliseconds interval, bool actions) {
  asio::co_spawn(m_io, poll_all(&services, &hub, std::move(http), interval, actions), asio::detached);
  auto done = std::make_shared<std::promise<void>>();
  m_ended = done->get_future();
  m_thread = std::thread([this, done] {
    m_io.run();
    done->set_value();
  });
}

void Pollers::stop() {
  asio::post(m_io, [this] {
    m_stopping = true;
    m_timer.cancel();
  });
  m_work.reset();
  if (m_ended.wait_for(k_poller_grace) != std::future_status::ready) m_io.stop();
  m_thread.join();
}

asio::awaitable<void> Pollers::poll_all(std::vector<std::unique_ptr<Service>>* services, serve::Hub* hub,
                                        asio::any_io_executor http, std::chrono::milliseconds interval, bool actions) {
  while (!m_stopping) {
    const auto started = std::chrono::steady_clock::now();
    co_await m_reads.read_all();
    for (auto& service : *services) {
      if (m_stopping) break;
      co_await poll_once(service.get(), hub, http, actions);
    }
    if (m_stopping) break;
    m_timer.expires_at(started + interval);
    boost::system::error_code ec;
    co_await m_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace lbctl::cli
