#include "pools/load_balancer.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <unordered_map>

#include "core/names.hpp"
#include "pools/answer.hpp"
#include "pools/batch.hpp"
#include "pools/server.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

BackendState::BackendState(const BackendState& other) : stats(other.stats), admin(other.admin) { index(); }

BackendState& BackendState::operator=(const BackendState& other) {
  if (this == &other) return *this;
  stats = other.stats;
  admin = other.admin;
  index();
  return *this;
}

void BackendState::index() {
  m_stat_at.clear();
  m_admin_at.clear();
  m_stat_at.reserve(stats.size());
  m_admin_at.reserve(admin.size());
  for (std::size_t i = 0; i < stats.size(); ++i) m_stat_at.emplace(stats[i].name, i);
  for (std::size_t i = 0; i < admin.size(); ++i) m_admin_at.emplace(admin[i].name, i);
}

const ServerStat* BackendState::stat(std::string_view name) const {
  if (m_stat_at.size() == stats.size() && !stats.empty()) {
    const auto it = m_stat_at.find(name);
    return it == m_stat_at.end() ? nullptr : &stats[it->second];
  }
  const auto it = std::find_if(stats.begin(), stats.end(), [&](const ServerStat& s) { return s.name == name; });
  return it == stats.end() ? nullptr : &*it;
}

const ServerAdmin* BackendState::admin_of(std::string_view name) const {
  if (m_admin_at.size() == admin.size() && !admin.empty()) {
    const auto it = m_admin_at.find(name);
    return it == m_admin_at.end() ? nullptr : &admin[it->second];
  }
  const auto it = std::find_if(admin.begin(), admin.end(), [&](const ServerAdmin& s) { return s.name == name; });
  return it == admin.end() ? nullptr : &*it;
}

std::string BackendState::address_of(std::string_view name) const {
  if (const auto* s = stat(name)) return s->address;
  if (const auto* a = admin_of(name)) return a->address;
  return {};
}

std::uint64_t BackendState::max_id() const {
  std::uint64_t id = 0;
  for (const auto& s : admin) id = std::max(id, s.id);
  for (const auto& s : stats) id = std::max(id, s.id);
  return id;
}

LoadBalancer::LoadBalancer(std::string name, std::string backend, std::shared_ptr<RuntimeApi> api, Clock& clock)
    : m_name(std::move(name)), m_backend(std::move(backend)), m_api(std::move(api)), m_clock(clock) {}

std::string LoadBalancer::describe() const { return fmt::format("{} ({})", m_name, m_api->describe()); }

std::optional<Error> LoadBalancer::check_names(const std::vector<std::string>& names) const {
  if (!is_valid_name(m_backend)) {
    return in_context(Error{ErrorKind::invalid, "the backend name is not [A-Za-z0-9._-]{1,64}; nothing sent"});
  }
  for (const auto& name : names) {
    if (!is_valid_name(name)) {
      return in_context(Error{ErrorKind::invalid,
                              fmt::format("server name '{}' is not [A-Za-z0-9._-]{{1,64}}; nothing sent",
                                          is_valid_name_chars(name) ? name : std::string("(unprintable)"))});
    }
  }
  return std::nullopt;
}

namespace {

// A batch goes out in exchanges of at most this many commands, each with the
// LB's own timeout: HAProxy answers 10,000 `add server` lines in one session
// slower than any sensible timeout (each add scans the backend).
constexpr std::size_t k_commands_per_exchange = 200;

}  // namespace

asio::awaitable<Result<std::vector<std::string>>> LoadBalancer::send(std::vector<std::string> commands, Batch kind) {
  std::vector<std::string> answers;
  answers.reserve(commands.size());
  for (std::size_t start = 0; start < commands.size(); start += k_commands_per_exchange) {
    const auto end = std::min(commands.size(), start + k_commands_per_exchange);
    std::vector<std::string> chunk(commands.begin() + static_cast<std::ptrdiff_t>(start),
                                   commands.begin() + static_cast<std::ptrdiff_t>(end));
    auto part = co_await send_exchange(m_api.get(), std::move(chunk), kind);
    if (!part) co_return std::unexpected(part.error());
    for (auto& answer : *part) answers.push_back(std::move(answer));
  }
  co_return answers;
}

asio::awaitable<Result<std::vector<std::string>>> LoadBalancer::send_exchange(RuntimeApi* api,
                                                                             std::vector<std::string> commands,
                                                                             Batch kind) {
  // An exchange that could not connect sent nothing: trying again is always
  // safe. One that timed out may have run; only reads are sent again.
  const bool reads_only = kind == Batch::reads;
  const auto deadline = m_clock.now() + m_patience;
  auto pause = std::chrono::milliseconds(100);
  for (;;) {
    if (!reads_only && m_write_gate) {
      if (auto open = co_await m_write_gate(); !open) co_return std::unexpected(in_context(open.error()));
    }
    auto answers = co_await api->run(commands);
    if (answers) co_return answers;
    const auto failure = answers.error().kind;
    const bool retry = failure == ErrorKind::unreachable || (failure == ErrorKind::timeout && reads_only);
    if (!retry || m_clock.now() >= deadline) co_return std::unexpected(in_context(answers.error()));
    co_await m_clock.sleep_for(std::min<std::chrono::milliseconds>(
        pause, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - m_clock.now()) + std::chrono::milliseconds(1)));
    pause = std::min<std::chrono::milliseconds>(pause * 2, std::chrono::seconds(2));
  }
}

asio::awaitable<Result<Applied>> LoadBalancer::retrying(std::function<asio::awaitable<Result<Applied>>()> op) {
  const auto deadline = m_clock.now() + m_patience;
  for (;;) {
    auto result = co_await op();
    // A batch that timed out may have run in part: the next try reads the
    // backend again and sends only what is still missing.
    if (result || result.error().kind != ErrorKind::timeout || m_clock.now() >= deadline) co_return result;
    co_await m_clock.sleep_for(std::chrono::milliseconds(200));
  }
}

asio::awaitable<Result<Applied>> LoadBalancer::apply(std::vector<std::string> commands, Batch kind) {
  Applied applied;
  if (commands.empty()) co_return applied;
  auto answers = co_await send(commands, kind);
  if (!answers) co_return std::unexpected(answers.error());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (auto error = answer_error((*answers)[i])) {
      co_return fail(ErrorKind::refused, fmt::format("{}: '{}' refused: {}", m_name, commands[i], *error));
    }
  }
  applied.commands = std::move(commands);
  if (kind == Batch::server_changes) {
    if (auto persisted = co_await persist_batch(); !persisted) co_return std::unexpected(persisted.error());
  }
  co_return applied;
}

asio::awaitable<Result<std::vector<ServerStat>>> LoadBalancer::stats() {
  if (auto error = check_names(std::vector<std::string>())) co_return std::unexpected(*error);
  auto commands = one_command("show info");
  commands.push_back(fmt::format("show stat {} 4 -1", m_backend));
  auto answers = co_await send(std::move(commands), Batch::reads);
  if (!answers) co_return std::unexpected(answers.error());
  note_identity((*answers)[0]);
  auto stats = parse_show_stat((*answers)[1], m_backend);
  if (!stats) co_return std::unexpected(in_context(stats.error()));
  co_return stats;
}

asio::awaitable<Result<BackendState>> LoadBalancer::snapshot() {
  if (auto error = check_names(std::vector<std::string>())) co_return std::unexpected(*error);
  auto commands = one_command("show info");
  commands.push_back(fmt::format("show stat {} 4 -1", m_backend));
  commands.push_back(fmt::format("show servers state {}", m_backend));
  auto answers = co_await send(std::move(commands), Batch::reads);
  if (!answers) co_return std::unexpected(answers.error());
  note_identity((*answers)[0]);
  BackendState state;
  auto stats = parse_show_stat((*answers)[1], m_backend);
  if (!stats) co_return std::unexpected(in_context(stats.error()));
  auto admin = parse_servers_state((*answers)[2], m_backend);
  if (!admin) co_return std::unexpected(in_context(admin.error()));
  state.stats = std::move(*stats);
  state.admin = std::move(*admin);
  state.index();
  co_return state;
}

asio::awaitable<Result<BackendState>> LoadBalancer::admin_snapshot() {
  if (auto error = check_names(std::vector<std::string>())) co_return std::unexpected(*error);
  auto commands = one_command("show info");
  commands.push_back(fmt::format("show servers state {}", m_backend));
  auto answers = co_await send(std::move(commands), Batch::reads);
  if (!answers) co_return std::unexpected(answers.error());
  note_identity((*answers)[0]);
  auto admin = parse_servers_state((*answers)[1], m_backend);
  if (!admin) co_return std::unexpected(in_context(admin.error()));
  if (std::any_of(admin->begin(), admin->end(), [](const ServerAdmin& a) { return a.address.empty(); })) {
    co_return co_await snapshot();
  }
  BackendState state;
  state.admin = std::move(*admin);
  state.index();
  co_return state;
}

namespace {

// `show sess` lines of the stats socket's own sessions ("... fe=GLOBAL ...");
// 0 when the answer is an error.
std::size_t count_cli_sessions(std::string_view answer) {
  if (answer_error(answer)) return 0;
  std::size_t n = 0;
  for (auto at = answer.find(" fe=GLOBAL "); at != std::string_view::npos; at = answer.find(" fe=GLOBAL ", at + 1)) ++n;
  return n;
}

}  // namespace

asio::awaitable<Result<LoadBalancer::Abilities>> LoadBalancer::abilities() {
  if (auto error = check_names(std::vector<std::string>())) co_return std::unexpected(*error);
  std::vector<std::string> commands{std::string("show cli level"), fmt::format("show stat {} 2 -1", m_backend),
                                    std::string("show sess"), std::string("show info")};
  auto answers = co_await send(std::move(commands), Batch::reads);
  if (!answers) co_return std::unexpected(answers.error());
  Abilities abilities;
  if (auto error = answer_error((*answers)[0])) {
    co_return fail(ErrorKind::refused, fmt::format("{}: show cli level: {}", m_name, *error));
  }
  std::string level = answer_text((*answers)[0]);  // "[6]:admin" with severity-output number
  std::erase_if(level, [](char c) { return c == ' ' || c == '\r'; });
  abilities.cli_level = std::move(level);
  auto row = parse_backend_row((*answers)[1], m_backend);
  if (!row) co_return std::unexpected(in_context(row.error()));
  abilities.algo = std::move(row->algo);
  abilities.cookie_name = std::move(row->cookie);
  abilities.cli_sessions = count_cli_sessions((*answers)[2]);
  note_identity((*answers)[3]);
  abilities.version = m_version;
  auto dynamic = co_await dynamic_servers(abilities.algo);
  abilities.dynamic_servers = dynamic.takes;
  abilities.dynamic_servers_why = std::move(dynamic.why);
  co_await read_persistence(abilities);
  co_return abilities;
}

asio::awaitable<Result<Applied>> LoadBalancer::ensure_added(std::vector<NewServer> servers, ServerOptions options) {
  // The line each server gets in the persisted file, also for those already
  // there (a resumed cutover).
  for (const auto& server : servers) {
    m_line_options[server.name] =
        server.cookie.empty() ? options.text() : fmt::format("{} cookie {}", options.text(), server.cookie);
  }
  auto op = [this, servers, options]() { return ensure_added_once(servers, options); };
  co_return co_await retrying(op);
}

asio::awaitable<Result<Applied>> LoadBalancer::ensure_health_enabled(std::vector<std::string> names) {
  auto op = [this, names]() { return ensure_health_enabled_once(names); };
  co_return co_await retrying(op);
}

asio::awaitable<Result<Applied>> LoadBalancer::ensure_states(std::vector<std::pair<std::string, AdminTarget>> targets) {
  auto op = [this, targets]() { return ensure_states_once(targets); };
  co_return co_await retrying(op);
}

asio::awaitable<Result<Applied>> LoadBalancer::ensure_weight(std::vector<std::pair<std::string, unsigned>> weights) {
  auto op = [this, weights]() { return ensure_weight_once(weights); };
  co_return co_await retrying(op);
}

asio::awaitable<Result<Applied>> LoadBalancer::shutdown_sessions(std::vector<std::string> names) {
  auto op = [this, names]() { return shutdown_sessions_once(names); };
  co_return co_await retrying(op);
}

asio::awaitable<Result<Applied>> LoadBalancer::ensure_added_once(std::vector<NewServer> servers,
                                                                 ServerOptions options) {
  std::vector<std::string> names;
  for (const auto& server : servers) names.push_back(server.name);
  if (auto error = check_names(names)) co_return std::unexpected(*error);
  for (const auto& server : servers) {
    if (!parse_address(server.address)) {
      co_return std::unexpected(in_context(
          Error{ErrorKind::invalid, fmt::format("server {}: address is not HOST:PORT; nothing sent", server.name)}));
    }
    if (server.id == 0) {
      co_return std::unexpected(in_context(Error{ErrorKind::invalid, fmt::format("server {}: no id", server.name)}));
    }
    if (!server.cookie.empty() && !is_cookie_value(server.cookie)) {
      co_return std::unexpected(in_context(Error{
          ErrorKind::invalid,
          fmt::format("server {}: its cookie is not 1 to 64 of [A-Za-z0-9._-]; nothing sent", server.name)}));
    }
  }
  auto state = co_await admin_snapshot();
  if (!state) co_return std::unexpected(state.error());
  const bool cookies = std::any_of(servers.begin(), servers.end(), [](const NewServer& s) { return !s.cookie.empty(); });
  if (cookies && m_version.known() && !m_version.at_least(3, 0)) {
    co_return fail(ErrorKind::invalid, cookie_refusal(m_name, m_version));
  }
  std::unordered_map<std::uint64_t, std::string> id_owner;
  for (const auto& admin : state->admin) id_owner.emplace(admin.id, admin.name);
  std::vector<std::string> commands;
  for (const auto& server : servers) {
    if (state->admin_of(server.name)) {
      if (const auto address = state->address_of(server.name); address != server.address) {
        co_return fail(ErrorKind::conflict, fmt::format("{}: server {}/{} already exists with address {}, not {}",
                                                        m_name, m_backend, server.name, address, server.address));
      }
      continue;
    }
    if (const auto owner = id_owner.find(server.id); owner != id_owner.end()) {
      co_return fail(ErrorKind::conflict, fmt::format("{}: id {} is taken by server {}/{}", m_name, server.id,
                                                      m_backend, owner->second));
    }
    commands.push_back(add_server_command(m_backend, server.name, server.address, server.id, options, server.cookie));
  }
  co_return co_await apply(std::move(commands));
}

asio::awaitable<Result<Applied>> LoadBalancer::ensure_health_enabled_once(std::vector<std::string> names) {
  if (auto error = check_names(names)) co_return std::unexpected(*error);
  auto state = co_await snapshot();
  if (!state) co_return std::unexpected(state.error());
  std::vector<std::string> commands;
  for (const auto& name : names) {
    const auto* stat = state->stat(name);
    const auto* admin = state->admin_of(name);
    if (stat == nullptr || admin == nullptr) {
      co_return fail(ErrorKind::conflict, fmt::format("{}: no server {}/{}", m_name, m_backend, name));
    }
    if (!stat->check_status.empty()) continue;
    commands.push_back(enable_health_command(m_backend, name));
    // A server born `disabled` in the config file (a reload brought it back
    // from the persisted file) has its checks paused while in MAINT, unlike
    // one added at runtime. DRAIN lets them run and still sends it no new
    // traffic; `state ready` follows once its check passes.
    if ((admin->admin_state & k_admin_config_maint) != 0 && (admin->admin_state & k_admin_forced_maint) != 0) {
      commands.push_back(set_state_command(m_backend, name, AdminTarget::drain));
    }
  }
  co_return co_await apply(std::move(commands));
}

namespace {

bool state_holds(const ServerAdmin& admin, AdminTarget target) {
  switch (target) {
    case AdminTarget::ready:
      return (admin.admin_state & (k_admin_forced_maint | k_admin_forced_drain)) == 0;
    case AdminTarget::drain:
      return (admin.admin_state & k_admin_forced_drain) != 0 && (admin.admin_state & k_admin_forced_maint) == 0;
    case AdminTarget::maint:
      return (admin.admin_state & k_admin_forced_maint) != 0;
  }
  return false;
}

}  // namespace

asio::awaitable<Result<Applied>> LoadBalancer::ensure_state(std::vector<std::string> names,
                                                            AdminTarget target_state) {
  std::vector<std::pair<std::string, AdminTarget>> targets;
  for (auto& name : names) targets.emplace_back(std::move(name), target_state);
  co_return co_await ensure_states(std::move(targets));
}

asio::awaitable<Result<Applied>> LoadBalancer::ensure_states_once(
    std::vector<std::pair<std::string, AdminTarget>> targets) {
  std::vector<std::string> names;
  for (const auto& [name, target_state] : targets) names.push_back(name);
  if (auto error = check_names(names)) co_return std::unexpected(*error);
  auto state = co_await admin_snapshot();
  if (!state) co_return std::unexpected(state.error());
  std::vector<std::string> commands;
  for (const auto& [name, target_state] : targets) {
    const auto* admin = state->admin_of(name);
    if (admin == nullptr) co_return fail(ErrorKind::conflict, fmt::format("{}: no server {}/{}", m_name, m_backend, name));
    if (!state_holds(*admin, target_state)) {
      commands.push_back(set_state_command(m_backend, name, target_state));
    }
  }
  co_return co_await apply(std::move(commands));
}

asio::awaitable<Result<Applied>> LoadBalancer::ensure_weight_once(
    std::vector<std::pair<std::string, unsigned>> weights) {
  std::vector<std::string> names;
  for (const auto& [name, weight] : weights) {
    names.push_back(name);
    if (weight > 256) co_return fail(ErrorKind::invalid, fmt::format("{}: weight {} is over 256", m_name, weight));
  }
  if (auto error = check_names(names)) co_return std::unexpected(*error);
  auto state = co_await admin_snapshot();
  if (!state) co_return std::unexpected(state.error());
  std::vector<std::string> commands;
  for (const auto& [name, weight] : weights) {
    const auto* admin = state->admin_of(name);
    if (admin == nullptr) co_return fail(ErrorKind::conflict, fmt::format("{}: no server {}/{}", m_name, m_backend, name));
    if (admin->user_weight != weight) commands.push_back(set_weight_command(m_backend, name, weight));
  }
  co_return co_await apply(std::move(commands));
}

asio::awaitable<Result<Applied>> LoadBalancer::shutdown_sessions_once(std::vector<std::string> names) {
  if (auto error = check_names(names)) co_return std::unexpected(*error);
  auto stats = co_await this->stats();
  if (!stats) co_return std::unexpected(stats.error());
  std::vector<std::string> commands;
  const auto by_name = index_by_name(*stats);
  for (const auto& name : names) {
    const auto it = by_name.find(name);
    if (it != by_name.end() && it->second->scur + it->second->qcur > 0) {
      commands.push_back(shutdown_sessions_command(m_backend, name));
    }
  }
  co_return co_await apply(std::move(commands));
}

}  // namespace lbctl::pools
