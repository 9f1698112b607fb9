#pragma once
// What HAProxy says about a backend's servers: `show stat` (CSV, parsed by
// header name because the columns differ between versions) and `show servers
// state` (the admin flags and ids that show stat does not carry).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"

namespace lbctl::pools {

// One server row of `show stat BACKEND 4 -1`.
struct ServerStat {
  std::string name;
  std::string address;
  std::string status;        // UP, UP 1/3, DOWN, DOWN 1/2, NOLB, DRAIN, MAINT, MAINT (via b/s), no check, ...
  std::uint64_t weight = 0;  // effective weight
  std::uint64_t scur = 0;    // current sessions
  std::uint64_t qcur = 0;    // queued requests
  std::uint64_t srv_icur = 0;  // idle connections HAProxy keeps to it
  std::string check_status;  // the last completed check: L7OK, L7OKC, L4CON, INI, ... ("" when checks are off)
  bool check_running = false;  // HAProxy's "* " prefix: a check is in progress
  std::uint64_t hrsp_5xx = 0;
  std::uint64_t responses = 0;  // hrsp_1xx + 2xx + 3xx + 4xx + 5xx + other
  std::uint64_t stot = 0;
  // Failures HAProxy counts apart from the responses: response errors (the
  // server closed or broke mid-response), connection errors, retries.
  std::uint64_t eresp = 0;
  std::uint64_t econ = 0;
  std::uint64_t wretr = 0;
  // Mean response time (first byte) and total session time, ms, over the
  // last 1024 requests (0 until it has served some).
  std::uint64_t rtime = 0;
  std::uint64_t ttime = 0;
  std::uint64_t id = 0;  // sid
  bool backup = false;   // a `backup` server (bck): takes traffic only when no other server is UP
  // Seconds since a session last went to it (`lastsess`); -1 when none ever did.
  std::int64_t last_session_s = -1;
  // Its persistence cookie value (`cookie`: set by `cookie X`, or derived
  // from the address under dynamic cookies); "" when it has none.
  std::string cookie;

  // User sessions still on it: current plus queued. HAProxy's pooled idle
  // connections (srv_icur) are not sessions: the MAINT transition before
  // `del server` closes those that are idle then (tried on 2.6.12).
  std::uint64_t sessions() const { return scur + qcur; }
  // Taking new traffic: UP (also "UP 1/3", going down but still up) or "no check".
  bool is_up() const;
  // Fully up: exactly "UP" (or "no check").
  bool is_fully_up() const;
  bool is_nolb() const;   // health check answers 404 under disable-on-404
  bool is_drain() const;  // DRAIN status (admin drain, or weight 0)
  bool is_maint() const;  // any MAINT
  bool is_down() const;   // failing its check (also "DOWN 1/2", on its way back up): no new sessions
  // The last check passed at layer 7, 6 or 4.
  bool check_passed() const;
};

// "v2-1 (MAINT, check L4CON), v2-2 (absent)": the named servers for which
// `done` does not hold yet, as `stats` shows them; "" when it holds for all.
std::string not_yet(const std::vector<ServerStat>& stats, const std::vector<std::string>& names,
                    const std::function<bool(const ServerStat&)>& done);

// Servers by name, for lookups that would otherwise scan the list for each
// name (1,000-server pools).
std::unordered_map<std::string_view, const ServerStat*> index_by_name(const std::vector<ServerStat>& stats);

// Parses `show stat` output for `backend`'s servers (type-4 rows; others are
// skipped). Fails with `invalid` when the header is missing or a field the
// parser needs is absent, and with `refused` when HAProxy answered an error.
Result<std::vector<ServerStat>> parse_show_stat(std::string_view text, std::string_view backend);

// What `show stat BACKEND 2 -1` says of `backend` itself (its BACKEND row):
// the balance algorithm ("roundrobin", "static-rr", "source", ...) and the
// persistence cookie's name (`cookie SRV insert ...` -> "SRV"); each "" when
// the answer has no such column or row. invalid for an answer that is not
// show stat; refused for HAProxy's error.
struct BackendRow {
  std::string algo;
  std::string cookie;
};
Result<BackendRow> parse_backend_row(std::string_view text, std::string_view backend);

// `show table`: each stick table's name and live entries ("# table: NAME,
// type: ip, size:1024, used:3").
std::vector<std::pair<std::string, std::uint64_t>> parse_table_list(std::string_view text);
// `show table NAME`: how many live entries point at each server id (the
// entry lines' `server_id=N`; entries without one are not counted). refused
// for HAProxy's error ("No such table").
Result<std::unordered_map<std::uint64_t, std::uint64_t>> parse_stick_entries(std::string_view text);

// HAProxy's admin flags (include/haproxy/server-t.h).
enum AdminFlag : unsigned {
  k_admin_forced_maint = 0x01,
  k_admin_inherited_maint = 0x02,
  k_admin_config_maint = 0x04,
  k_admin_forced_drain = 0x08,
  k_admin_inherited_drain = 0x10,
  k_admin_resolution_maint = 0x20,
  k_admin_maint_mask = 0x23,
  k_admin_drain_mask = 0x18,
};

// One row of `show servers state BACKEND`.
struct ServerAdmin {
  std::string name;
  std::uint64_t id = 0;
  unsigned admin_state = 0;
  unsigned op_state = 0;     // 0 stopped, 1 starting, 2 running, 3 stopping
  std::uint64_t user_weight = 0;
  // As `show stat`'s addr column says it ("10.0.0.1:80", "[::1]:80"), from
  // srv_addr and srv_port; "" when `show servers state` has no address to
  // give (a UNIX socket, a name not resolved: "-") or no such columns.
  std::string address;

  bool in_maint() const { return (admin_state & k_admin_maint_mask) != 0; }
  bool in_drain() const { return (admin_state & k_admin_drain_mask) != 0; }
};

// Parses `show servers state` output (format version 1).
Result<std::vector<ServerAdmin>> parse_servers_state(std::string_view text, std::string_view backend);

}  // namespace lbctl::pools
