#pragma once
// Drift: a live LB that no longer holds what lbctl last left there (a reload
// or restart without persistence, a hand edit), or a persisted file that
// differs from the live LB. What lbctl left is recorded in the journal after
// every step of a cutover, at its end and after `lbctl reconcile`; `servers`
// and `status` show the differences and `reconcile` repairs them.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "db/journal.hpp"
#include "pools/haproxy_cfg.hpp"
#include "pools/load_balancer.hpp"

namespace lbctl {

// One server as lbctl left it.
struct RecordedServer {
  std::string name;
  std::string address;
  std::uint64_t id = 0;
  std::string admin = "ready";  // ready | maint | drain
  unsigned weight = 1;
  std::string options;  // what `add server` would be given to put it back
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RecordedServer, name, address, id, admin, weight, options)

// What lbctl left on one LB's backend (the journal's record, typed).
struct RecordedBackend {
  int format = 1;
  std::vector<RecordedServer> servers;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RecordedBackend, format, servers)

// "ready", "maint" or "drain": the admin state an operator (or lbctl) set.
std::string admin_word(const pools::ServerAdmin& admin);
pools::AdminTarget admin_target(const std::string& word);

// The record of what `live` holds on `lb` now.
RecordedBackend record_of(const pools::LoadBalancer& lb, const pools::BackendState& live);
// `record` as the journal keeps it (JSON; read back by from_journal).
std::string record_json(const RecordedBackend& record);
db::LbRecord to_journal(const pools::LoadBalancer& lb, const pools::BackendState& live, std::int64_t cutover_id);
// nullopt when the stored JSON is not a record this lbctl reads.
std::optional<RecordedBackend> from_journal(const db::LbRecord& record);

struct Drift {
  std::string lb;
  std::string server;  // "" when about the whole LB or file
  std::string kind;    // missing, extra, address, state, weight, file
  std::string recorded;
  std::string live;
  std::string text;    // one line for people: "lb1: v2-1 is missing (lbctl left it at ..., ready)"
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Drift, lb, server, kind, recorded, live, text)

// The live backend against what lbctl recorded: a server missing, one too
// many, another address, admin state or weight.
std::vector<Drift> drift_from_record(const std::string& lb, const RecordedBackend& recorded,
                                     const pools::BackendState& live);

// A persisted file against the live backend: servers only in one of them, a
// `disabled` that does not match MAINT, another weight.
std::vector<Drift> drift_from_file(const std::string& lb, const std::string& file, const pools::CfgBackend& backend,
                                   const pools::BackendState& live);

}  // namespace lbctl
