#pragma once
// Where a command's events go: JSON lines (--json), plain lines (a pipe, a
// log) or a live display (a terminal).

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "lbctl/cutover/events.hpp"

namespace lbctl {

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

// "[#######.......] 12 sessions left, 3.0/s, ETA 4s"
std::string drain_bar(const nlohmann::json& drain, std::size_t width = 30);

}  // namespace lbctl
