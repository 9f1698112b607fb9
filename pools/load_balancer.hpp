#pragma once
// One HAProxy's view of one backend, and the changes lbctl makes to it. Every
// change is an "ensure": it reads the backend first and sends only what is
// missing, so a repeat sends nothing. Names and addresses are checked before
// any byte reaches the socket.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "pools/commands.hpp"
#include "pools/haproxy_cfg.hpp"
#include "pools/reload_answers.hpp"
#include "pools/runtime_api.hpp"
#include "pools/server_options.hpp"
#include "pools/stats.hpp"

namespace lbctl::pools {

struct NewServer {
  std::string name;
  std::string address;  // HOST:PORT
  std::uint64_t id = 0;  // explicit and never reused: stick tables fall back to ids
  // Its persistence cookie (`cookie VALUE` on `add server`, HAProxy 3.0 and
  // later); empty: none.
  std::string cookie{};
};


// The commands an ensure sent; empty when everything already held.
struct Applied {
  std::vector<std::string> commands;
};

// `show stat` and `show servers state` read on one connection (or only the
// latter: LoadBalancer::admin_snapshot, `stats` empty).
struct BackendState {
  std::vector<ServerStat> stats;
  std::vector<ServerAdmin> admin;

  BackendState() = default;
  // A copy indexes its own vectors (the indexes point into them); a move
  // keeps them, the vectors' elements staying where they are.
  BackendState(const BackendState& other);
  BackendState& operator=(const BackendState& other);
  BackendState(BackendState&&) noexcept = default;
  BackendState& operator=(BackendState&&) noexcept = default;

  // Builds the name indexes (call once the vectors are filled); lookups scan
  // the lists without them.
  void index();
  const ServerStat* stat(std::string_view name) const;
  const ServerAdmin* admin_of(std::string_view name) const;
  // Its address as `show stat` says it: from the stats when read, else from
  // `show servers state`; "" for a server in neither.
  std::string address_of(std::string_view name) const;
  std::uint64_t max_id() const;

 private:
  // Names as views into the vectors: 20,000 servers indexed at every read
  // without a copy of each name.
  std::unordered_map<std::string_view, std::size_t> m_stat_at;
  std::unordered_map<std::string_view, std::size_t> m_admin_at;
};

using StatPredicate = std::function<bool(const ServerStat&)>;

// A stick table the backend uses (`show table`): its name and live entries.
struct StickTable {
  std::string name;
  std::uint64_t used = 0;
};

// Live stick-table entries that point at each server id.
using StickEntries = std::unordered_map<std::uint64_t, std::uint64_t>;

class BackendFile;

// Coroutines here take their arguments by value: a reference parameter
// would dangle once the caller's temporaries die before the first resume.
class LoadBalancer {
 public:
  LoadBalancer(std::string name, std::string backend, std::shared_ptr<RuntimeApi> api, Clock& clock);

  const std::string& name() const { return m_name; }
  const std::string& backend() const { return m_backend; }
  std::string describe() const;  // "lb1 (unix:/run/haproxy/admin.sock)"

  // The backend's servers: one `show stat BACKEND 4 -1`.
  boost::asio::awaitable<Result<std::vector<ServerStat>>> stats();
  // Stats plus admin flags, ids and user weights, on one connection.
  boost::asio::awaitable<Result<BackendState>> snapshot();
  // What lbctl sets on each server (admin state, weight, id, address) from
  // `show servers state` alone, a fifth of `show stat`'s bytes; a whole
  // snapshot when a server's address is one only `show stat` says.
  boost::asio::awaitable<Result<BackendState>> admin_snapshot();
  // What this LB lets lbctl do, read before any change: the runtime API
  // socket's level (`show cli level`: "admin", "operator" or "user") and the
  // backend's balance algorithm ("" when HAProxy does not say).
  struct Abilities {
    std::string cli_level;
    std::string algo;
    // Stats-socket sessions open now (`show sess`, front end GLOBAL), this
    // one included: HAProxy serves 10 at once unless `stats maxconn` says more.
    std::size_t cli_sessions = 0;
    HaproxyVersion version;  // `show info`'s Version
    // The backend's persistence cookie (`cookie NAME ...` in its section;
    // show stat's cookie field on the BACKEND row): empty when it has none
    // or HAProxy does not say.
    std::string cookie_name;
    // Whether the backend takes servers added at runtime: false for a static
    // algorithm (static-rr) or a hash without `hash-type consistent`, true
    // for the others; nullopt when it could not be told. For a hash, the
    // persisted file tells (its `hash-type`), else HAProxy itself: a
    // throwaway server (k_probe_server, in MAINT: no traffic, no check) added
    // and deleted at once. `dynamic_servers_why` says which.
    std::optional<bool> dynamic_servers;
    std::string dynamic_servers_why;
    // Persistence (load_balancer_persistence.cpp): what the persisted file
    // says (nullopt without one, or when it cannot be read), and the stick
    // tables HAProxy holds for the backend with their live entries.
    std::optional<CfgPersistence> file_persistence;
    std::vector<StickTable> stick_tables;
  };
  boost::asio::awaitable<Result<Abilities>> abilities();
  // Whether the backend takes servers at runtime, and how that was told.
  struct DynamicServers {
    std::optional<bool> takes;
    std::string why;
  };
  // The throwaway server's name: reserved (a server of the user's by that
  // name is never deleted; the question is then left open).
  static constexpr const char* k_probe_server = "lbctl-probe";

  // Adds each server absent from the backend (`add server ... id N <options>
  // [cookie VALUE]`, which leaves it in MAINT). A server already there with
  // the same address is left alone; with another address, or an id taken by
  // another server, it is a conflict and nothing is sent. A cookie on an LB
  // older than HAProxy 3.0 (which refuses it) is refused (invalid), nothing sent.
  boost::asio::awaitable<Result<Applied>> ensure_added(std::vector<NewServer> servers,
                                                       ServerOptions options);
  // Dynamic cookies (a backend with `cookie ... dynamic` and a
  // `dynamic-cookie-key`: each server's cookie derived from its address, the
  // same on every LB with the same key): each named server has a cookie, else
  // `enable dynamic-cookie backend B` (HAProxy 2.6 derives none for a server
  // added at runtime until then; 3.0 does at once) and a second look; a
  // server still without one fails (invalid), naming what the backend needs.
  // Nothing when the backend has no cookie.
  boost::asio::awaitable<Result<Applied>> ensure_dynamic_cookies(std::vector<std::string> names);
  // The live entries of the backend's stick tables, per server id (`show
  // table NAME` for the tables the persisted file names, else the one named
  // like the backend); empty when it has none.
  boost::asio::awaitable<Result<StickEntries>> stick_entries();
  // `enable health` for each server whose checks are not running yet.
  boost::asio::awaitable<Result<Applied>> ensure_health_enabled(std::vector<std::string> names);
  // Sets the admin state (`set server B/S state ready|drain|maint`) where it differs.
  boost::asio::awaitable<Result<Applied>> ensure_state(std::vector<std::string> names, AdminTarget target);
  // The same for servers that each have their own target: one read, one batch.
  boost::asio::awaitable<Result<Applied>> ensure_states(std::vector<std::pair<std::string, AdminTarget>> targets);
  // `set weight B/S W` where the user weight differs.
  boost::asio::awaitable<Result<Applied>> ensure_weight(std::vector<std::pair<std::string, unsigned>> weights);
  // `set server B/S addr HOST port PORT` for each server whose address differs.
  boost::asio::awaitable<Result<Applied>> ensure_addresses(std::vector<std::pair<std::string, std::string>> addresses);
  // `shutdown sessions server B/S` for each server that still has sessions.
  boost::asio::awaitable<Result<Applied>> shutdown_sessions(std::vector<std::string> names);
  // MAINT, then `del server`, retried every `poll` while HAProxy says sessions
  // remain, until `timeout` (then `timeout`, naming the servers). Servers
  // already gone are skipped.
  boost::asio::awaitable<Result<Applied>> ensure_deleted(std::vector<std::string> names,
                                                         std::chrono::milliseconds timeout,
                                                         std::chrono::milliseconds poll);
  // Maps (load_balancer_maps.cpp): how the maintenance page is switched
  // without a reload. Map paths are [A-Za-z0-9._/-]+, keys are names, and
  // values printable text without control characters, checked first.
  // The map files HAProxy has loaded (`show map`).
  boost::asio::awaitable<Result<std::vector<std::string>>> maps();
  // The value of `key` in `map`; nullopt when absent.
  boost::asio::awaitable<Result<std::optional<std::string>>> map_value(std::string map, std::string key);
  // Ensures `key` maps to `value` (`del map`, then `add map` with a payload,
  // only when it differs).
  boost::asio::awaitable<Result<Applied>> ensure_map_value(std::string map, std::string key, std::string value);
  // Ensures `key` is absent from `map`.
  boost::asio::awaitable<Result<Applied>> ensure_map_key_absent(std::string map, std::string key);

  // Persistence: after every batch of commands that changed the backend (or
  // the map), the file is rewritten to what the backend holds; a batch whose
  // file cannot be written fails with that error (the runtime change stays,
  // and the next ensure writes the file again). `default_options` are the
  // options for the line of a server lbctl added without saying its options
  // in this process (a resumed cutover).
  void persist_to(std::shared_ptr<BackendFile> file, std::string default_options);
  BackendFile* persisted_file() const { return m_file.get(); }
  // The backend's server lines as the file must say them for `live`.
  std::vector<DesiredServer> desired_lines(const BackendState& live) const;
  // Rewrites the file to what the backend holds now; true when it wrote.
  boost::asio::awaitable<Result<bool>> ensure_persisted();

  // Reloads. Every read of the backend also reads `show info`: a process
  // that changed since the last read counts as a reload (or a restart).
  boost::asio::awaitable<Result<LbIdentity>> identity();
  const LbIdentity& last_identity() const { return m_identity; }
  // The HAProxy version the last read's `show info` gave (unknown before the
  // first read). Every read notes it; abilities() reads it too.
  const HaproxyVersion& version() const { return m_version; }
  std::uint64_t reloads_seen() const { return m_reloads_seen; }

  // HAProxy's master CLI, when given: the workers a reload left behind.
  void use_master(std::shared_ptr<RuntimeApi> master) { m_master = std::move(master); }
  // True for the algorithms that hash (source, uri, url_param, hdr, rdp-cookie, hash).
  static bool is_hash_algorithm(std::string_view algo);
  // Starts opening its connections now (RuntimeApi::connect_early).
  void connect_early() {
    m_api->connect_early();
    if (m_master) m_master->connect_early();
  }
  bool has_master() const { return m_master != nullptr; }
  // The sessions that each named server still has in workers a reload left
  // behind (only those with some); empty without a master CLI.
  boost::asio::awaitable<Result<std::unordered_map<std::string, std::uint64_t>>> old_worker_sessions(
      std::vector<std::string> names);

  // How long an LB that does not answer (a reload, a restart, a slow network)
  // is retried before an operation fails; 0 (the default) fails at once.
  // Every operation re-reads the backend before it acts, so a retry after a
  // batch broke off halfway sends only what is still missing.
  void set_patience(std::chrono::milliseconds patience) { m_patience = patience; }

  // Asked before every exchange that changes the LB (reads go on): a
  // cutover's runner sends nothing unless it still holds its lease. The
  // gate may wait (for the state database to come back); when it fails, the
  // exchange fails with its error and nothing is sent. Empty: always open.
  using WriteGate = std::function<boost::asio::awaitable<Result<void>>()>;
  void set_write_gate(WriteGate gate) { m_write_gate = std::move(gate); }

  // Polls `show stat` every `poll` until every named server satisfies `done`;
  // `timeout` names the ones that did not, with their status and check.
  boost::asio::awaitable<Result<std::vector<ServerStat>>> wait_until(std::vector<std::string> names,
                                                                     StatPredicate done,
                                                                     std::string waiting_for,
                                                                     std::chrono::milliseconds timeout,
                                                                     std::chrono::milliseconds poll);

 private:
  // load_balancer_dynamic.cpp: fills abilities.dynamic_servers for `algo`.
  boost::asio::awaitable<DynamicServers> dynamic_servers(std::string algo);
  boost::asio::awaitable<DynamicServers> probe_dynamic_servers();
  // load_balancer_persistence.cpp: the tables stick_entries() reads, and
  // abilities' persistence fields.
  boost::asio::awaitable<std::vector<std::string>> stick_table_names();
  boost::asio::awaitable<void> read_persistence(Abilities& abilities);
  std::optional<Error> check_names(const std::vector<std::string>& names) const;
  std::optional<Error> check_map(const std::string& map, const std::string& key, const std::string* value) const;
  Error in_context(const Error& error) const { return error.with_context(m_name); }
  // What a batch does, which decides how it is sent: reads change nothing,
  // so one that timed out is sent again and none waits for the write gate;
  // changes to servers are persisted into the backend's file after the
  // batch, changes to maps by persist_map.
  enum class Batch { reads, server_changes, map_changes };
  // Sends a batch in exchanges of bounded size, in order.
  boost::asio::awaitable<Result<std::vector<std::string>>> send(std::vector<std::string> commands, Batch kind);
  // One exchange with `api` (the runtime API, or the master CLI), retried
  // within the patience while it cannot connect (and, for reads, times out).
  boost::asio::awaitable<Result<std::vector<std::string>>> send_exchange(RuntimeApi* api,
                                                                         std::vector<std::string> commands, Batch kind);
  // Sends changes that must each succeed; the first error fails the batch.
  // Then persists the backend's new state (server changes, when persisting).
  boost::asio::awaitable<Result<Applied>> apply(std::vector<std::string> commands, Batch kind = Batch::server_changes);
  // `show info` answered along with a read: notes a reload.
  void note_identity(std::string_view show_info);
  // Retries `op` while the LB does not answer, within the patience.
  boost::asio::awaitable<Result<Applied>> retrying(std::function<boost::asio::awaitable<Result<Applied>>()> op);
  boost::asio::awaitable<Result<Applied>> ensure_added_once(std::vector<NewServer> servers, ServerOptions options);
  boost::asio::awaitable<Result<Applied>> ensure_states_once(std::vector<std::pair<std::string, AdminTarget>> targets);
  boost::asio::awaitable<Result<Applied>> ensure_weight_once(std::vector<std::pair<std::string, unsigned>> weights);
  boost::asio::awaitable<Result<Applied>> ensure_health_enabled_once(std::vector<std::string> names);
  boost::asio::awaitable<Result<Applied>> shutdown_sessions_once(std::vector<std::string> names);
  boost::asio::awaitable<Result<Applied>> ensure_addresses_once(std::vector<std::pair<std::string, std::string>> addresses);
  // After a batch changed the backend: the file rewritten, or why not.
  boost::asio::awaitable<Result<void>> persist_batch();
  boost::asio::awaitable<Result<Applied>> persist_map(std::string map, std::string key, std::optional<std::string> value,
                                                      Applied applied);

  std::string m_name;
  std::string m_backend;
  std::shared_ptr<RuntimeApi> m_api;
  Clock& m_clock;
  std::shared_ptr<RuntimeApi> m_master;
  std::shared_ptr<BackendFile> m_file;
  std::string m_default_options;
  // The options each server lbctl added was given, for its line in the file.
  std::unordered_map<std::string, std::string> m_line_options;
  LbIdentity m_identity;
  HaproxyVersion m_version;
  std::uint64_t m_reloads_seen = 0;
  std::chrono::milliseconds m_patience{0};
  WriteGate m_write_gate;
  std::optional<std::vector<std::string>> m_stick_tables;  // stick_table_names(), once known
};

}  // namespace lbctl::pools
