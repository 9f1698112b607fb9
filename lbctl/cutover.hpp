#pragma once
// The cutover: steps 0-13 of DESIGN.md, each an idempotent "ensure",
// journaled before and after, so that a SIGKILL at any instant can be resumed
// (`resume`) or rolled back (`abort`). The controller sees only interfaces:
// the LB fleet (over RuntimeApi), the provider, the HTTP prober, the journal,
// the migrator, process spawning for hooks, and a clock.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/process.hpp"
#include "db/journal.hpp"
#include "db/migrator.hpp"
#include "lbctl/config.hpp"
#include "lbctl/events.hpp"
#include "pools/fleet.hpp"
#include "pools/provider.hpp"

namespace lbctl {

namespace health {
class HttpProber;
}

// Every step of either flow (lbctl/flow.hpp says which, in what order).
enum class Step {
  preflight,
  backup,
  pre_migrate,
  freeze,
  clone,
  verify,
  attach,
  stages,
  drain,
  watch,
  detach,
  post_migrate,
  unfreeze,
  terminate,
  rollback,
  // mode: maintenance
  maintenance_on,
  migrate,  // pre and post in one transaction
  maintenance_off,
};

std::string_view to_string(Step step);
std::optional<Step> parse_step(std::string_view text);

// Everything the controller talks to. References must outlive the run.
struct CutoverDeps {
  const Config& config;
  pools::Fleet& fleet;
  pools::Provider& provider;
  lbctl::health::HttpProber& prober;
  db::Journal& journal;
  db::Migrator* migrator = nullptr;  // null when the config has no migrations
  // Runs the backup before migrations; returns the backup file's path.
  std::function<boost::asio::awaitable<Result<std::string>>(std::int64_t cutover_id)> backup;
  ProcessRunner& processes;  // hooks
  Clock& clock;
  EventSink& events;
  std::string host;  // recorded as the cutover's owner
  int pid = 0;
};

struct CutoverOptions {
  bool no_backup = false;
};

struct CutoverOutcome {
  int exit_code = 0;  // lbctl/exit_codes.hpp
  std::int64_t cutover_id = 0;
  std::string message;
};

// A new cutover from step 0.
boost::asio::awaitable<CutoverOutcome> run_cutover(CutoverDeps deps, CutoverOptions options);
// Finishes the service's interrupted (or needs_operator) cutover from its
// journaled step, looking at the LBs first.
boost::asio::awaitable<CutoverOutcome> resume_cutover(CutoverDeps deps);
// Rolls back the service's interrupted (or needs_operator) cutover whose
// process is gone.
boost::asio::awaitable<CutoverOutcome> rollback_cutover(CutoverDeps deps);

}  // namespace lbctl
