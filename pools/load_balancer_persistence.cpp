// How a backend keeps users on their server, and what lbctl does so that new
// servers keep them too: the persisted file's persistence lines, the stick
// tables HAProxy holds (and which servers their entries point at), and
// dynamic cookies for servers added at runtime.

#include <algorithm>
#include <fmt/format.h>

#include "pools/answer.hpp"
#include "pools/backend_file.hpp"
#include "pools/batch.hpp"
#include "pools/load_balancer.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

namespace {

// Stick-table names HAProxy accepts in `show table NAME` and lbctl sends: a
// proxy's name or a peers table's ("peers/table").
bool is_table_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == ':' || c == '/';
  });
}

}  // namespace

asio::awaitable<std::vector<std::string>> LoadBalancer::stick_table_names() {
  if (m_stick_tables) co_return *m_stick_tables;
  std::vector<std::string> names;
  auto answers = co_await send(one_command("show table"), Batch::reads);
  if (!answers) co_return names;  // asked again at the next look
  const auto live = parse_table_list(answers->front());
  auto held = [&live](const std::string& name) {
    return std::any_of(live.begin(), live.end(), [&name](const auto& table) { return table.first == name; });
  };
  // The tables the persisted file's rules use, else the one named like the
  // backend; only those HAProxy holds (a file ahead of the running config
  // names others).
  std::vector<std::string> wanted{m_backend};
  if (m_file) {
    if (auto backend = co_await m_file->inspect()) wanted = backend->persistence.stick_tables;
  }
  for (auto& name : wanted) {
    if (is_table_name(name) && held(name)) names.push_back(std::move(name));
  }
  m_stick_tables = names;
  co_return names;
}

asio::awaitable<void> LoadBalancer::read_persistence(Abilities& abilities) {
  if (m_file) {
    if (auto backend = co_await m_file->inspect()) abilities.file_persistence = backend->persistence;
  }
  const auto names = co_await stick_table_names();
  if (names.empty()) co_return;
  auto answers = co_await send(one_command("show table"), Batch::reads);
  if (!answers) co_return;
  for (auto& [name, used] : parse_table_list(answers->front())) {
    if (std::find(names.begin(), names.end(), name) == names.end()) continue;
    StickTable table;
    table.name = name;
    table.used = used;
    abilities.stick_tables.push_back(std::move(table));
  }
}

asio::awaitable<Result<StickEntries>> LoadBalancer::stick_entries() {
  if (auto error = check_names(std::vector<std::string>())) co_return std::unexpected(*error);
  const auto tables = co_await stick_table_names();
  StickEntries entries;
  if (tables.empty()) co_return entries;
  std::vector<std::string> commands;
  for (const auto& table : tables) commands.push_back("show table " + table);
  auto answers = co_await send(std::move(commands), Batch::reads);
  if (!answers) co_return std::unexpected(answers.error());
  for (std::size_t i = 0; i < answers->size(); ++i) {
    auto table = parse_stick_entries((*answers)[i]);
    // A table gone since (a reload with another config) holds no entry.
    if (!table && answer_text((*answers)[i]).starts_with("No such table")) continue;
    if (!table) {
      co_return fail(ErrorKind::refused, fmt::format("{}: show table {}: {}", m_name, tables[i], table.error().message));
    }
    for (const auto& [id, count] : *table) entries[id] += count;
  }
  co_return entries;
}

asio::awaitable<Result<Applied>> LoadBalancer::ensure_dynamic_cookies(std::vector<std::string> names) {
  if (auto error = check_names(names)) co_return std::unexpected(*error);
  // The backend's own row first: one without a cookie (most) costs no more.
  auto row_answer = co_await send(one_command(fmt::format("show stat {} 2 -1", m_backend)), Batch::reads);
  if (!row_answer) co_return std::unexpected(row_answer.error());
  auto row = parse_backend_row(row_answer->front(), m_backend);
  if (!row) co_return std::unexpected(in_context(row.error()));
  Applied applied;
  if (row->cookie.empty()) co_return applied;  // no cookie: nothing to give
  auto without_cookie = [this, &names]() -> asio::awaitable<Result<std::vector<std::string>>> {
    std::vector<std::string> missing;
    auto answers = co_await send(one_command(fmt::format("show stat {} 4 -1", m_backend)), Batch::reads);
    if (!answers) co_return std::unexpected(answers.error());
    auto stats = parse_show_stat(answers->front(), m_backend);
    if (!stats) co_return std::unexpected(in_context(stats.error()));
    const auto by_name = index_by_name(*stats);
    for (const auto& name : names) {
      const auto it = by_name.find(name);
      if (it == by_name.end()) {
        co_return fail(ErrorKind::conflict, fmt::format("{}: no server {}/{}", m_name, m_backend, name));
      }
      if (it->second->cookie.empty()) missing.push_back(name);
    }
    co_return missing;
  };
  auto missing = co_await without_cookie();
  if (!missing) co_return std::unexpected(missing.error());
  if (missing->empty()) co_return applied;
  const std::string needs = fmt::format(
      "HAProxy derives a cookie for a server added at runtime only with `dynamic` on the backend's `cookie` line "
      "and a `dynamic-cookie-key` (the same on every LB); add both, or run HAProxy 3.0 or later on every LB (lbctl "
      "then gives each new server its own cookie on `add server`)");
  if (m_file) {
    // The file says the backend is not dynamic: turning it on at runtime
    // would give cookies to servers that have none by design.
    auto backend = co_await m_file->inspect();
    if (backend && !(backend->persistence.cookie_dynamic && backend->persistence.dynamic_cookie_key)) {
      co_return fail(ErrorKind::invalid, fmt::format("{}: backend {} gave {} no persistence cookie, and {} shows no "
                                                     "dynamic cookies: {}",
                                                     m_name, m_backend, fmt::join(*missing, ", "), m_file->describe(),
                                                     needs));
    }
  }
  // Not a change of servers: nothing to persist (the file's `cookie ...
  // dynamic` gives them their cookies at start).
  const std::string command = fmt::format("enable dynamic-cookie backend {}", m_backend);
  auto answers = co_await send(one_command(command), Batch::server_changes);
  if (!answers) co_return std::unexpected(answers.error());
  if (auto error = answer_error(answers->front())) {
    co_return fail(ErrorKind::refused, fmt::format("{}: '{}' refused: {}", m_name, command, *error));
  }
  applied.commands.push_back(command);
  missing = co_await without_cookie();
  if (!missing) co_return std::unexpected(missing.error());
  if (!missing->empty()) {
    co_return fail(ErrorKind::invalid, fmt::format("{}: backend {} gave {} no persistence cookie: {}", m_name, m_backend,
                                                   fmt::join(*missing, ", "), needs));
  }
  co_return applied;
}

}  // namespace lbctl::pools
