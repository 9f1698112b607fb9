#pragma once
// Webhook notifications: a sink that turns a cutover's events (started,
// step, failed, rolled_back, completed) into Slack-compatible POSTs. Sending
// never blocks the cutover: each webhook has a queue, delivered in order on
// the event loop, each event retried with backoff within the webhook's
// timeout; one that cannot be delivered is logged and dropped. A webhook URL
// is a secret: only its scheme and host are ever printed.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "health/http_post.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cutover/events.hpp"

namespace lbctl {

// The webhook event an Event is, if any: "started", "step", "failed",
// "rolled_back" or "completed".
std::optional<std::string> webhook_event(const Event& event);

// The POST body: {"text", "service", "cutover_id", "event", "step",
// "details", "attachments": [{"fields": [...]}]}.
nlohmann::json webhook_body(const Event& event, const std::string& service, const std::string& name);

// "https://hooks.slack.com/..." (scheme and host only).
std::string webhook_origin(std::string_view url);

class WebhookNotifier final : public EventSink {
 public:
  WebhookNotifier(std::vector<WebhookConfig> webhooks, std::string service, health::HttpPoster& poster, Clock& clock,
                  boost::asio::any_io_executor executor, std::ostream& log);

  void emit(const Event& event) override;

  // Waits for what is queued, at most each webhook's timeout from now, then
  // drops the rest (logged). Call before the event loop ends.
  boost::asio::awaitable<void> flush();

  std::size_t delivered() const;
  std::size_t dropped() const;

 private:
  struct Target {
    WebhookConfig config;
    std::deque<std::pair<std::string, std::string>> queue;  // (event name, body)
    bool sending = false;
    std::size_t delivered = 0;
    std::size_t dropped = 0;
  };
  boost::asio::awaitable<void> send_queue(std::size_t index);
  boost::asio::awaitable<bool> deliver(Target& target, const std::string& name, const std::string& body);

  std::vector<Target> m_targets;
  std::string m_service;
  health::HttpPoster& m_poster;
  Clock& m_clock;
  boost::asio::any_io_executor m_executor;
  std::ostream& m_log;
  std::optional<Clock::TimePoint> m_flush_deadline;
  boost::asio::steady_timer m_idle;  // woken when a queue empties
};

}  // namespace lbctl
