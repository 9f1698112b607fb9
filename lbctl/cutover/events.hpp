#pragma once
// What a cutover reports as it goes. The controller emits Events of a known
// kind; sinks (the CLI's JSON lines, plain lines and live terminal view,
// webhooks, the journal) turn them into what their readers need.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lbctl {

// Every kind of event, in the order a cutover usually meets them. Their
// names (to_string) are what the journal, --json and webhooks carry.
enum class EventKind {
  started,       // a new cutover
  resume,        // taken over to finish
  abort,         // taken over to roll back
  taken_over,    // an agent adopted a cutover whose runner's lease ran out (who, from whom, why)
  requested,     // promote, abort or undo asked (by whom, from where)
  plan,          // what preflight decided
  warning,
  step_started,
  step_done,
  step_failed,
  reloaded,      // an LB's process changed (a reload or restart) mid-cutover
  state_database_lost,  // the journal's connection broke: the fleet stays as it is
  state_database_back,  // reconnected, the lock taken again, the row checked
  haproxy,       // a batch of runtime API commands sent to one LB
  lb_view,       // every server on every LB (live displays only; never journaled)
  backup,
  skipped,
  migrated,
  frozen,
  unfrozen,
  cloned,
  healthy,
  unhealthy,
  hook_started,
  hook_done,
  hook_failed,
  attached,
  stage,
  stage_passed,
  analysis,      // one measurement of the analysis: each metric, new and old values, limits, verdict
  paused,        // promotion.mode manual: waiting for `lbctl promote`
  promoted,      // the pause ended: by `lbctl promote` or auto_promote_after
  undo_window,   // the old servers detached but kept ready until the window closes
  undo_closed,   // the undo window passed: the old servers may go
  health_files_removed,
  drain_progress,
  drained,
  sessions_cut,
  detached,
  waiting,
  terminated,
  maintenance_on,
  maintenance_off,
  rolling_back,
  old_pool_up,
  new_pool_gone,
  rolled_back,
  failed,
  completed,
};

std::string_view to_string(EventKind kind);
std::optional<EventKind> parse_event_kind(std::string_view text);

struct Event {
  std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
  std::int64_t cutover_id = 0;
  std::string release = {};  // the cutover's release
  std::string step;
  EventKind kind = EventKind::warning;
  std::string text;  // one line for humans
  nlohmann::json details = nlohmann::json::object();
  bool journal = true;  // also stored in the journal (false for chatty views)

  std::string_view name() const { return to_string(kind); }
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void emit(const Event& event) = 0;
  // Whether it shows lb_view events (every server on every LB, each poll):
  // building them for 3,000 servers is only worth it for a live display.
  virtual bool wants_views() const { return false; }
};

// Sends every event to every sink.
class Reporter final : public EventSink {
 public:
  void add(EventSink& sink) { m_sinks.push_back(&sink); }
  void emit(const Event& event) override {
    for (auto* sink : m_sinks) sink->emit(event);
  }
  bool wants_views() const override {
    return std::any_of(m_sinks.begin(), m_sinks.end(), [](const EventSink* s) { return s->wants_views(); });
  }

 private:
  std::vector<EventSink*> m_sinks;
};

}  // namespace lbctl
