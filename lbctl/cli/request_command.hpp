#pragma once
// What `abort`, `promote` and `undo` share: each asks the service's cutover
// for something through the journal, follows its events (printed as they
// come, JSON lines with --json) and ends with an outcome and its exit code.

#include <CLI/CLI.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>

#include "lbctl/cutover/abort.hpp"

namespace lbctl::cli {

struct RequestArgs {
  std::string file;
  bool json = false;
  std::string timeout;
};

using RequestFunction = std::function<boost::asio::awaitable<CutoverOutcome>(CutoverDeps, AbortOptions)>;

// -c, --json and --timeout (described by `timeout_help`) on `command`.
std::shared_ptr<RequestArgs> add_request_options(CLI::App& command, const std::string& timeout_help);

// Loads the config, opens the journal, runs `request` and prints its outcome
// (stdout when done, stderr otherwise); returns the exit code.
int run_request(const RequestArgs& args, const RequestFunction& request);

}  // namespace lbctl::cli
