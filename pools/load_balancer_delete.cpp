// LoadBalancer: deleting servers (MAINT, then `del server`, retried while
// HAProxy still counts connections) and waiting on the backend's state.

#include <fmt/format.h>

#include "pools/answer.hpp"
#include "pools/load_balancer.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

asio::awaitable<Result<Applied>> LoadBalancer::ensure_deleted(std::vector<std::string> names,
                                                              std::chrono::milliseconds timeout,
                                                              std::chrono::milliseconds poll) {
  if (auto error = check_names(names)) co_return std::unexpected(*error);
  const auto deadline = m_clock.now() + timeout;
  const auto patience_ends = m_clock.now() + m_patience;
  Applied applied;
  std::vector<std::string> pending = names;
  for (;;) {
    auto state = co_await snapshot();
    if (!state) co_return std::unexpected(state.error());
    std::vector<std::string> commands;
    for (const auto& name : pending) {
      const auto* admin = state->admin_of(name);
      if (admin == nullptr) continue;  // already gone
      if ((admin->admin_state & k_admin_forced_maint) == 0) {
        commands.push_back(set_state_command(m_backend, name, AdminTarget::maint));
      }
      commands.push_back(del_server_command(m_backend, name));
    }
    if (commands.empty()) co_return applied;
    auto answers = co_await send(commands, Batch::server_changes);
    // Timed out mid-batch: read again and send what is still missing.
    if (!answers && answers.error().kind == ErrorKind::timeout && m_clock.now() < patience_ends) continue;
    if (!answers) co_return std::unexpected(answers.error());
    std::vector<std::string> still_connected;
    std::size_t done = applied.commands.size();
    for (std::size_t i = 0; i < commands.size(); ++i) {
      const bool is_del = commands[i].starts_with("del server");
      if (is_del && is_still_connected((*answers)[i])) {
        still_connected.push_back(commands[i].substr(commands[i].find('/') + 1));
        continue;
      }
      // Gone already: a batch cut off by a timeout may still have run on an
      // LB that was only slow (seen: an LB frozen mid-detach, then thawed,
      // ran the first batch after the retry had read it).
      if (says_no_such_server((*answers)[i])) continue;
      if (auto error = answer_error((*answers)[i])) {
        co_return fail(ErrorKind::refused, fmt::format("{}: '{}' refused: {}", m_name, commands[i], *error));
      }
      applied.commands.push_back(commands[i]);
    }
    if (applied.commands.size() > done) {
      if (auto persisted = co_await persist_batch(); !persisted) co_return std::unexpected(persisted.error());
    }
    if (still_connected.empty()) co_return applied;
    if (m_clock.now() >= deadline) {
      co_return fail(ErrorKind::timeout, fmt::format("{}: {} still had connections after {} ms; not deleted", m_name,
                                                     fmt::join(still_connected, ", "), timeout.count()));
    }
    pending = std::move(still_connected);
    co_await m_clock.sleep_for(poll);
  }
}

asio::awaitable<Result<std::vector<ServerStat>>> LoadBalancer::wait_until(std::vector<std::string> names,
                                                                          StatPredicate done,
                                                                          std::string waiting_for,
                                                                          std::chrono::milliseconds timeout,
                                                                          std::chrono::milliseconds poll) {
  if (auto error = check_names(names)) co_return std::unexpected(*error);
  const auto deadline = m_clock.now() + timeout;
  for (;;) {
    auto stats = co_await this->stats();
    if (!stats) co_return std::unexpected(stats.error());
    const std::string missing = not_yet(*stats, names, done);
    if (missing.empty()) co_return stats;
    if (m_clock.now() >= deadline) {
      co_return fail(ErrorKind::timeout, fmt::format("{}: after {} ms, not yet {}: {}", m_name, timeout.count(),
                                                     waiting_for, missing));
    }
    co_await m_clock.sleep_for(poll);
  }
}

}  // namespace lbctl::pools
