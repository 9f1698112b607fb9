#pragma once
// What a cutover must remember to be resumed after a SIGKILL, typed: saved in
// the journal's row (as JSON, through nlohmann's macros) before every side
// effect that cannot be repeated. `format` versions it: a record written by an
// older lbctl is upgraded as it is read.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "pools/server.hpp"

namespace lbctl {

struct PoolServer {
  std::string name;
  std::string address;  // "" until cloned (new servers)
  std::uint64_t id = 0;  // new servers: the id HAProxy gets; old servers: 0
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PoolServer, name, address, id)

// Sessions cut at the drain's timeout, where.
struct SessionCount {
  std::string lb;
  std::string server;
  std::uint64_t scur = 0;
  std::uint64_t qcur = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SessionCount, lb, server, scur, qcur)

// An old server sticky users still come to (drain.idle): a session went to
// it less than drain.idle ago, or stick-table entries point at it. HAProxy
// does not count cookie users: `recent_sessions` (sessions it took in the
// last drain.idle) is how busy they keep it; `stick_entries` counts users
// exactly where the backend has a stick table.
struct StickyUse {
  std::string lb;
  std::string server;
  std::int64_t last_session_s = -1;  // -1: none seen
  std::uint64_t recent_sessions = 0;
  std::uint64_t stick_entries = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StickyUse, lb, server, last_session_s, recent_sessions, stick_entries)

// The failure that started a rollback (kept across a resumed rollback).
struct FailureRecord {
  std::string step;
  std::string message;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(FailureRecord, step, message)

// CutoverProgress::cookie_rule when preflight chose no rule (a cookie rule
// always holds "{name}", so it cannot be one).
inline constexpr std::string_view k_no_cookie_rule = "(none)";

struct CutoverProgress {
  static constexpr int k_format = 3;
  int format = k_format;
  std::vector<PoolServer> old_pool;
  std::vector<PoolServer> new_pool;
  // The rule the new servers' cookies come from, decided at preflight
  // (PlanReport::cookie_rule), or k_no_cookie_rule (dynamic cookies, or
  // none). "" only in a record written before it existed: new_pool.cookie.
  std::string cookie_rule;
  std::map<std::string, std::vector<std::string>> migrations;  // pending at preflight: "pre", "post"
  std::string backup_path;  // "" = no backup taken
  bool frozen = false;
  bool drain_started = false;
  // drain.method health_file: the old servers whose health file lbctl
  // removed (journaled before the removal; one that failed is taken off), so
  // a rollback restores those and no other.
  std::vector<std::string> health_files_removed;
  std::int64_t watch_started_ms = 0;  // wall time, ms since the epoch; 0 = not yet
  std::vector<SessionCount> cut_sessions;
  // drain.idle: the old servers sticky users still came to at drain.timeout
  // (on_timeout force: moved then).
  std::vector<StickyUse> sticky_at_timeout;
  std::int64_t terminate_after_ms = 0;  // wall time; 0 = not yet
  std::size_t stage = 0;  // the stage running (or the count, once all ran)
  bool weights_changed = false;
  FailureRecord failure;  // empty step: none
  bool maintenance_on = false;
  std::string maintenance_text;  // the page as first set, so a re-ensure shows the same end time
  // promotion.mode manual: when the pause began (wall ms; 0 = not yet; its
  // timers count from it, across a resume), when it ended and by whom
  // ("alice@web1", or "auto_promote_after 10m").
  std::int64_t paused_at_ms = 0;
  std::int64_t promoted_at_ms = 0;
  std::string promoted_by;
  // promotion.undo_window: when it closes (wall ms; 0 = not opened), and who
  // undid the cutover in it ("" = nobody).
  std::int64_t undo_until_ms = 0;
  std::string undone_by;

  bool migrations_pending() const;
  std::vector<pools::Server> old_servers() const;
  std::vector<pools::Server> cloned() const;  // new servers with an address
  std::vector<std::string> old_names() const;
  std::vector<std::string> new_names() const;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CutoverProgress, format, old_pool, new_pool, cookie_rule, migrations, backup_path,
                                                frozen, drain_started, health_files_removed, watch_started_ms, cut_sessions, sticky_at_timeout,
                                                terminate_after_ms, stage, weights_changed, failure, maintenance_on,
                                                maintenance_text, paused_at_ms, promoted_at_ms, promoted_by,
                                                undo_until_ms, undone_by)

// Every LB's backend as preflight found it (the journal's lb_snapshot): what
// rollback puts back (admin states, weights), and which old servers were UP.
struct SnapshotServer {
  std::string name;
  std::string address;
  std::string status;
  std::uint64_t weight = 0;
  std::uint64_t id = 0;
  unsigned admin_state = 0;
  std::uint64_t user_weight = 1;
  std::uint64_t sessions = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SnapshotServer, name, address, status, weight, id, admin_state,
                                                user_weight, sessions)

struct LbSnapshot {
  std::string lb;
  std::string backend;
  std::vector<SnapshotServer> servers;

  const SnapshotServer* find(const std::string& server) const;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LbSnapshot, lb, backend, servers)

// The snapshot as journaled; empty (none, or an unreadable one) reads as no LBs.
std::vector<LbSnapshot> read_lb_snapshot(const std::string& text);

// Reads a record as stored, from any format this lbctl knows (format 1, the
// first release's untyped JSON, named the pools "old" and "new"); an empty
// text is a fresh record. invalid for one that is not such a record, or was
// written by a newer lbctl.
Result<CutoverProgress> read_progress(const std::string& text);
std::string write_progress(const CutoverProgress& progress);

}  // namespace lbctl
