// LoadBalancer and reloads: which process answers (`show info`), and the
// sessions that workers a reload left behind still hold (the master CLI).

#include <unordered_set>
#include <fmt/format.h>

#include "pools/answer.hpp"
#include "pools/load_balancer.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

namespace {

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
  // The master CLI refuses connections for a moment at every reload (about
  // 140 ms measured): these reads are retried within the patience too.
  auto proc = co_await send_exchange(m_master.get(), commands_of("show proc"), Batch::reads);
  if (!proc) co_return std::unexpected(proc.error().with_context("master CLI"));
  const auto workers = parse_old_workers(proc->front());
  if (workers.empty()) co_return sessions;
  std::vector<std::string> reads;
  for (const auto& worker : workers) reads.push_back(fmt::format("@!{} show stat {} 4 -1", worker.pid, m_backend));
  auto answers = co_await send_exchange(m_master.get(), reads, Batch::reads);
  if (!answers) co_return std::unexpected(answers.error().with_context("master CLI"));
  const std::unordered_set<std::string> wanted(names.begin(), names.end());
  for (const auto& answer : *answers) {
    // A worker that ended between the two reads has no sessions left.
    if (answer.find("Can't find the target") != std::string::npos) continue;
    auto stats = parse_show_stat(answer, m_backend);
    if (!stats) co_return std::unexpected(in_context(stats.error()).with_context("an old worker"));
    for (const auto& stat : *stats) {
      if (wanted.contains(stat.name) && stat.sessions() > 0) sessions[stat.name] += stat.sessions();
    }
  }
  co_return sessions;
}

}  // namespace lbctl::pools
