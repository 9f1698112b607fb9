#pragma once
// `lbctl reconcile`: brings each LB (and its persisted file) back to what
// lbctl last recorded there, in the safe order: missing servers first (added
// in MAINT, HAProxy's check passed, then their recorded state), then admin
// states, weights and addresses, then the servers that should not be there
// (MAINT, then deleted), then the file.

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "lbctl/config/config.hpp"
#include "lbctl/cutover/fleet_look.hpp"

namespace lbctl {

// What reconcile would do on one LB, in words, from one look.
std::vector<std::string> reconcile_actions(const LbLook& look, bool persisted);

// The record to restore on an LB: the journal's, else (never recorded) the
// persisted file's servers, else nothing.
boost::asio::awaitable<std::optional<RecordedBackend>> target_of(const LbLook& look, pools::LoadBalancer& lb,
                                                                 const Config& config);

// Does it on one LB; the error names what could not be done.
boost::asio::awaitable<Result<void>> reconcile_lb(pools::LoadBalancer& lb, RecordedBackend target,
                                                  pools::BackendState live, const Config& config);

}  // namespace lbctl
