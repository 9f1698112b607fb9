#pragma once
// A past (or running) cutover as `history --json` and `serve` show it: its
// row, who promoted or undid it, and each step's time from its events.

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "db/journal.hpp"

namespace lbctl {

using StepDurations = std::vector<std::pair<std::string, std::chrono::milliseconds>>;

// How long it ran: to its end, or to its last sign of life when it stopped
// unfinished, or until now while it runs.
std::chrono::milliseconds duration_of(const db::Cutover& c);

// Each step's time, in the order the steps first ran, from the journaled
// step_started / step_done events (a step run again after a reload or a
// resume adds up; one that never finished counts to `end`: the cutover's
// end, or now while it runs).
StepDurations step_durations(const std::vector<db::Event>& events, db::JournalTime end);
StepDurations step_durations(const std::vector<db::Event>& events, const db::Cutover& c);

// Who promoted it (`lbctl promote`'s user@host, or auto_promote_after) and
// who undid it after the promotion; "" when nobody.
struct Deciders {
  std::string promoted_by;
  std::string undone_by;
};
Deciders deciders_of(const db::Cutover& c);

// The agents in a cutover's life, from its events: the request it carried
// out and the agent that took it (its `started` event), and every agent that
// took it over from a runner whose lease ran out (`taken_over` events).
struct AgentTrail {
  std::int64_t request_id = 0;
  std::string agent;
  std::vector<std::string> taken_over_by;
};
AgentTrail agent_trail(const std::vector<db::Event>& events);
// Adds "request_id" and "agent" (when it carried out a request) and
// "taken_over_by" (when taken over) to a `history --json` object.
void add_agent_trail(nlohmann::json& json, const AgentTrail& trail);

// One `history --json` object, without "steps".
nlohmann::json history_json(const db::Cutover& c);
// [{"step", "duration_ms"}]: history --json's "steps".
nlohmann::json steps_json(const StepDurations& steps);

}  // namespace lbctl
