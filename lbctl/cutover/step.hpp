#pragma once
// The steps of a cutover, what the controller talks to, and how a run ended.
// What each step does, in which order each mode runs them and what a failure
// at each means is the step table (lbctl/cutover/step_table.hpp).

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/offload.hpp"
#include "core/error.hpp"
#include "core/process.hpp"
#include "db/journal.hpp"
#include "db/migrator.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cutover/events.hpp"
#include "lbctl/cutover/outcome.hpp"
#include "pools/fleet.hpp"
#include "pools/provider.hpp"

namespace lbctl {

namespace health {
class HttpProber;
}

enum class Step {
  preflight,
  backup,
  pre_migrate,
  freeze,
  clone,
  verify,
  attach,
  stages,
  promote,      // promotion.mode manual: paused, both pools serving, until promoted
  drain,
  watch,
  detach,
  undo_window,  // promotion.undo_window: the old servers kept ready to come back
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
  std::function<boost::asio::awaitable<Result<std::string>>(std::int64_t cutover_id, std::string release)> backup;
  ProcessRunner& processes;  // hooks
  Clock& clock;
  EventSink& events;
  std::string host;  // recorded as the cutover's owner
  int pid = 0;
  // The release a new cutover deploys; "": the journal names it r<cutover id>.
  // (Here rather than in CutoverOptions: GCC 12 miscopies a coroutine's
  // by-value aggregate parameter built from `{}` when it holds a string.)
  std::string release = {};
  // Set by `lbctl agent`: its name ("agent web2 (pid 4242)"), recorded with
  // the request it takes and in the events of a take-over; and the queued
  // request a new cutover carries out (0: none), taken in begin's commit.
  std::string agent = {};
  std::int64_t request_id = 0;
  std::string request_digest = {};  // the request's config_digest: a warning when it is not this config's
  // Blocking database work off the event loop (core/offload.hpp). With a
  // journal lane, `journal` waits for the lane itself (db::LaneJournal) and
  // `unwrapped_journal` is the journal it wraps, which the lane calls: the
  // run's own writes (events, saves, the heartbeat) are posted to the lane
  // against it without blocking the loop. Migrations run on their own lane.
  // Empty (unit tests): every call inline.
  Offload journal_lane{};
  db::Journal* unwrapped_journal = nullptr;
  Offload migrations_lane{};
  // Set by the command's first SIGINT/SIGTERM: the run rolls back as if
  // `lbctl abort` had asked, without waiting for the state database.
  std::shared_ptr<bool> interrupted = {};

  // The journal a call posted to the journal lane (or made inline) runs against.
  db::Journal& journal_on_lane() const { return unwrapped_journal ? *unwrapped_journal : journal; }
};

struct CutoverOptions {
  bool no_backup = false;
};

struct CutoverOutcome {
  Outcome outcome = Outcome::done;
  std::int64_t cutover_id = 0;
  std::string message;
};

}  // namespace lbctl
