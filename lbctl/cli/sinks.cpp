#include "lbctl/cli/sinks.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "core/time_format.hpp"
#include "lbctl/cli/lb_table.hpp"

namespace lbctl {

void JsonLinesSink::emit(const Event& event) {
  nlohmann::json line = {{"time", format_time(event.time, TimeFormat::iso_ms)}, {"cutover_id", event.cutover_id}, {"release", event.release}, {"step", event.step},
                         {"event", event.name()},           {"text", event.text},             {"details", event.details}};
  m_out << line.dump() << "\n" << std::flush;
}

void PlainSink::emit(const Event& event) {
  if (event.kind == EventKind::lb_view) return;
  if (event.kind == EventKind::drain_progress) {
    const auto left = event.details.value("sessions_left", std::int64_t{0});
    if (left == m_last_left && event.time - m_last_drain_line < std::chrono::seconds(10)) return;
    m_last_left = left;
    m_last_drain_line = event.time;
    m_out << fmt::format("{:%H:%M:%S} {}: {}\n", std::chrono::time_point_cast<std::chrono::seconds>(event.time),
                         event.step, drain_bar(event.details, 20))
          << std::flush;
    return;
  }
  m_out << fmt::format("{:%H:%M:%S} {}: {}\n", std::chrono::time_point_cast<std::chrono::seconds>(event.time),
                       event.step, event.text)
        << std::flush;
}

std::string drain_bar(const nlohmann::json& drain, std::size_t width) {
  const auto left = drain.value("sessions_left", std::int64_t{0});
  const auto start = std::max<std::int64_t>(drain.value("sessions_at_start", left), left);
  const double done = start > 0 ? static_cast<double>(start - left) / static_cast<double>(start) : 1.0;
  const auto filled = static_cast<std::size_t>(done * static_cast<double>(width) + 0.5);
  std::string bar = "[" + std::string(filled, '#') + std::string(width - std::min(filled, width), '.') + "]";
  std::string text = fmt::format("{} {} sessions left", bar, left);
  if (drain.contains("sticky") && drain["sticky"].is_array() && !drain["sticky"].empty()) {
    text += fmt::format(", {} old server{} still used by sticky users", drain["sticky"].size(),
                        drain["sticky"].size() == 1 ? "" : "s");
  }
  if (drain.contains("rate_per_s")) text += fmt::format(", {:.1f}/s", drain["rate_per_s"].get<double>());
  if (drain.contains("eta_s")) text += fmt::format(", ETA {}s", drain["eta_s"].get<std::int64_t>());
  if (drain.contains("timeout_in_s")) text += fmt::format(" (timeout in {}s)", drain["timeout_in_s"].get<std::int64_t>());
  return text;
}

void TerminalSink::emit(const Event& event) {
  if (event.kind == EventKind::lb_view) {
    m_view = event.details;
  } else if (event.kind == EventKind::drain_progress) {
    m_drain = event.details;
  } else {
    if (event.kind == EventKind::step_started) {
      m_step = event.step;
      m_step_started = event.time;
      m_drain = nullptr;
    }
    // Clear the live block, print the log line, draw the block again below it.
    for (std::size_t i = 0; i < m_drawn_lines; ++i) m_out << "\x1b[1A\x1b[2K";
    m_drawn_lines = 0;
    m_out << fmt::format("{:%H:%M:%S} {}: {}\n", std::chrono::time_point_cast<std::chrono::seconds>(event.time),
                         event.step, event.text);
  }
  redraw();
}

void TerminalSink::redraw() {
  for (std::size_t i = 0; i < m_drawn_lines; ++i) m_out << "\x1b[1A\x1b[2K";
  std::string block;
  if (!m_step.empty()) {
    const auto in_step = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - m_step_started);
    const auto* bold = m_colour ? "\x1b[1m" : "";
    const auto* plain = m_colour ? "\x1b[0m" : "";
    block += fmt::format("{}> {}{} ({}s)\n", bold, m_step, plain, in_step.count());
  }
  if (m_view.is_object() && m_view.contains("load_balancers")) {
    for (const auto& json : m_view["load_balancers"]) {
      const auto view = json.get<LbView>();
      block += "  " + view.name + "\n" + render_lb_view(view, "    ");
    }
  }
  if (m_drain.is_object()) block += "  drain " + drain_bar(m_drain) + "\n";
  m_out << block << std::flush;
  m_drawn_lines = static_cast<std::size_t>(std::count(block.begin(), block.end(), '\n'));
}

}  // namespace lbctl
