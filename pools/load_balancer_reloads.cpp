// LoadBalancer and reloads: which process answers (`show info`), and the
// sessions that workers a reload left behind still hold (the master CLI).

#include <charconv>
#include <unordered_set>
#include <fmt/format.h>

#include "pools/answer.hpp"
#include "pools/load_balancer.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

namespace {

std::uint64_t number_after(std::string_view text, std::string_view label) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const auto line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.starts_with(label)) continue;
    auto value = line.substr(label.size());
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    std::uint64_t number = 0;
    std::from_chars(value.data(), value.data() + value.size(), number);
    return number;
  }
  return 0;
}

std::vector<std::string> commands_of(std::string first) {
  std::vector<std::string> commands;
  commands.push_back(std::move(first));
  return commands;
}

}  // namespace

LbIdentity parse_identity(std::string_view show_info) {
  return LbIdentity{number_after(show_info, "Pid:"), number_after(show_info, "Start_time_sec:")};
}

std::vector<OldWorker> parse_old_workers(std::string_view show_proc) {
  // "# old workers" heads the list (2.6); each line: PID, type, reloads, ...
  std::vector<OldWorker> workers;
  bool in_old = false;
  std::size_t pos = 0;
  while (pos < show_proc.size()) {
    std::size_t end = show_proc.find('\n', pos);
    if (end == std::string_view::npos) end = show_proc.size();
    auto line = show_proc.substr(pos, end - pos);
    pos = end + 1;
    if (line.starts_with("#")) {
      in_old = line.starts_with("# old workers");
      continue;
    }
    if (!in_old) continue;
    OldWorker worker;
    const auto [after_pid, pid_error] = std::from_chars(line.data(), line.data() + line.size(), worker.pid);
    if (pid_error != std::errc() || worker.pid == 0) continue;
    auto rest = line.substr(static_cast<std::size_t>(after_pid - line.data()));
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    if (!rest.starts_with("worker")) continue;
    rest.remove_prefix(6);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    std::from_chars(rest.data(), rest.data() + rest.size(), worker.reloads);
    workers.push_back(worker);
  }
  return workers;
}

void LoadBalancer::note_identity(std::string_view show_info) {
  const auto seen = parse_identity(show_info);
  if (!seen.known()) return;
  if (m_identity.known() && seen != m_identity) ++m_reloads_seen;
  m_identity = seen;
}

asio::awaitable<Result<LbIdentity>> LoadBalancer::identity() {
  auto answers = co_await send(commands_of("show info"));
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
  auto proc = co_await send_exchange(m_master.get(), commands_of("show proc"));
  if (!proc) co_return std::unexpected(proc.error().with_context("master CLI"));
  const auto workers = parse_old_workers(proc->front());
  if (workers.empty()) co_return sessions;
  std::vector<std::string> reads;
  for (const auto& worker : workers) reads.push_back(fmt::format("@!{} show stat {} 4 -1", worker.pid, m_backend));
  auto answers = co_await send_exchange(m_master.get(), reads);
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
