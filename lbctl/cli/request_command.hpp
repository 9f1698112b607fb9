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

using RequestFunction = std::function<boost::asio::awaitable<CutoverOutcome>(CutoverDeps, FollowOptions)>;

// One journaled event of a followed cutover on stdout: "step: text", or with
// `json` {"cutover_id", "step", "event", "details"} (abort, promote, undo,
// submit --wait).
void print_journal_event(const db::Event& e, bool json);

// -c, --json and --timeout (described by `timeout_help`) on `command`.
std::shared_ptr<RequestArgs> add_request_options(CLI::App& command, const std::string& timeout_help);

// Loads the config, opens the journal, runs `request` and prints its outcome
// (stdout when done, stderr otherwise); returns the exit code.
int run_request(const RequestArgs& args, const RequestFunction& request);

// One such command: its name, one line for the list of commands, the help
// of --timeout, the footer (what it does, its exit codes), and the request.
struct RequestCommand {
  std::string name;
  std::string description;
  std::string timeout_help;
  std::string footer;
  RequestFunction request;
};
// Adds it to `app`; when chosen, `action` runs the request.
CLI::App* add_request_command(CLI::App& app, std::function<int()>& action, RequestCommand command);

}  // namespace lbctl::cli
