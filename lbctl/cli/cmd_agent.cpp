// `lbctl agent -c FILE [-c FILE ...]`: a long-running process, several per
// fleet on different hosts, that runs the cutovers asked for through the
// state database (`lbctl submit`, serve's POST) and adopts those whose
// runner's lease ran out. One thread and event loop per service; every poll
// is lbctl/cutover/agent.hpp's agent_tick(). Logs through spdlog on stderr.

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <condition_variable>
#include <csignal>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "core/duration.hpp"
#include "lbctl/cli/cli.hpp"
#include "lbctl/cli/config_lookup.hpp"
#include "lbctl/cli/db_setup.hpp"
#include "lbctl/cli/exit_codes.hpp"
#include "lbctl/cli/output.hpp"
#include "lbctl/cli/wiring.hpp"
#include "lbctl/cutover/agent.hpp"

namespace lbctl::cli {

namespace asio = boost::asio;

namespace {

spdlog::logger& agent_log() {
  static const auto made = [] {
    auto created = std::make_shared<spdlog::logger>("agent", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    created->set_pattern("lbctl agent: %v");
    created->flush_on(spdlog::level::info);
    return created;
  }();
  return *made;
}

// A cutover's events in the agent's log: "shop: cutover 7: drain: 3 sessions left".
class LogSink final : public EventSink {
 public:
  explicit LogSink(std::string service) : m_service(std::move(service)) {}
  void emit(const Event& event) override {
    if (!event.journal || event.kind == EventKind::haproxy) return;  // views and command batches: the journal has them
    const bool bad = event.kind == EventKind::warning || event.kind == EventKind::step_failed ||
                     event.kind == EventKind::failed || event.kind == EventKind::rolling_back ||
                     event.kind == EventKind::state_database_lost;
    const std::string line = fmt::format("{}: cutover {}: {}: {}", m_service, event.cutover_id, event.step, event.text);
    if (bad) agent_log().warn("{}", line);
    else agent_log().info("{}", line);
  }

 private:
  std::string m_service;
};

struct AgentArgs {
  std::vector<std::string> files;
  std::string poll = "1s";
};

// One service's loop: its own event loop, thread and adapters.
class ServiceAgent {
 public:
  ServiceAgent(std::unique_ptr<Config> config, std::string name, std::chrono::milliseconds poll)
      : m_config(std::move(config)), m_name(std::move(name)), m_poll(poll), m_wiring(*m_config, m_io) {}

  const Config& config() const { return *m_config; }
  void start() { m_thread = std::thread([this] { loop(); }); }
  // From the main thread: no new work, and the event loop stops after the
  // handler it is in (nothing more goes to the LBs).
  void stop() {
    {
      const std::lock_guard lock(m_mutex);
      m_stopping = true;
    }
    m_wake.notify_all();
    m_io.stop();
  }
  // Waits until its loop has ended (after stop()), at most until `deadline`.
  void wait_finished(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(m_mutex);
    m_wake.wait_until(lock, deadline, [this] { return m_finished; });
  }
  ~ServiceAgent() {
    if (m_thread.joinable()) m_thread.detach();
  }
  ServiceAgent(const ServiceAgent&) = delete;
  ServiceAgent& operator=(const ServiceAgent&) = delete;

 private:
  bool stopping() {
    const std::lock_guard lock(m_mutex);
    return m_stopping;
  }
  // Sleeps `how_long`, or less when stopped.
  void pause(std::chrono::milliseconds how_long) {
    std::unique_lock lock(m_mutex);
    m_wake.wait_for(lock, how_long, [this] { return m_stopping; });
  }
  void say_once(const std::string& what, bool warning) {
    if (what == m_last_said) return;
    m_last_said = what;
    if (warning) agent_log().warn("{}: {}", m_config->service, what);
    else agent_log().info("{}: {}", m_config->service, what);
  }
  // One agent_tick; nullopt when the loop was stopped before it ended.
  std::optional<AgentTick> tick() {
    CommandReporting reporting(*m_config, std::make_unique<LogSink>(m_config->service), m_wiring.poster(),
                               m_wiring.clock(), m_io.get_executor());
    auto deps = m_wiring.deps(reporting.sink());
    deps.agent = m_name;
    deps.interrupted = std::make_shared<bool>(false);
    std::optional<AgentTick> result;
    std::exception_ptr error;
    auto task = [](CutoverDeps d, CommandReporting& r) -> asio::awaitable<AgentTick> {
      auto t = co_await agent_tick(std::move(d));
      co_await r.flush();
      co_return t;
    };
    asio::co_spawn(m_io, task(std::move(deps), reporting), [&](std::exception_ptr e, AgentTick t) {
      error = e;
      if (!e) result = std::move(t);
    });
    m_io.restart();
    if (stopping()) return std::nullopt;
    m_io.run();
    if (error) std::rethrow_exception(error);
    return result;
  }
  void report(const AgentTick& t) {
    if (t.action == AgentAction::idle) {
      say_once(t.why, t.why.starts_with("state database"));
      return;
    }
    m_last_said.clear();
    const auto& o = *t.outcome;
    const std::string what = t.action == AgentAction::took_over
                                 ? fmt::format("took over cutover {}", t.cutover_id)
                                 : fmt::format("ran request {} as cutover {}", t.request_id, o.cutover_id);
    const std::string line = fmt::format("{}: {}: {} ({}, exit code {})", m_config->service, what, o.message,
                                         to_string(o.outcome), static_cast<int>(exit_code_for(o.outcome)));
    if (o.outcome == Outcome::done) agent_log().info("{}", line);
    else agent_log().warn("{}", line);
  }
  void loop() {
    while (!stopping()) {
      if (auto opened = m_wiring.open_journal(); !opened) {
        say_once(opened.error().message + " (trying again)", true);
        pause(m_poll);
        continue;
      }
      std::optional<AgentTick> t;
      try {
        t = tick();
      } catch (const std::exception& e) {
        agent_log().error("{}: {}", m_config->service, e.what());
      }
      if (!t) break;  // stopped mid-way: the cutover is given up by the main thread
      report(*t);
      // After a run, or a state database that stopped answering: a fresh
      // connection for the next look.
      if (t->action != AgentAction::idle || t->why.starts_with("state database")) m_wiring.close_journal();
      if (t->action == AgentAction::idle) pause(m_poll);
    }
    {
      const std::lock_guard lock(m_mutex);
      m_finished = true;
    }
    m_wake.notify_all();
  }

  std::unique_ptr<Config> m_config;
  std::string m_name;
  std::chrono::milliseconds m_poll;
  asio::io_context m_io;
  Wiring m_wiring;
  std::thread m_thread;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;
  bool m_finished = false;
  std::string m_last_said;
};

// SIGTERM or SIGINT: every loop stopped, then each service's running cutover
// this agent owns given up (journaled), so the next agent adopts it at its
// next poll. The process then ends at once: nothing more reaches an LB.
void stop_and_give_up(std::vector<std::unique_ptr<ServiceAgent>>& agents, const std::string& name, int signal) {
  agent_log().info("stopping ({}): running cutovers are left to the next agent",
                   signal == SIGTERM ? "SIGTERM" : "SIGINT");
  for (auto& a : agents) a->stop();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (auto& a : agents) a->wait_finished(deadline);
  for (auto& a : agents) {
    auto journal = db::PgJournal::open(journal_options(a->config()));
    if (!journal) {
      agent_log().warn("{}: {}: its cutover, if any, is taken over once its lease runs out", a->config().service,
                       journal.error().message);
      continue;
    }
    const std::string text = fmt::format("{} stopped ({}): the cutover is left to the next agent", name,
                                         signal == SIGTERM ? "SIGTERM" : "SIGINT");
    auto given = (*journal)->give_up(a->config().service, this_host(), static_cast<int>(::getpid()), text);
    if (!given) {
      agent_log().warn("{}: {}", a->config().service, given.error().message);
    } else {
      for (auto id : *given) agent_log().info("{}: gave up cutover {} for the next agent", a->config().service, id);
    }
  }
}

int run_agent(const AgentArgs& args) {
  const auto poll = parse_duration(args.poll);
  if (!poll || poll->count() <= 0) {
    std::cerr << "lbctl: --poll " << args.poll << ": expected a duration like 1s or 500ms\n";
    return k_exit_usage;
  }
  std::vector<std::unique_ptr<Config>> configs;
  std::set<std::string> services;
  for (const auto& file : expand_config_folders(args.files)) {
    auto config = std::make_unique<Config>(load_config(file));
    if (!services.insert(config->service).second) {
      std::cerr << "lbctl: " << file << ": service " << config->service << " is given twice\n";
      return k_exit_usage;
    }
    configs.push_back(std::move(config));
  }
  raise_open_file_limit();
  // Signals reach the main thread only (sigwait below): the loops' threads
  // inherit the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  const std::string name = fmt::format("agent {} (pid {})", this_host(), ::getpid());
  std::vector<std::unique_ptr<ServiceAgent>> agents;
  for (auto& config : configs) agents.push_back(std::make_unique<ServiceAgent>(std::move(config), name, *poll));
  std::vector<std::string> names;
  for (const auto& a : agents) names.push_back(a->config().service);
  agent_log().info("{} started: services {}; polling every {}", name, fmt::join(names, ", "), format_duration(*poll));
  for (auto& a : agents) a->start();
  int signal = 0;
  sigwait(&stop_signals, &signal);
  stop_and_give_up(agents, name, signal);
  agent_log().info("stopped");
  agent_log().flush();
  std::cout.flush();
  std::cerr.flush();
  // Threads still inside a call (a connect, a lane) are not waited for.
  std::_Exit(k_exit_done);
}

}  // namespace

void add_agent_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<AgentArgs>();
  auto* agent = app.add_subcommand("agent", "Run the cutovers asked for through the state database, and take over "
                                            "those whose runner died");
  agent->add_option("-c,--config", args->files, "A config file (YAML), one per service, or a folder of them; give -c again for more")
      ->required();
  agent->add_option("--poll", args->poll, "How often each service's requests and cutovers are looked at (default 1s)");
  agent->footer(
      "Several agents, on different hosts, may serve the same services: each request runs once, in the order\n"
      "submitted (`lbctl submit`, or POST /api/v1/services/NAME/cutovers on `lbctl serve`). A running cutover\n"
      "whose runner stopped beating (killed, cut off) is adopted once its lease (state.lease) ran out, with a\n"
      "new owner token, and resumed as `lbctl resume` would (a `taken_over` event says by whom and why); one\n"
      "that needs an operator is left alone. SIGTERM stops the agent at once and gives its running cutover\n"
      "up to the next agent (nothing is rolled back). Logs on stderr.");
  agent->callback([&action, args] { action = [args] { return run_agent(*args); }; });
}

}  // namespace lbctl::cli
