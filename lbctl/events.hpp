#pragma once
// What a cutover reports as it goes. The controller emits Events; sinks turn
// them into JSON lines (--json), plain lines (piped), a live display (a
// terminal), journal rows, and webhooks.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace lbctl {

struct Event {
  std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
  std::int64_t cutover_id = 0;
  std::string step;
  std::string event;  // step_started, step_done, progress, lb_view, drain_progress, warning, failed, rolled_back, completed, ...
  std::string text;   // one line for humans
  nlohmann::json details = nlohmann::json::object();
  bool journal = true;  // also stored in the journal (false for chatty views)
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void emit(const Event& event) = 0;
  // Whether it shows "lb_view" events (every server on every LB, each poll):
  // building them for 3,000 servers is only worth it for a live display.
  virtual bool wants_views() const { return false; }
};

// One JSON object per line: {"time", "cutover_id", "step", "event", "text", "details"}.
class JsonLinesSink final : public EventSink {
 public:
  explicit JsonLinesSink(std::ostream& out) : m_out(out) {}
  void emit(const Event& event) override;

 private:
  std::ostream& m_out;
};

// "HH:MM:SS step: text" lines, for logs and pipes; chatty views skipped and
// the drain's progress printed when the count changes (or every 10 s).
class PlainSink final : public EventSink {
 public:
  explicit PlainSink(std::ostream& out) : m_out(out) {}
  void emit(const Event& event) override;

 private:
  std::ostream& m_out;
  std::int64_t m_last_left = -1;
  std::chrono::system_clock::time_point m_last_drain_line{};
};

// A live display for terminals: the log of steps above, and below it the
// current step, each LB's view of each server and the drain's bar, redrawn
// in place. The current step is bold only with `colour` (lbctl/colour.hpp).
class TerminalSink final : public EventSink {
 public:
  TerminalSink(std::ostream& out, bool colour) : m_out(out), m_colour(colour) {}
  void emit(const Event& event) override;
  bool wants_views() const override { return true; }

 private:
  void redraw();
  std::ostream& m_out;
  bool m_colour;
  std::size_t m_drawn_lines = 0;
  std::string m_step;
  std::chrono::system_clock::time_point m_step_started{};
  nlohmann::json m_view;   // last lb_view details
  nlohmann::json m_drain;  // last drain_progress details
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

std::string format_utc(std::chrono::system_clock::time_point time);

// "[#######.......] 12 sessions left, 3.0/s, ETA 4s"
std::string drain_bar(const nlohmann::json& drain, std::size_t width = 30);

}  // namespace lbctl
