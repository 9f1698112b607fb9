#include "lbctl/cli/output.hpp"

#include "lbctl/cli/sinks.hpp"

#include <iostream>
#include <unistd.h>

#include "lbctl/cli/colour.hpp"
#include "lbctl/cli/table.hpp"

namespace lbctl {

std::unique_ptr<EventSink> make_output_sink(bool json, std::ostream& out) {
  if (json) return std::make_unique<JsonLinesSink>(out);
  if (stdout_is_terminal()) return std::make_unique<TerminalSink>(out, stdout_colour_wanted());
  return std::make_unique<PlainSink>(out);
}

CommandReporting::CommandReporting(const Config& config, bool json, health::HttpPoster& poster, Clock& clock,
                                   const boost::asio::any_io_executor& executor)
    : CommandReporting(config, make_output_sink(json, std::cout), poster, clock, executor) {}

CommandReporting::CommandReporting(const Config& config, std::unique_ptr<EventSink> output,
                                   health::HttpPoster& poster, Clock& clock,
                                   const boost::asio::any_io_executor& executor)
    : m_output(std::move(output)) {
  m_reporter.add(*m_output);
  if (!config.notifications.webhooks.empty()) {
    m_notifier = std::make_unique<WebhookNotifier>(config.notifications.webhooks, config.service, poster, clock,
                                                   executor, std::cerr);
    m_reporter.add(*m_notifier);
  }
}

boost::asio::awaitable<void> CommandReporting::flush() {
  if (m_notifier) co_await m_notifier->flush();
}

bool interactive() { return ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1; }

bool confirm(const std::string& question) {
  std::cout << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace lbctl
