#include "lbctl/serve/poller.hpp"

#include <fmt/format.h>

#include "lbctl/cutover/history.hpp"

namespace lbctl::serve {

namespace asio = boost::asio;

namespace {

constexpr std::size_t k_events_per_read = 500;

// history --json's objects; a finished cutover's steps are read once.
nlohmann::json read_history(db::Journal& journal, const std::string& service, ServiceLive& live) {
  auto out = nlohmann::json::array();
  auto cutovers = journal.history(service, k_history_limit);
  if (!cutovers) return out;
  for (const auto& c : *cutovers) {
    auto j = history_json(c);
    // What the events say (the steps' times, the agents): kept once it ended.
    nlohmann::json from_events = nlohmann::json::object();
    if (const auto* known = live.finished_steps(c.id)) {
      from_events = *known;
    } else {
      auto events = journal.events(c.id, 0, 100000);
      from_events["steps"] = steps_json(events ? step_durations(*events, c) : StepDurations{});
      if (events) add_agent_trail(from_events, agent_trail(*events));
      if (events && db::is_finished(c.status)) live.keep_finished_steps(c.id, from_events);
    }
    j.update(from_events);
    out.push_back(std::move(j));
  }
  if (!cutovers->empty()) live.forget_steps_before(cutovers->back().id);  // newest first: the oldest shown
  return out;
}

std::string history_key(const ServiceStatus& status) {
  if (!status.cutover) return "none";
  return std::to_string(status.cutover->id) + ":" + status.cutover->status + ":" + status.cutover->step;
}

}  // namespace

asio::awaitable<void> poll_service(const Config& config, pools::Fleet& fleet, db::Journal& journal, ServiceLive& live,
                                   std::int64_t now_ms) {
  auto status = co_await gather_status(config, fleet, journal);
  const bool journal_read = status.error.empty();
  const std::string key = history_key(status);
  live.update(std::move(status), now_ms);
  if (!journal_read) co_return;
  if (const std::int64_t id = live.cutover_id(); id != 0) {
    for (int reads = 0; reads < 20; ++reads) {
      auto events = journal.events(id, live.last_event_id(), k_events_per_read);
      if (!events) break;
      live.add_events(*events);
      if (events->size() < k_events_per_read) break;
    }
  }
  if (key != live.history_key()) {
    auto counts = journal.outcome_counts(config.service);
    if (!counts) co_return;  // read again at the next poll
    live.set_outcomes(std::move(*counts));
    live.set_history(read_history(journal, config.service, live), key);
  }
}

Result<std::vector<db::Event>> service_events(db::Journal& journal, const std::string& service,
                                              std::int64_t cutover_id, std::int64_t after_id, std::size_t limit) {
  auto cutover = journal.get(cutover_id);
  if (!cutover) return std::unexpected(cutover.error());
  if (cutover->service != service) {
    return fail(ErrorKind::invalid, fmt::format("no cutover {} of service `{}`", cutover_id, service));
  }
  return journal.events(cutover_id, after_id, limit);
}

}  // namespace lbctl::serve
