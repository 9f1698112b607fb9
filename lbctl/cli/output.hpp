#pragma once
// Where a command's events go: JSON lines with --json, a live display on a
// terminal, plain lines when piped.

#include <iosfwd>
#include <memory>

#include "core/clock.hpp"
#include "health/http_post.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cutover/events.hpp"
#include "lbctl/cli/notifier.hpp"

namespace lbctl {

std::unique_ptr<EventSink> make_output_sink(bool json, std::ostream& out);

// A command's reporting: its output sink, plus the config's webhooks.
class CommandReporting {
 public:
  CommandReporting(const Config& config, bool json, health::HttpPoster& poster, Clock& clock,
                   const boost::asio::any_io_executor& executor);
  // Events to `output` (an agent's log) instead of stdout.
  CommandReporting(const Config& config, std::unique_ptr<EventSink> output, health::HttpPoster& poster, Clock& clock,
                   const boost::asio::any_io_executor& executor);
  EventSink& sink() { return m_reporter; }
  // Waits for queued webhooks (at most their timeout); a no-op without any.
  boost::asio::awaitable<void> flush();

 private:
  std::unique_ptr<EventSink> m_output;
  std::unique_ptr<WebhookNotifier> m_notifier;
  Reporter m_reporter;
};

// Asks on the terminal; true for "y" or "yes".
bool confirm(const std::string& question);

// True when both stdin and stdout are terminals.
bool interactive();

}  // namespace lbctl
