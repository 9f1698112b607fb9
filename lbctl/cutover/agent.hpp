#pragma once
// What `lbctl agent` does for one service at each poll: adopt the service's
// cutover when its runner's lease ran out (and resume it, as `lbctl resume`
// does), else run the oldest queued request as `lbctl cutover` would, else
// nothing. Every agent of a fleet runs this; the service lock, begin()'s
// taking of the request in the cutover's own commit, and the owner token make
// two agents never run one request twice, nor one cutover at once.

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "lbctl/cutover/abort.hpp"
#include "lbctl/cutover/step.hpp"

namespace lbctl {

enum class AgentAction {
  idle,         // nothing to do, or nothing this agent may do yet (`why` says)
  took_over,    // adopted a cutover whose lease ran out, and drove it (outcome)
  ran_request,  // ran a queued request (outcome; request_id)
};

struct AgentTick {
  AgentAction action = AgentAction::idle;
  std::string why;  // idle: what it waits for ("cutover 4 runs on web1 (pid 77)")
  std::optional<CutoverOutcome> outcome;
  std::int64_t request_id = 0;
  std::int64_t cutover_id = 0;
};

// One look at deps.config.service, and what came of it. deps.agent names the
// agent (not empty).
boost::asio::awaitable<AgentTick> agent_tick(CutoverDeps deps);

// `lbctl submit --wait`: waits for an agent to take request `request_id`
// (`on_taken` then, once), follows its cutover's events (options.on_event)
// through take-overs, and ends with how the cutover ended: done (completed),
// failed (rolled back, or stopped before any change), needs_operator.
// usage for an unknown request. Never acts on the cutover.
boost::asio::awaitable<CutoverOutcome> wait_for_request(CutoverDeps deps, std::int64_t request_id,
                                                        FollowOptions options,
                                                        std::function<void(const db::CutoverRequest&)> on_taken);

// How a finished cutover ended, as a command's outcome (nullopt while it
// has not ended: running, interrupted).
std::optional<CutoverOutcome> ended_as(const db::Cutover& row);

// sha256 of the config as the journal keeps it (config_snapshot): what a
// request records of the config it was submitted with.
std::string config_digest(const Config& config);

}  // namespace lbctl
