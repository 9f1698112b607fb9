#pragma once
// An in-memory HAProxy behind the RuntimeApi interface: it keeps a backend's
// servers, answers the runtime API commands lbctl uses the way HAProxy 2.6
// does (or 3.0, set_version: `cookie` on `add server`), runs health checks on the manual clock (rise/fall, disable-on-404),
// and records every command it was sent.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "pools/runtime_api.hpp"

namespace lbctl::test {

enum class AppHealth { healthy, not_found, down };

struct FakeServerState {
  std::string name;
  std::string address;
  std::uint64_t id = 0;
  unsigned admin = 0;  // HAProxy admin flags (0x01 forced maint, 0x08 forced drain)
  bool has_check = false;
  bool checks_enabled = false;
  int inter_ms = 2000;
  int rise = 2;
  int fall = 3;
  int health = 0;  // 0 .. rise+fall-1, as HAProxy counts
  bool running = false;
  std::string check_status;
  AppHealth app = AppHealth::healthy;
  Clock::TimePoint next_check{};
  unsigned weight = 1;
  std::uint64_t scur = 0;
  std::uint64_t qcur = 0;
  std::uint64_t hrsp_5xx = 0;
  std::uint64_t responses = 0;
  std::uint64_t eresp = 0;
  std::uint64_t econ = 0;
  std::uint64_t rtime = 0;
  bool backup = false;  // `backup` in haproxy.cfg (bck 1)
  std::string cookie;   // its persistence cookie (`cookie X`), "" without
  std::uint64_t stot = 0;
  std::optional<Clock::TimePoint> last_session;  // lastsess counts from it; none: -1

  std::string status() const;
};

class FakeHaproxy final : public pools::RuntimeApi {
 public:
  FakeHaproxy(std::string backend, Clock& clock) : m_backend(std::move(backend)), m_clock(clock) {}

  // A server from haproxy.cfg: checks running, UP.
  void add_config_server(const std::string& name, const std::string& address, int inter_ms = 1000, int rise = 2,
                         int fall = 2);

  // A server as `add server NAME ADDRESS` leaves it: MAINT, no check.
  void add_runtime_server(const std::string& name, const std::string& address);

  boost::asio::awaitable<Result<std::vector<std::string>>> run(std::vector<std::string> commands) override;
  std::string describe() const override { return "fake:" + m_backend; }

  // Test controls.
  void set_reachable(bool reachable) { m_reachable = reachable; }
  // Every exchange takes this long (on the clock) before it is answered.
  void set_answer_delay(std::chrono::milliseconds delay) { m_answer_delay = delay; }
  void set_app(const std::string& server, AppHealth health);
  void set_sessions(const std::string& server, std::uint64_t scur);
  // `show cli level` ("admin" by default) and the backend's balance algorithm.
  void set_cli_level(std::string level) { m_cli_level = std::move(level); }
  void set_algo(std::string algo) { m_algo = std::move(algo); }
  // `hash-type`'s method ("map-based" by default, as HAProxy's): with a hash
  // algorithm and anything but "consistent", `add server` is refused as
  // HAProxy refuses it (and with static-rr always).
  void set_hash_type(std::string method) { m_hash_type = std::move(method); }
  // `show info`'s Version ("2.6.12" by default). From "3.0" on, `add server`
  // takes `cookie X`; before, it answers as 2.6 does.
  void set_version(std::string version) { m_version = std::move(version); }
  // The backend's `cookie NAME ...` line (show stat's cookie field on the
  // BACKEND row); "" (the default): none.
  void set_cookie_name(std::string name) { m_cookie_name = std::move(name); }
  // `cookie ... dynamic` and a `dynamic-cookie-key`: `enable dynamic-cookie
  // backend B` gives each server without a cookie one derived from its
  // address (3.0: `add server` does at once).
  // `key` names the key: another key gives another cookie for an address.
  void set_dynamic_cookie_key(bool on, std::string key = "k3y") {
    m_dynamic_cookie_key = on;
    m_cookie_key = std::move(key);
  }
  // A sticky user's request reaches `server` now: a session (stot + 1,
  // lastsess 0) that ends at once.
  void touch(const std::string& server);
  // The backend's stick table (named like it; `show table` lists it) and
  // how many live entries point at `server`.
  void set_stick_entries(const std::string& server, std::uint64_t entries);
  // The config server is a `backup` server (show stat's bck).
  void set_backup(const std::string& server);
  // Deletes `server` just before the next `set server`/`del server` command
  // runs: a batch that an earlier, timed-out exchange already carried out.
  void delete_before_next_change(const std::string& server) { m_delete_before_change = server; }
  // The server's check interval (a config server's `inter`).
  void set_check_inter(const std::string& server, int inter_ms);
  void add_responses(const std::string& server, std::uint64_t total, std::uint64_t errors_5xx);
  // Response and connection errors (eresp, econ), and the mean response time (rtime, ms).
  void add_failures(const std::string& server, std::uint64_t eresp, std::uint64_t econ);
  void set_rtime(const std::string& server, std::uint64_t ms);
  // A map file HAProxy loaded at start (empty); `show map` lists it.
  void add_map_file(const std::string& path) { m_maps[path]; }
  // The map's entries (key -> value); empty when unknown.
  std::map<std::string, std::string> map_entries(const std::string& path) const;
  // Answers every command with this text once (e.g. a malformed answer).
  void set_garbage_answer(std::string answer) { m_garbage = std::move(answer); }

  // A reload (or restart): a new process (`show info` gives another Pid)
  // whose backend is the config file's: every runtime change is gone. From
  // the text of a haproxy.cfg (its backend's server lines: address, id,
  // weight, `disabled`, check options), or from the servers it started with.
  void reload(std::string_view config_text);
  void reload_original();
  std::uint64_t pid() const { return m_pid; }
  // Maps come back from their files too (path -> "key value" lines).
  void reload_map(const std::string& path, std::string_view file_text);

  // What was asked of it.
  const std::vector<std::string>& log() const { return m_log; }
  // Only the commands that change something (no `show ...`, no `prompt`).
  std::vector<std::string> mutations() const;
  void clear_log() { m_log.clear(); }
  std::size_t connections() const { return m_connections; }

  // State, after running due health checks.
  const FakeServerState* server(const std::string& name);
  std::vector<std::string> server_names();
  std::string status(const std::string& name);

 private:
  std::string execute(const std::string& command);
  void run_checks();
  void check_once(FakeServerState& server);
  FakeServerState* find(const std::string& target);  // "backend/name"

  std::string m_backend;
  Clock& m_clock;
  std::string execute_map(const std::string& command);

  std::vector<FakeServerState> m_servers;
  std::vector<FakeServerState> m_original;
  std::string m_delete_before_change;
  std::string m_cli_level = "admin";
  std::string m_algo = "roundrobin";
  std::string m_hash_type = "map-based";
  std::string m_version = "2.6.12";
  std::string m_cookie_name;
  bool m_dynamic_cookie_key = false;
  std::string m_cookie_key;
  bool m_stick_table = false;
  std::map<std::uint64_t, std::uint64_t> m_stick_entries;  // server id -> entries
  std::map<std::string, AppHealth> m_app;  // the app servers' health outlives reloads
  std::uint64_t m_pid = 4000;
  std::map<std::string, std::map<std::string, std::string>> m_maps;
  std::vector<std::string> m_log;
  std::string m_garbage;
  bool m_reachable = true;
  std::chrono::milliseconds m_answer_delay{0};
  std::size_t m_connections = 0;
};

}  // namespace lbctl::test
