#include "tests/support/fake_journal.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/names.hpp"

namespace lbctl::test {

using db::Cutover;
using db::CutoverStatus;

namespace {

std::unexpected<Error> no_cutover(std::int64_t id) {
  return fail(ErrorKind::invalid, "no cutover " + std::to_string(id));
}

}  // namespace

db::JournalTime FakeJournal::now() const {
  if (m_clock) return m_clock->wall_now();
  // 2026-11-21 10:00:00 UTC, one second later at each use: times still order.
  return db::JournalTime{std::chrono::seconds(1'795'255'200 + m_ticks++)};
}

std::optional<Error> FakeJournal::injected(const std::string& method) {
  if (m_down) {
    return Error{ErrorKind::unreachable, "state database: lost the connection to the database: server closed the connection"};
  }
  auto it = m_failures.find(method);
  if (it == m_failures.end() || it->second.empty()) return std::nullopt;
  Error e = it->second.front();
  it->second.pop_front();
  return e;
}

Cutover FakeJournal::read(const Cutover& stored) const {
  Cutover c = stored;
  if (c.status == CutoverStatus::running && !m_locked.contains(c.service)) c.status = CutoverStatus::interrupted;
  return c;
}

Cutover* FakeJournal::active(const std::string& service) {
  for (auto it = m_rows.rbegin(); it != m_rows.rend(); ++it) {
    auto& c = it->second;
    if (c.service == service && (c.status == CutoverStatus::running || c.status == CutoverStatus::needs_operator)) {
      return &c;
    }
  }
  return nullptr;
}

std::optional<Error> FakeJournal::fenced(std::int64_t cutover_id) const {
  if (m_owned != cutover_id) return std::nullopt;
  const auto it = m_rows.find(cutover_id);
  if (it == m_rows.end() || it->second.owner_token == m_token) return std::nullopt;
  return Error{ErrorKind::conflict, "cutover " + std::to_string(cutover_id) +
                                        " was taken over by another lbctl (its owner token changed): this lbctl no "
                                        "longer owns it and must stop"};
}

Result<std::chrono::milliseconds> FakeJournal::lease_left(const std::string& service) {
  calls.push_back("lease_left " + service);
  if (auto e = injected("lease_left")) return std::unexpected(*e);
  const Cutover* c = active(service);
  if (!m_clock || !c || c->status != CutoverStatus::running || c->owner_token.empty()) return std::chrono::milliseconds(0);
  const auto left = c->heartbeat_at + m_lease - m_clock->wall_now();
  return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(left));
}

Result<void> FakeJournal::take_lock(const std::string& service) {
  if (m_held) return fail(ErrorKind::invalid, "this lbctl already holds the lock of service " + *m_held);
  if (m_locked.contains(service)) {
    if (const Cutover* holder = active(service)) return std::unexpected(db::lock_held_error(*holder));
    return fail(ErrorKind::conflict,
                "service " + service + " is locked by another session, which has not recorded its cutover yet");
  }
  m_locked.insert(service);
  m_held = service;
  m_lose_lock = false;
  return {};
}

Result<Cutover> FakeJournal::begin(const db::NewCutover& cutover) {
  calls.push_back("begin " + cutover.service);
  if (auto e = injected("begin")) return std::unexpected(*e);
  if (!is_valid_name(cutover.service)) return fail(ErrorKind::invalid, "bad service name '" + cutover.service + "'");
  if (!nlohmann::json::accept(cutover.config_json)) {
    return fail(ErrorKind::invalid, "the config snapshot is not valid JSON");
  }
  if (auto locked = take_lock(cutover.service); !locked) return std::unexpected(locked.error());
  if (const Cutover* unfinished = active(cutover.service)) {
    const Error e = db::unfinished_cutover_error(*unfinished);
    release();
    calls.pop_back();  // the release above is part of the refusal, not the caller's
    return std::unexpected(e);
  }
  if (auto refused = take_request(cutover, m_next_id)) {
    release();
    calls.pop_back();
    return std::unexpected(*refused);
  }
  Cutover c;
  c.id = m_next_id++;
  c.service = cutover.service;
  c.status = CutoverStatus::running;
  c.step = cutover.step;
  c.mode = cutover.mode;
  c.config_json = cutover.config_json;
  c.host = cutover.host;
  c.pid = cutover.pid;
  c.started_at = c.step_started_at = c.heartbeat_at = now();
  c.version = 1;
  c.owner_token = m_token = new_token();
  m_owned = c.id;
  c.release = cutover.release.empty() ? "r" + std::to_string(c.id) : cutover.release;
  for (const auto& [id, row] : m_rows) {  // ordered by id: the last completed one wins
    if (row.service == cutover.service && row.status == CutoverStatus::completed) c.old_release = row.release;
  }
  m_rows[c.id] = c;
  return read(c);
}

Result<Cutover> FakeJournal::adopt(const std::string& service, const std::string& host, int pid) {
  calls.push_back("adopt " + service);
  if (auto e = injected("adopt")) return std::unexpected(*e);
  if (auto locked = take_lock(service); !locked) return std::unexpected(locked.error());
  Cutover* c = active(service);
  if (!c) {
    release();
    calls.pop_back();
    return fail(ErrorKind::invalid, "service " + service + " has no interrupted cutover to resume or abort");
  }
  if (m_clock && c->status == CutoverStatus::running && !c->owner_token.empty() &&
      m_clock->wall_now() - c->heartbeat_at < m_lease) {
    const Error e = db::lease_not_run_out(*c, m_lease);
    release();
    calls.pop_back();
    return std::unexpected(e);
  }
  c->host = host;
  c->pid = pid;
  c->heartbeat_at = now();
  c->owner_token = m_token = new_token();
  m_owned = c->id;
  ++c->version;
  return read(*c);
}

Result<void> FakeJournal::save(Cutover& cutover) {
  calls.push_back("save " + std::to_string(cutover.id) + " v" + std::to_string(cutover.version) + " " +
                  std::string(db::to_string(cutover.status)) + " " + cutover.step);
  if (auto e = injected("save")) return std::unexpected(*e);
  if (cutover.status == CutoverStatus::interrupted) {
    return fail(ErrorKind::invalid, "interrupted is derived, never stored: save running, or where it ended");
  }
  if (!nlohmann::json::accept(cutover.progress_json)) return fail(ErrorKind::invalid, "the progress is not valid JSON");
  if (!cutover.lb_snapshot_json.empty() && !nlohmann::json::accept(cutover.lb_snapshot_json)) {
    return fail(ErrorKind::invalid, "the LB snapshot is not valid JSON");
  }
  auto it = m_rows.find(cutover.id);
  if (it == m_rows.end()) return no_cutover(cutover.id);
  Cutover& stored = it->second;
  if (auto taken = fenced(cutover.id)) return std::unexpected(*taken);
  if (stored.version != cutover.version) {
    return fail(ErrorKind::conflict, "cutover " + std::to_string(cutover.id) +
                                         " was changed by another writer (version " + std::to_string(stored.version) +
                                         ", this one had " + std::to_string(cutover.version) + "; owner now host " +
                                         stored.host + ", pid " + std::to_string(stored.pid) +
                                         "): this lbctl no longer owns it and must stop");
  }
  const auto t = now();
  if (stored.step != cutover.step) stored.step_started_at = t;
  stored.status = cutover.status;
  stored.step = cutover.step;
  stored.progress_json = cutover.progress_json;
  stored.lb_snapshot_json = cutover.lb_snapshot_json;
  stored.error = cutover.error;
  stored.heartbeat_at = t;
  if (db::is_finished(stored.status)) {
    if (!stored.finished_at) stored.finished_at = t;
  } else {
    stored.finished_at.reset();
  }
  ++stored.version;
  cutover = read(stored);
  return {};
}

Result<void> FakeJournal::heartbeat(std::int64_t cutover_id) {
  calls.push_back("heartbeat " + std::to_string(cutover_id));
  if (auto e = injected("heartbeat")) return std::unexpected(*e);
  if (m_stall_heartbeats) return fail(ErrorKind::refused, "heartbeat: canceling statement due to statement timeout");
  if (!m_held) return fail(ErrorKind::invalid, "heartbeat without holding a service lock");
  if (m_lose_lock) {
    const std::string service = *m_held;
    m_locked.erase(service);
    m_held.reset();
    m_lose_lock = false;
    return fail(ErrorKind::conflict, "lost the lock of service " + service +
                                         " (its database connection broke): another lbctl may take over; stopping");
  }
  auto it = m_rows.find(cutover_id);
  if (it == m_rows.end()) return no_cutover(cutover_id);
  if (auto taken = fenced(cutover_id)) return std::unexpected(*taken);
  it->second.heartbeat_at = now();
  return {};
}

Result<Cutover> FakeJournal::reacquire(std::int64_t cutover_id, std::int64_t version, const std::string& host,
                                       int pid) {
  calls.push_back("reacquire " + std::to_string(cutover_id) + " v" + std::to_string(version));
  if (auto e = injected("reacquire")) return std::unexpected(*e);
  auto it = m_rows.find(cutover_id);
  if (it == m_rows.end()) return no_cutover(cutover_id);
  const std::string service = it->second.service;
  const Cutover& stored = it->second;
  const bool ours = m_owned == cutover_id && stored.owner_token == m_token && stored.host == host && stored.pid == pid;
  if (!ours || stored.status != CutoverStatus::running || stored.version < version || stored.version > version + 1) {
    release();
    return fail(ErrorKind::conflict, "cutover " + std::to_string(cutover_id) +
                                         " changed while the state database was out of reach: this lbctl no "
                                         "longer owns it and must stop");
  }
  if (m_held != service) {
    m_held.reset();
    if (auto locked = take_lock(service); !locked) {
      if (locked.error().kind != ErrorKind::conflict) return std::unexpected(locked.error());
      return fail(ErrorKind::unreachable, "the service lock is still held (" + locked.error().message + ")");
    }
  }
  it->second.heartbeat_at = now();
  return read(stored);
}

Result<void> FakeJournal::save_server(std::int64_t cutover_id, const db::ServerRecord& server) {
  calls.push_back("server " + std::to_string(cutover_id) + " " + std::string(db::to_string(server.pool)) + " " +
                  server.name + " " + server.state);
  if (auto e = injected("save_server")) return std::unexpected(*e);
  if (!is_valid_name(server.name)) return fail(ErrorKind::invalid, "bad server name '" + server.name + "'");
  if (!m_rows.contains(cutover_id)) return no_cutover(cutover_id);
  if (auto taken = fenced(cutover_id)) return std::unexpected(*taken);
  db::ServerRecord stored = server;
  stored.updated_at = now();
  m_servers[cutover_id][server.name] = stored;
  return {};
}

Result<void> FakeJournal::save_servers(std::int64_t cutover_id, const std::vector<db::ServerRecord>& servers) {
  for (const auto& server : servers) {
    if (auto saved = save_server(cutover_id, server); !saved) return saved;
  }
  return {};
}

Result<std::vector<db::ServerRecord>> FakeJournal::servers(std::int64_t cutover_id) {
  calls.push_back("servers " + std::to_string(cutover_id));
  if (auto e = injected("servers")) return std::unexpected(*e);
  std::vector<db::ServerRecord> out;
  for (const auto& [name, server] : m_servers[cutover_id]) out.push_back(server);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.pool == db::Pool::old_pool && b.pool == db::Pool::new_pool;
  });
  return out;
}

Result<std::int64_t> FakeJournal::add_event(std::int64_t cutover_id, std::string_view step, std::string_view kind,
                                            std::string_view detail_json) {
  calls.push_back("event " + std::to_string(cutover_id) + " " + std::string(step) + " " + std::string(kind));
  if (auto e = injected("add_event")) return std::unexpected(*e);
  if (!nlohmann::json::accept(detail_json)) return fail(ErrorKind::invalid, "the event's detail is not valid JSON");
  if (!m_rows.contains(cutover_id)) return no_cutover(cutover_id);
  if (auto taken = fenced(cutover_id)) return std::unexpected(*taken);
  m_events.push_back({m_next_event, cutover_id, now(), std::string(step), std::string(kind), std::string(detail_json)});
  return m_next_event++;
}

std::vector<db::Event> FakeJournal::all_events(std::int64_t cutover_id) const {
  std::vector<db::Event> out;
  for (const auto& e : m_events) {
    if (e.cutover_id == cutover_id) out.push_back(e);
  }
  return out;
}

Result<std::vector<db::Event>> FakeJournal::events(std::int64_t cutover_id, std::int64_t after_id, std::size_t limit) {
  calls.push_back("events " + std::to_string(cutover_id) + " after " + std::to_string(after_id));
  if (auto e = injected("events")) return std::unexpected(*e);
  std::vector<db::Event> out;
  for (const auto& e : all_events(cutover_id)) {
    if (e.id > after_id && out.size() < limit) out.push_back(e);
  }
  return out;
}

Result<std::vector<db::Event>> FakeJournal::recent_events(std::int64_t cutover_id, std::size_t limit) {
  calls.push_back("recent_events " + std::to_string(cutover_id));
  if (auto e = injected("recent_events")) return std::unexpected(*e);
  auto all = all_events(cutover_id);
  if (all.size() > limit) all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(limit));
  return all;
}

Result<void> FakeJournal::lock_service(const std::string& service, const std::string&, int) {
  calls.push_back("lock_service " + service);
  if (auto e = injected("lock_service")) return std::unexpected(*e);
  if (auto locked = take_lock(service); !locked) return std::unexpected(locked.error());
  if (const Cutover* unfinished = active(service)) {
    const Error e = db::unfinished_cutover_error(*unfinished);
    release();
    calls.pop_back();
    return std::unexpected(e);
  }
  return {};
}

Result<void> FakeJournal::save_lb_records(const std::string& service, const std::vector<db::LbRecord>& records) {
  std::string names;
  for (const auto& r : records) names += (names.empty() ? "" : ",") + r.lb;
  calls.push_back("records " + service + " " + names);
  if (auto e = injected("records")) return std::unexpected(*e);
  for (const auto& r : records) {
    if (!nlohmann::json::accept(r.state_json)) return fail(ErrorKind::invalid, "the record of " + r.lb + " is not valid JSON");
  }
  for (auto r : records) {
    r.updated_at = now();
    m_lb_records[service][r.lb] = r;
  }
  return {};
}

Result<std::vector<db::LbRecord>> FakeJournal::lb_records(const std::string& service) {
  calls.push_back("lb_records " + service);
  if (auto e = injected("lb_records")) return std::unexpected(*e);
  std::vector<db::LbRecord> out;
  for (const auto& [lb, record] : m_lb_records[service]) out.push_back(record);
  return out;
}

void FakeJournal::release() {
  calls.push_back("release");
  // A cutover left running is given up: no lease to wait for.
  if (const auto it = m_rows.find(m_owned); it != m_rows.end() && it->second.owner_token == m_token && !m_down) {
    it->second.owner_token.clear();
  }
  m_owned = 0;
  m_token.clear();
  if (!m_held) return;
  m_locked.erase(*m_held);
  m_held.reset();
}

Result<std::optional<Cutover>> FakeJournal::latest(const std::string& service) {
  calls.push_back("latest " + service);
  if (auto e = injected("latest")) return std::unexpected(*e);
  for (auto it = m_rows.rbegin(); it != m_rows.rend(); ++it) {
    if (it->second.service == service) return std::optional<Cutover>(read(it->second));
  }
  return std::optional<Cutover>();
}

Result<Cutover> FakeJournal::get(std::int64_t cutover_id) {
  calls.push_back("get " + std::to_string(cutover_id));
  if (auto e = injected("get")) return std::unexpected(*e);
  auto it = m_rows.find(cutover_id);
  if (it == m_rows.end()) return no_cutover(cutover_id);
  return read(it->second);
}

Result<std::vector<Cutover>> FakeJournal::history(const std::string& service, std::size_t limit) {
  calls.push_back("history " + service);
  if (auto e = injected("history")) return std::unexpected(*e);
  std::vector<Cutover> out;
  for (auto it = m_rows.rbegin(); it != m_rows.rend() && out.size() < limit; ++it) {
    if (it->second.service == service) out.push_back(read(it->second));
  }
  return out;
}

Result<std::map<std::string, std::int64_t>> FakeJournal::outcome_counts(const std::string& service) {
  calls.push_back("outcome_counts " + service);
  if (auto e = injected("outcome_counts")) return std::unexpected(*e);
  std::map<std::string, std::int64_t> out;
  for (const auto& [id, row] : m_rows) {
    if (row.service == service) ++out[std::string(db::to_string(read(row).status))];
  }
  return out;
}

std::vector<std::string> FakeJournal::calls_starting(std::string_view prefix) const {
  std::vector<std::string> out;
  for (const auto& c : calls) {
    if (c.starts_with(prefix)) out.push_back(c);
  }
  return out;
}

std::int64_t FakeJournal::seed(Cutover row) {
  if (row.id == 0) row.id = m_next_id;
  m_next_id = std::max(m_next_id, row.id + 1);
  // Interrupted is how a running row without its lock reads.
  if (row.status == CutoverStatus::interrupted) row.status = CutoverStatus::running;
  if (row.version == 0) row.version = 1;
  if (row.started_at == db::JournalTime{}) row.started_at = row.step_started_at = row.heartbeat_at = now();
  m_rows[row.id] = row;
  return row.id;
}

void FakeJournal::hold_lock(const std::string& service) { m_locked.insert(service); }

void FakeJournal::other_died(const std::string& service) {
  if (m_held != service) m_locked.erase(service);
}

void FakeJournal::owner_died() {
  m_owned = 0;  // the next process adopts with a token of its own
  m_token.clear();
  if (!m_held) return;
  m_locked.erase(*m_held);
  m_held.reset();
}

void FakeJournal::lose_lock() { m_lose_lock = true; }

void FakeJournal::go_down() {
  m_down = true;
  if (m_held) m_locked.erase(*m_held);
  m_held.reset();
}

void FakeJournal::come_back() { m_down = false; }

void FakeJournal::other_writer(std::int64_t cutover_id) {
  auto it = m_rows.find(cutover_id);
  if (it != m_rows.end()) ++it->second.version;
}

void FakeJournal::taken_over(std::int64_t cutover_id) {
  auto it = m_rows.find(cutover_id);
  if (it == m_rows.end()) return;
  it->second.owner_token = new_token();
  ++it->second.version;
}

void FakeJournal::fail_next(const std::string& method, Error error) { m_failures[method].push_back(std::move(error)); }

}  // namespace lbctl::test
