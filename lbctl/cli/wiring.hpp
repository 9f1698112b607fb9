#pragma once
// The real collaborators a config describes, on one io_context: the HAProxy
// fleet, the provider, the HTTP prober, the journal, the migrator and the
// backup. Commands build one and hand its deps() to the controller.

#include <boost/asio/io_context.hpp>
#include <memory>

#include "core/process.hpp"
#include "core/offload.hpp"
#include "db/backup.hpp"
#include "db/lane_journal.hpp"
#include "lbctl/cli/fleet_setup.hpp"
#include "db/pg_journal.hpp"
#include "db/pg_migrator.hpp"
#include "health/curl_prober.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/cutover/cutover.hpp"
#include "pools/fleet.hpp"

namespace lbctl {

class Wiring {
 public:
  // `wrap` makes each LB's runtime API client from the socket client (serve's shared reads).
  Wiring(const Config& config, boost::asio::io_context& io, const RuntimeApiWrap& wrap = {});
  Wiring(const Wiring&) = delete;
  Wiring& operator=(const Wiring&) = delete;

  // Connects to the state database (creating or upgrading schema lbctl).
  // unreachable when it cannot.
  Result<void> open_journal();
  // Lets the journal go (its connection broke: a restart, a failover), so
  // the next open_journal() connects again. Only between calls; never while
  // a cutover holds the service lock through it.
  void close_journal();

  const Config& config() const { return m_config; }
  Clock& clock() { return m_clock; }
  pools::Fleet& fleet() { return m_fleet; }
  // Every call runs on the journal's lane (its own thread), the caller waiting.
  db::Journal& journal() { return *m_lane_journal; }
  // True when the journal's lane has nothing left hanging, within `timeout`.
  bool journal_settles(std::chrono::milliseconds timeout) const {
    return !m_journal_lane || m_journal_lane->settles(timeout);
  }
  db::Migrator* migrator() { return m_migrator.get(); }
  pools::Provider& provider() { return *m_provider; }
  health::HttpProber& prober() { return m_prober; }
  health::HttpPoster& poster() { return m_prober; }

  // Everything the controller needs; open_journal() first.
  CutoverDeps deps(EventSink& events);

 private:
  const Config& m_config;
  SteadyClock m_clock;
  PosixProcessRunner m_processes;
  pools::Fleet m_fleet;
  std::unique_ptr<pools::Provider> m_provider;
  health::CurlProber m_prober;
  std::unique_ptr<db::PgJournal> m_journal;
  std::unique_ptr<db::PgMigrator> m_migrator;
  std::unique_ptr<db::CommandBackup> m_backup;
  boost::asio::any_io_executor m_loop;
  // The threads libpq blocks on, joined before the journal and the migrator go.
  std::unique_ptr<Lane> m_journal_lane;
  std::unique_ptr<Lane> m_migrations_lane;
  std::unique_ptr<db::LaneJournal> m_lane_journal;
};

// Lets this process hold a descriptor per server and per LB connection: a
// 1,000-server pool needs more than the usual 1,024.
void raise_open_file_limit();

}  // namespace lbctl
