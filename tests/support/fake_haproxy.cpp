#include "tests/support/fake_haproxy.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <sstream>
#include <stdexcept>

#include "pools/haproxy_cfg.hpp"
#include "pools/load_balancer.hpp"
#include "pools/reload_answers.hpp"

namespace lbctl::test {

namespace asio = boost::asio;

namespace {

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  std::string word;
  while (in >> word) out.push_back(word);
  return out;
}

}  // namespace

std::string FakeServerState::status() const {
  if (admin & 0x23) return "MAINT";
  if (admin & 0x18) return "DRAIN";
  if (!checks_enabled) return "no check";
  if (running) {
    if (check_status == "L7OKC") return "NOLB";
    if (health < rise + fall - 1) return fmt::format("UP {}/{}", health - rise + 1, fall);
    return "UP";
  }
  if (health > 0) return fmt::format("DOWN {}/{}", health, rise);
  return "DOWN";
}

void FakeHaproxy::add_runtime_server(const std::string& name, const std::string& address) {
  FakeServerState s;
  s.name = name;
  s.address = address;
  s.admin = 0x01;
  m_servers.push_back(s);
}

void FakeHaproxy::add_config_server(const std::string& name, const std::string& address, int inter_ms, int rise,
                                    int fall) {
  FakeServerState server;
  server.name = name;
  server.address = address;
  server.id = m_servers.size() + 1;
  server.has_check = true;
  server.checks_enabled = true;
  server.inter_ms = inter_ms;
  server.rise = rise;
  server.fall = fall;
  server.health = rise + fall - 1;
  server.running = true;
  server.check_status = "L7OK";
  server.next_check = m_clock.now() + std::chrono::milliseconds(inter_ms);
  m_servers.push_back(server);
  m_original.push_back(server);
}

void FakeHaproxy::reload_original() {
  ++m_pid;
  m_servers = m_original;
  for (auto& s : m_servers) {
    if (const auto app = m_app.find(s.name); app != m_app.end()) s.app = app->second;
    s.next_check = m_clock.now() + std::chrono::milliseconds(s.inter_ms);
  }
}

void FakeHaproxy::reload(std::string_view config_text) {
  auto backend = pools::find_backend(config_text, m_backend);
  if (!backend) throw std::runtime_error("fake reload: " + backend.error().message);
  ++m_pid;
  m_servers.clear();
  for (const auto& line : backend->servers) {
    FakeServerState s;
    s.name = line.name;
    s.address = line.address;
    s.id = line.id.value_or(m_servers.size() + 1);
    s.weight = line.weight.value_or(backend->default_weight);
    const auto w = words(line.text);
    for (std::size_t i = 3; i < w.size(); ++i) {
      auto next_int = [&] { return i + 1 < w.size() ? std::stoi(w[++i]) : 0; };
      if (w[i] == "check") s.has_check = true;
      else if (w[i] == "inter") s.inter_ms = next_int();
      else if (w[i] == "rise") s.rise = next_int();
      else if (w[i] == "fall") s.fall = next_int();
    }
    // Born in the config: UP until a check says otherwise; `disabled` puts
    // it in MAINT with its checks paused until it leaves MAINT.
    s.checks_enabled = s.has_check;
    s.running = true;
    s.health = s.rise + s.fall - 1;
    s.admin = line.disabled ? 0x05u : 0u;
    s.check_status = line.disabled || !s.has_check ? "" : "L7OK";
    if (const auto app = m_app.find(s.name); app != m_app.end()) s.app = app->second;
    s.next_check = m_clock.now() + std::chrono::milliseconds(s.inter_ms);
    m_servers.push_back(s);
  }
}

void FakeHaproxy::reload_map(const std::string& path, std::string_view file_text) {
  auto& entries = m_maps[path];
  entries.clear();
  std::istringstream in{std::string(file_text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.find(' ');
    entries[line.substr(0, space)] = space == std::string::npos ? "" : line.substr(space + 1);
  }
}

void FakeHaproxy::check_once(FakeServerState& s) {
  const bool pass = s.app != AppHealth::down;
  s.check_status = s.app == AppHealth::healthy ? "L7OK" : s.app == AppHealth::not_found ? "L7OKC" : "L4CON";
  const int top = s.rise + s.fall - 1;
  if (pass) {
    if (s.running) {
      s.health = top;
    } else if (++s.health >= s.rise) {
      s.running = true;
      s.health = top;
    }
  } else {
    if (!s.running) {
      s.health = 0;
    } else if (--s.health < s.rise) {
      s.running = false;
      s.health = 0;
    }
  }
}

void FakeHaproxy::run_checks() {
  const auto now = m_clock.now();
  for (auto& s : m_servers) {
    if (!s.checks_enabled) continue;
    // A server born `disabled` does not check while in MAINT (HAProxy 2.6).
    if ((s.admin & 0x04u) && (s.admin & 0x01u)) {
      s.next_check = now + std::chrono::milliseconds(s.inter_ms);
      continue;
    }
    while (s.next_check <= now) {
      check_once(s);
      s.next_check += std::chrono::milliseconds(s.inter_ms);
    }
  }
}

FakeServerState* FakeHaproxy::find(const std::string& target) {
  const auto slash = target.find('/');
  if (slash == std::string::npos || target.substr(0, slash) != m_backend) return nullptr;
  const auto name = target.substr(slash + 1);
  auto it = std::find_if(m_servers.begin(), m_servers.end(), [&](const FakeServerState& s) { return s.name == name; });
  return it == m_servers.end() ? nullptr : &*it;
}

std::map<std::string, std::string> FakeHaproxy::map_entries(const std::string& path) const {
  const auto it = m_maps.find(path);
  return it == m_maps.end() ? std::map<std::string, std::string>{} : it->second;
}

namespace {
// A dynamic cookie: 16 hex digits from the key and the address (HAProxy hashes them together).
std::string dynamic_cookie_of(const std::string& key, const std::string& address) {
  return fmt::format("{:016x}", std::hash<std::string>{}(key + "/" + address) & 0xffffffffffffffffULL);
}
}  // namespace

std::string FakeHaproxy::execute_map(const std::string& command) {
  const auto newline = command.find('\n');
  const auto w = words(command.substr(0, newline));
  if (w.size() == 2) {  // show map
    std::string out = "# id (file) description\n";
    int id = 0;
    for (const auto& [path, entries] : m_maps) {
      out += fmt::format("{} ({}) pattern loaded from file '{}' used by map. entry_cnt={}\n", id++, path, path,
                         entries.size());
    }
    return out;
  }
  const auto map = m_maps.find(w[2]);
  if (map == m_maps.end()) return "[3]: Unknown map identifier. Please use #<id> or <file>.\n";
  if (w[0] == "show") {
    std::string out;
    for (const auto& [key, value] : map->second) out += fmt::format("0x1 {} {}\n", key, value);
    return out;
  }
  if (w[0] == "add" && newline != std::string::npos && w.size() == 4 && w[3] == "<<") {
    std::istringstream payload(command.substr(newline + 1));
    std::string line;
    while (std::getline(payload, line)) {
      const auto space = line.find(' ');
      map->second[line.substr(0, space)] = space == std::string::npos ? "" : line.substr(space + 1);
    }
    return "";
  }
  if (w[0] == "del" && w.size() == 4) {
    if (map->second.erase(w[3]) == 0) return "[3]: Key not found.\n";
    return "";
  }
  return "[3]: Unknown command: '" + command + "'\n";
}

std::string FakeHaproxy::execute(const std::string& command) {
  const auto w = words(command.substr(0, command.find('\n')));
  if (!m_delete_before_change.empty() && w.size() >= 2 && (w[0] == "set" || w[0] == "del") && w[1] == "server") {
    const std::string gone = std::exchange(m_delete_before_change, std::string());
    std::erase_if(m_servers, [&](const auto& s) { return s.name == gone; });
  }
  if (w.size() == 2 && w[0] == "show" && w[1] == "info") {
    return fmt::format("Name: HAProxy\nVersion: {}\nPid: {}\nStart_time_sec: {}\n", m_version, m_pid,
                       1800000000 + m_pid);
  }
  if (w.size() >= 2 && w[1] == "map" && (w[0] == "show" || w[0] == "add" || w[0] == "del")) return execute_map(command);
  if (w.size() == 3 && w[0] == "show" && w[1] == "cli" && w[2] == "level") return m_cli_level + "\n";
  if (w.size() >= 2 && w[0] == "show" && w[1] == "stat") {
    if (w.size() < 3 || w[2] != m_backend) return "[3]: No such proxy.\n";
    if (w.size() >= 4 && w[3] == "2") {
      return fmt::format(
          "# pxname,svname,qcur,qmax,scur,smax,slim,stot,status,type,cookie,algo,\n{},BACKEND,0,0,0,0,,0,UP,1,{},{},\n",
          m_backend, m_cookie_name, m_algo);
    }
    std::string out =
        "# pxname,svname,qcur,qmax,scur,smax,slim,stot,status,weight,check_status,hrsp_1xx,hrsp_2xx,hrsp_3xx,"
        "hrsp_4xx,hrsp_5xx,hrsp_other,type,sid,addr,srv_icur,bck,eresp,econ,rtime,lastsess,cookie,\n";
    for (const auto& s : m_servers) {
      const auto lastsess =
          s.last_session ? std::chrono::duration_cast<std::chrono::seconds>(m_clock.now() - *s.last_session).count() : -1;
      out += fmt::format("{},{},{},0,{},0,,{},{},{},{},0,{},0,0,{},0,2,{},{},0,{},{},{},{},{},{},\n", m_backend, s.name,
                         s.qcur, s.scur, s.stot, s.status(), (s.admin & 0x18) ? 0 : s.weight, s.check_status,
                         s.responses - s.hrsp_5xx, s.hrsp_5xx, s.id, s.address, s.backup ? 1 : 0, s.eresp, s.econ,
                         s.rtime, lastsess, s.cookie);
    }
    return out;
  }
  if (w.size() >= 3 && w[0] == "show" && w[1] == "servers" && w[2] == "state") {
    if (w.size() < 4 || w[3] != m_backend) return "[3]: Can't find backend.\n";
    std::string out =
        "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_port\n";
    for (const auto& s : m_servers) {
      // HAProxy's columns: the host ("::1", no brackets; "-" when none) and the port apart.
      const auto colon = s.address.rfind(':');
      std::string host = colon == std::string::npos ? "-" : s.address.substr(0, colon);  // a UNIX socket: "-"
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
      const std::string port = colon == std::string::npos ? "0" : s.address.substr(colon + 1);
      out += fmt::format("3 {} {} {} {} {} {} {} 1 {}\n", m_backend, s.id, s.name, host.empty() ? "-" : host,
                         s.running ? 2 : 0, s.admin, s.weight, port);
    }
    return out;
  }
  if (w.size() >= 3 && w[0] == "add" && w[1] == "server") {
    if (command.find_first_of(";\\") != std::string::npos) return "[3]: hostile input reached the fake\n";
    const auto slash = w[2].find('/');
    if (slash == std::string::npos || w[2].substr(0, slash) != m_backend) return "[3]: No such backend.\n";
    if (find(w[2])) return "[3]: Already exists a server with the same name in backend.\n";
    if (m_algo == "static-rr" || (pools::LoadBalancer::is_hash_algorithm(m_algo) && m_hash_type != "consistent")) {
      return "[3]: Backend must use a dynamic load balancing to support dynamic servers.\n";
    }
    if (w.size() < 4) return "[3]: 'server' expects <name> and <addr>[:<port>] as arguments.\n";
    FakeServerState s;
    s.name = w[2].substr(slash + 1);
    s.address = w[3];
    s.admin = 0x01;
    for (std::size_t i = 4; i < w.size(); ++i) {
      auto next_int = [&] { return i + 1 < w.size() ? std::stoi(w[++i]) : 0; };
      if (w[i] == "check") s.has_check = true;
      else if (w[i] == "inter") s.inter_ms = next_int();
      else if (w[i] == "rise") s.rise = next_int();
      else if (w[i] == "fall") s.fall = next_int();
      else if (w[i] == "weight") s.weight = static_cast<unsigned>(next_int());
      else if (w[i] == "cookie") {
        if (!pools::parse_version("Version: " + m_version).at_least(3, 0)) return "[3]: 'cookie' option is not accepted for dynamic server\n";
        if (i + 1 < w.size()) s.cookie = w[++i];
      }
      else if (w[i] == "id") {
        s.id = static_cast<std::uint64_t>(next_int());
        for (const auto& other : m_servers) {
          if (other.id == s.id) return fmt::format("[3]: 'id' : custom id {} already used\n", s.id);
        }
      }
    }
    if (s.cookie.empty() && m_dynamic_cookie_key && !m_cookie_name.empty() &&
        pools::parse_version("Version: " + m_version).at_least(3, 0)) {
      s.cookie = dynamic_cookie_of(m_cookie_key, s.address);
    }
    m_servers.push_back(s);
    return "New server registered.\n";
  }
  if (w.size() == 4 && w[0] == "enable" && w[1] == "dynamic-cookie" && w[2] == "backend") {
    if (w[3] != m_backend) return "[3]: No such backend.\n";
    for (auto& s : m_servers) {
      if (s.cookie.empty() && m_dynamic_cookie_key) s.cookie = dynamic_cookie_of(m_cookie_key, s.address);
    }
    return "";
  }
  if (w.size() == 2 && w[0] == "show" && w[1] == "table") {
    if (!m_stick_table) return "";
    std::uint64_t used = 0;
    for (const auto& [id, count] : m_stick_entries) used += count;
    return fmt::format("# table: {}, type: ip, size:1024, used:{}\n", m_backend, used);
  }
  if (w.size() == 3 && w[0] == "show" && w[1] == "table") {
    if (!m_stick_table || w[2] != m_backend) return "No such table\n";
    std::uint64_t used = 0;
    for (const auto& [id, count] : m_stick_entries) used += count;
    std::string out = fmt::format("# table: {}, type: ip, size:1024, used:{}\n", m_backend, used);
    std::uint64_t key = 1;
    for (const auto& [id, count] : m_stick_entries) {
      for (std::uint64_t n = 0; n < count; ++n, ++key) {
        out += fmt::format("0x{:x}: key=10.0.0.{} use=0 exp=29000 shard=0 server_id={} server_key=s{}\n", key, key, id, id);
      }
    }
    return out;
  }
  if (w.size() == 3 && w[0] == "enable" && w[1] == "health") {
    auto* s = find(w[2]);
    if (!s) return "[3]: No such server.\n";
    if (!s->has_check) return "[3]: Health checks are not configured on this server, cannot enable.\n";
    if ((s->admin & 0x05u) == 0x05u) return "";  // born `disabled`: its checks stay paused in MAINT
    if (!s->checks_enabled) {
      s->checks_enabled = true;
      s->check_status = "INI";
      s->next_check = m_clock.now() + std::chrono::milliseconds(s->inter_ms);
    }
    return "";
  }
  if (w.size() == 5 && w[0] == "set" && w[1] == "server" && w[3] == "state") {
    auto* s = find(w[2]);
    if (!s) return "[3]: No such server.\n";
    if (w[4] == "ready") s->admin &= ~0x19u;
    else if (w[4] == "drain") s->admin = (s->admin & ~0x01u) | 0x08u;
    else if (w[4] == "maint") s->admin |= 0x01u;
    else return "[3]: 'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n";
    return "";
  }
  if (w.size() == 4 && w[0] == "set" && w[1] == "weight") {
    auto* s = find(w[2]);
    if (!s) return "[3]: No such server.\n";
    s->weight = static_cast<unsigned>(std::stoi(w[3]));
    return "";
  }
  if (w.size() == 4 && w[0] == "shutdown" && w[1] == "sessions" && w[2] == "server") {
    auto* s = find(w[3]);
    if (!s) return "[3]: No such server.\n";
    s->scur = 0;
    s->qcur = 0;
    return "";
  }
  if (w.size() == 3 && w[0] == "del" && w[1] == "server") {
    auto* s = find(w[2]);
    if (!s) return "[3]: No such server.\n";
    if (!(s->admin & 0x01)) return "[3]: Only servers in maintenance mode can be deleted.\n";
    if (s->scur + s->qcur > 0) return "[3]: Server still has connections attached to it, cannot remove it.\n";
    const std::string name = s->name;
    std::erase_if(m_servers, [&](const FakeServerState& x) { return x.name == name; });
    return "Server deleted.\n";
  }
  return "[3]: Unknown command: '" + command + "'\n";
}

asio::awaitable<Result<std::vector<std::string>>> FakeHaproxy::run(std::vector<std::string> commands) {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  if (m_answer_delay.count() > 0) co_await m_clock.sleep_for(m_answer_delay);
  if (!m_reachable) co_return fail(ErrorKind::unreachable, describe() + ": cannot connect: Connection refused");
  ++m_connections;
  run_checks();
  std::vector<std::string> answers;
  for (const auto& command : commands) {
    m_log.push_back(command);
    if (!m_garbage.empty()) {
      answers.push_back(m_garbage);
      continue;
    }
    answers.push_back(execute(command));
  }
  m_garbage.clear();
  co_return answers;
}

void FakeHaproxy::set_app(const std::string& server, AppHealth health) {
  m_app[server] = health;
  if (auto* s = find(m_backend + "/" + server)) s->app = health;
}

void FakeHaproxy::set_backup(const std::string& server) {
  for (auto* list : {&m_servers, &m_original}) {
    for (auto& s : *list) {
      if (s.name == server) s.backup = true;
    }
  }
}

void FakeHaproxy::touch(const std::string& server) {
  if (auto* s = find(m_backend + "/" + server)) {
    ++s->stot;
    s->last_session = m_clock.now();
  }
}

void FakeHaproxy::set_stick_entries(const std::string& server, std::uint64_t entries) {
  m_stick_table = true;
  if (auto* s = find(m_backend + "/" + server)) m_stick_entries[s->id] = entries;
}

void FakeHaproxy::set_sessions(const std::string& server, std::uint64_t scur) {
  if (auto* s = find(m_backend + "/" + server)) s->scur = scur;
}

void FakeHaproxy::set_check_inter(const std::string& server, int inter_ms) {
  if (auto* s = find(m_backend + "/" + server)) {
    s->inter_ms = inter_ms;
    s->next_check = m_clock.now() + std::chrono::milliseconds(inter_ms);
  }
}

void FakeHaproxy::add_responses(const std::string& server, std::uint64_t total, std::uint64_t errors_5xx) {
  if (auto* s = find(m_backend + "/" + server)) {
    s->responses += total;
    s->hrsp_5xx += errors_5xx;
  }
}

void FakeHaproxy::add_failures(const std::string& server, std::uint64_t eresp, std::uint64_t econ) {
  if (auto* s = find(m_backend + "/" + server)) {
    s->eresp += eresp;
    s->econ += econ;
  }
}

void FakeHaproxy::set_rtime(const std::string& server, std::uint64_t ms) {
  if (auto* s = find(m_backend + "/" + server)) s->rtime = ms;
}

std::vector<std::string> FakeHaproxy::mutations() const {
  std::vector<std::string> out;
  for (const auto& c : m_log) {
    if (!c.starts_with("show ")) out.push_back(c);
  }
  return out;
}

const FakeServerState* FakeHaproxy::server(const std::string& name) {
  run_checks();
  return find(m_backend + "/" + name);
}

std::vector<std::string> FakeHaproxy::server_names() {
  std::vector<std::string> names;
  for (const auto& s : m_servers) names.push_back(s.name);
  return names;
}

std::string FakeHaproxy::status(const std::string& name) {
  const auto* s = server(name);
  return s ? s->status() : "";
}

}  // namespace lbctl::test
