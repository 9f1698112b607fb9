#pragma once
// `lbctl serve`'s pollers: one per service, each with its own fleet and
// journal connection, on a thread of their own, so a slow journal or LB never
// stalls a page. Every interval each LB is read once for all services
// (SharedReads), then each service is polled from it and what it knows is
// published to the hub; the routes' journal reads and actions run there too
// (PollerBackend).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "lbctl/cli/wiring.hpp"
#include "lbctl/serve/hub.hpp"
#include "lbctl/serve/live.hpp"
#include "lbctl/serve/routes.hpp"
#include "lbctl/serve/shared_reads.hpp"

namespace lbctl::cli {

// One service: its config, its adapters on the pollers' io_context, what it
// knows. Touched on the pollers' thread only.
struct Service {
  // Its LBs' reads come from `reads` (one exchange per LB for all services).
  Service(Config c, boost::asio::io_context& io, serve::SharedReads& reads);

  Config config;
  Wiring wiring;
  serve::ServiceLive live;
  bool journal_open = false;
};

// The journal's reads and writes the routes need, run on the pollers' thread.
class PollerBackend final : public serve::Backend {
 public:
  PollerBackend(boost::asio::io_context& poll_io, std::map<std::string, Service*> services)
      : m_poll_io(poll_io), m_services(std::move(services)) {}

  boost::asio::awaitable<Result<std::vector<db::Event>>> events(const std::string& service, std::int64_t cutover,
                                                                std::int64_t after, std::size_t limit) override;
  boost::asio::awaitable<CutoverOutcome> request(const std::string& service, Request what,
                                                 const std::string& by) override;
  boost::asio::awaitable<Result<db::CutoverRequest>> submit(const std::string& service, std::string release, bool queue,
                                                            std::string by) override;

 private:
  boost::asio::io_context& m_poll_io;
  std::map<std::string, Service*> m_services;
};

class Pollers {
 public:
  Pollers();
  boost::asio::io_context& io() { return m_io; }
  serve::SharedReads& reads() { return m_reads; }

  // Polls every service every `interval`, publishing to `hub` on `http`.
  void start(std::vector<std::unique_ptr<Service>>& services, serve::Hub& hub, boost::asio::any_io_executor http,
             std::chrono::milliseconds interval, bool actions);
  // The poll in flight ends (an LB's timeout at most), then they stop.
  void stop();

 private:
  boost::asio::awaitable<void> poll_all(std::vector<std::unique_ptr<Service>>* services, serve::Hub* hub,
                                        boost::asio::any_io_executor http, std::chrono::milliseconds interval,
                                        bool actions);

  boost::asio::io_context m_io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> m_work;
  boost::asio::steady_timer m_timer;
  SteadyClock m_clock;
  serve::SharedReads m_reads;
  bool m_stopping = false;  // the pollers' thread reads and writes it
  std::future<void> m_ended;
  std::thread m_thread;
};

}  // namespace lbctl::cli
