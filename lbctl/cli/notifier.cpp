#include "lbctl/cli/notifier.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "core/time_format.hpp"

namespace lbctl {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::optional<std::string> webhook_event(const Event& event) {
  switch (event.kind) {
    case EventKind::started: return "started";
    case EventKind::step_started: return "step";
    case EventKind::step_failed: return "failed";
    // The gate and the window: someone may have to act (promote, undo).
    case EventKind::paused:
    case EventKind::promoted:
    case EventKind::undo_window:
    case EventKind::undo_closed: return "promotion";
    case EventKind::failed:  // the rollback itself failed
      if (event.step == "rollback") return "failed";
      return std::nullopt;
    case EventKind::rolled_back: return "rolled_back";
    case EventKind::completed: return "completed";
    default: return std::nullopt;
  }
}

nlohmann::json webhook_body(const Event& event, const std::string& service, const std::string& name) {
  const std::string text = fmt::format("lbctl {} cutover {}{}: {}", service, event.cutover_id,
                                       event.release.empty() ? "" : " (release " + event.release + ")", event.text);
  auto fields = nlohmann::json::array();
  fields.push_back({{"title", "service"}, {"value", service}, {"short", true}});
  fields.push_back({{"title", "cutover"}, {"value", std::to_string(event.cutover_id)}, {"short", true}});
  fields.push_back({{"title", "release"}, {"value", event.release}, {"short", true}});
  fields.push_back({{"title", "event"}, {"value", name}, {"short", true}});
  fields.push_back({{"title", "step"}, {"value", event.step}, {"short", true}});
  return {{"text", text},
          {"service", service},
          {"cutover_id", event.cutover_id},
          {"release", event.release},
          {"event", name},
          {"step", event.step},
          {"time", format_time(event.time, TimeFormat::iso_ms)},
          {"details", event.details},
          {"attachments", nlohmann::json::array({{{"fallback", text}, {"fields", fields}}})}};
}

std::string webhook_origin(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return "(webhook)";
  const auto host_start = scheme + 3;
  auto host_end = url.find_first_of("/?#", host_start);
  if (host_end == std::string_view::npos) host_end = url.size();
  auto host = url.substr(host_start, host_end - host_start);
  if (const auto at = host.rfind('@'); at != std::string_view::npos) host = host.substr(at + 1);  // no credentials
  return std::string(url.substr(0, host_start)) + std::string(host) + "/...";
}

WebhookNotifier::WebhookNotifier(std::vector<WebhookConfig> webhooks, std::string service, health::HttpPoster& poster,
                                 Clock& clock, asio::any_io_executor executor, std::ostream& log)
    : m_service(std::move(service)),
      m_poster(poster),
      m_clock(clock),
      m_executor(executor),
      m_log(log),
      m_idle(executor, asio::steady_timer::time_point::max()) {
  for (auto& config : webhooks) m_targets.push_back(Target{std::move(config), {}, false, 0, 0});
}

void WebhookNotifier::emit(const Event& event) {
  const auto name = webhook_event(event);
  if (!name) return;
  for (std::size_t i = 0; i < m_targets.size(); ++i) {
    auto& target = m_targets[i];
    const auto& wanted = target.config.events;
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), *name) == wanted.end()) continue;
    target.queue.emplace_back(*name, webhook_body(event, m_service, *name).dump());
    if (!target.sending) {
      target.sending = true;
      asio::co_spawn(m_executor, send_queue(i), asio::detached);
    }
  }
}

asio::awaitable<bool> WebhookNotifier::deliver(Target& target, const std::string& name, const std::string& body) {
  auto deadline = m_clock.now() + target.config.timeout;
  if (m_flush_deadline) deadline = std::min(deadline, *m_flush_deadline);
  auto backoff = 200ms;
  std::string last;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - m_clock.now());
    if (left.count() <= 0) break;
    auto outcome = co_await m_poster.post(target.config.url, body, left);
    if (outcome && outcome->status >= 200 && outcome->status < 300) co_return true;
    last = outcome ? fmt::format("status {}", outcome->status) : outcome.error().message;
    // curl's messages can quote the URL: keep only what names the failure.
    if (!outcome && last.find(target.config.url) != std::string::npos) last = std::string(to_string(outcome.error().kind));
    const auto pause = std::min(backoff, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - m_clock.now()));
    if (pause.count() <= 0) break;
    co_await m_clock.sleep_for(pause);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
  m_log << fmt::format("lbctl: webhook {}: '{}' not delivered within {}: {}\n", webhook_origin(target.config.url), name,
                       format_duration(target.config.timeout), last.empty() ? "no time left" : last)
        << std::flush;
  co_return false;
}

asio::awaitable<void> WebhookNotifier::send_queue(std::size_t index) {
  auto& target = m_targets[index];
  while (!target.queue.empty()) {
    if (m_flush_deadline && m_clock.now() >= *m_flush_deadline) {
      m_log << fmt::format("lbctl: webhook {}: {} notifications dropped at exit\n", webhook_origin(target.config.url),
                           target.queue.size())
            << std::flush;
      target.dropped += target.queue.size();
      target.queue.clear();
      break;
    }
    auto [name, body] = target.queue.front();
    const bool ok = co_await deliver(target, name, body);
    target.queue.pop_front();
    ++(ok ? target.delivered : target.dropped);
  }
  target.sending = false;
  m_idle.expires_at(asio::steady_timer::time_point::min());
}

asio::awaitable<void> WebhookNotifier::flush() {
  std::chrono::milliseconds longest{0};
  for (const auto& target : m_targets) longest = std::max(longest, target.config.timeout);
  m_flush_deadline = m_clock.now() + longest;
  for (;;) {
    const bool busy = std::any_of(m_targets.begin(), m_targets.end(), [](const Target& t) { return t.sending; });
    if (!busy) co_return;
    m_idle.expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await m_idle.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

std::size_t WebhookNotifier::delivered() const {
  std::size_t n = 0;
  for (const auto& t : m_targets) n += t.delivered;
  return n;
}

std::size_t WebhookNotifier::dropped() const {
  std::size_t n = 0;
  for (const auto& t : m_targets) n += t.dropped;
  return n;
}

}  // namespace lbctl
