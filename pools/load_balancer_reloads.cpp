// LoadBalancer and reloads: which process answers (`show info`), and the
// sessions that workers a reload left behind still hold (the master CLI).

#include <algorithm>
#include <unordered_set>
#include <fmt/ranges.h>
#include <fmt/format.h>

#include "pools/answer.hpp"
#include "pools/load_balancer.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

namespace {

// How many rounds an old worker still listed by `show proc` may leave
// `show stat` unanswered before the read fails.
constexpr int k_silent_worker_rounds = 3;

std::vector<std::string> commands_of(std::string first) {
  std::vector<std::string> commands;
  commands.push_back(std::move(first));
  return commands;
}

}  // namespace

void LoadBalancer::note_identity(std::string_view show_info) {
  const auto seen = parse_identity(show_info);
  if (!seen.known()) return;
  if (m_identity.known() && seen != m_identity) ++m_reloads_seen;
  // A new process may be another HAProxy (an upgrade and a restart).
  if (seen != m_identity || !m_version.known()) m_version = parse_version(show_info);
  m_identity = seen;
}

asio::awaitable<Result<LbIdentity>> LoadBalancer::identity() {
  auto answers = co_await send(commands_of("show info"), Batch::reads);
  if (!answers) co_return std::unexpected(answers.error());
  if (auto error = answer_error(answers->front())) {
    co_return fail(ErrorKind::refused, fmt::format("{}: show info: {}", m_name, *error));
  }
  note_identity(answers->front());
  co_return m_identity;
}

asio::awaitable<Result<std::unordered_map<std::string, std::uint64_t>>> LoadBalancer::old_worker_sessions(
    std::vector<std::string> names) {
  std::unordered_map<std::string, std::uint64_t> sessions;
  if (!m_master) co_return sessions;
  if (auto error = check_names(names)) co_return std::unexpected(*error);
  const std::unordered_set<std::string> wanted(names.begin(), names.end());
  // An old worker that is ending can leave `@!PID show stat` unanswered
  // (seen under reloads during a drain: nothing on 2.6, "Can't connect to
  // the target CLI!" on 3.0). Never read as "no sessions" while
  // `show proc` still lists it (terminate waits on those sessions): it is
  // asked again, a round at a time, until it answers or is gone.
  std::unordered_set<std::uint64_t> silent;  // the workers to ask again
  for (int round = 0; round < k_silent_worker_rounds; ++round) {
    if (round > 0) co_await m_clock.sleep_for(std::chrono::milliseconds(100));
    // The master CLI refuses connections for a moment at every reload (about
    // 140 ms measured): these reads are retried within the patience too.
    auto proc = co_await send_exchange(m_master.get(), commands_of("show proc"), Batch::reads);
    if (!proc) co_return std::unexpected(proc.error().with_context("master CLI"));
    std::vector<std::uint64_t> pids;
    for (const auto& worker : parse_old_workers(proc->front())) {
      if (round == 0 || silent.contains(worker.pid)) pids.push_back(worker.pid);
    }
    if (pids.empty()) co_return sessions;  // gone: no sessions left
    std::vector<std::string> reads;
    for (const auto pid : pids) reads.push_back(fmt::format("@!{} show stat {} 4 -1", pid, m_backend));
    auto answers = co_await send_exchange(m_master.get(), reads, Batch::reads);
    if (!answers) co_return std::unexpected(answers.error().with_context("master CLI"));
    silent.clear();
    for (std::size_t i = 0; i < answers->size() && i < pids.size(); ++i) {
      const auto& answer = (*answers)[i];
      const auto said = classify_old_worker_answer(answer);
      if (said == OldWorkerAnswer::ended) continue;  // ended between the two reads: no sessions left
      if (said == OldWorkerAnswer::unanswered) {
        silent.insert(pids[i]);
        continue;
      }
      auto stats = parse_show_stat(answer, m_backend);
      if (!stats) co_return std::unexpected(in_context(stats.error()).with_context("an old worker"));
      for (const auto& stat : *stats) {
        if (wanted.contains(stat.name) && stat.sessions() > 0) sessions[stat.name] += stat.sessions();
      }
    }
    if (silent.empty()) co_return sessions;
  }
  std::vector<std::uint64_t> named(silent.begin(), silent.end());
  std::sort(named.begin(), named.end());
  co_return fail(ErrorKind::refused,
                 fmt::format("{}: master CLI: old worker(s) {} still listed by show proc but left show stat "
                             "unanswered {} times",
                             m_name, fmt::join(named, ", "), k_silent_worker_rounds));
}

}  // namespace lbctl::pools
