#pragma once
// One look at every LB of a service, as `servers`, `status` and `reconcile`
// need it: the live backend, and how it drifted from what lbctl recorded (in
// the journal) and from its persisted file.

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "db/journal.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cutover/drift.hpp"
#include "pools/fleet.hpp"

namespace lbctl {

struct LbLook {
  std::string lb;
  std::string backend;
  std::optional<pools::BackendState> live;  // nullopt: it did not answer (see error)
  std::string error;
  ErrorKind error_kind = ErrorKind::unreachable;
  std::optional<RecordedBackend> recorded;  // what lbctl last left there, if recorded
  std::vector<Drift> drift;
};

struct FleetLook {
  std::vector<LbLook> lbs;
  // Why drift could not be measured against the journal ("" when it was).
  std::string journal_note;

  bool any_drift() const;
  std::vector<Drift> all_drift() const;
};

// Reads every LB (`show stat` and `show servers state`), the records
// (`records`: the journal's, or nullopt with `journal_note` saying why not)
// and the persisted files, and works out the drift.
boost::asio::awaitable<FleetLook> look_at_fleet(const Config& config, pools::Fleet& fleet,
                                                std::optional<std::vector<db::LbRecord>> records,
                                                std::string journal_note);

// What every LB holds now, as the records of what lbctl left there. Fails
// naming the LB that did not answer.
boost::asio::awaitable<Result<std::vector<db::LbRecord>>> fleet_records(pools::Fleet& fleet, std::int64_t cutover_id);
// fleet_records() saved in `journal` (nothing is recorded when an LB did not answer).
boost::asio::awaitable<Result<void>> record_fleet(pools::Fleet& fleet, db::Journal& journal,
                                                  const std::string& service, std::int64_t cutover_id);

}  // namespace lbctl
