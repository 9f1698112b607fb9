#include "lbctl/cli/wiring.hpp"

#include <sys/resource.h>

#include "lbctl/cli/db_setup.hpp"
#include "lbctl/cli/fleet_setup.hpp"
#include "lbctl/cli/provider_setup.hpp"

namespace lbctl {

namespace asio = boost::asio;

Wiring::Wiring(const Config& config, asio::io_context& io, const RuntimeApiWrap& wrap)
    : m_config(config),
      m_fleet(make_fleet(config, m_clock, m_processes, wrap)),
      m_prober(io, config.health.tls),
      m_loop(io.get_executor()) {
  m_provider = make_provider(config, m_processes, m_clock);
  if (config.migrations) {
    m_migrations_lane = std::make_unique<Lane>();
    m_migrator = std::make_unique<db::PgMigrator>(migrator_options(config, false), m_clock);
    if (auto options = backup_options(config)) {
      m_backup = std::make_unique<db::CommandBackup>(*options, m_processes, m_clock);
    }
  }
}

void Wiring::close_journal() {
  // The lane's thread is joined before the journal it runs calls on goes.
  m_lane_journal.reset();
  m_journal_lane.reset();
  m_journal.reset();
}

Result<void> Wiring::open_journal() {
  if (m_journal) return {};
  auto journal = db::PgJournal::open(journal_options(m_config));
  if (!journal) return std::unexpected(journal.error());  // it says "state database: ..."
  m_journal = std::move(*journal);
  m_journal_lane = std::make_unique<Lane>();
  m_lane_journal = std::make_unique<db::LaneJournal>(*m_journal, m_journal_lane->executor());
  return {};
}

CutoverDeps Wiring::deps(EventSink& events) {
  CutoverDeps deps{m_config, m_fleet, *m_provider, m_prober, *m_lane_journal, m_migrator.get(), {}, m_processes,
                   m_clock,  events,  this_host(), static_cast<int>(::getpid())};
  deps.journal_lane = Offload{m_loop, m_journal_lane->executor()};
  deps.unwrapped_journal = m_journal.get();
  if (m_migrations_lane) deps.migrations_lane = Offload{m_loop, m_migrations_lane->executor()};
  if (m_backup) {
    deps.backup = [this](std::int64_t cutover_id, std::string release) -> asio::awaitable<Result<std::string>> {
      const db::BackupRequest request{m_config.service, cutover_id, m_config.migrations->database_url, release};
      auto result = co_await m_backup->run(request);
      if (!result) co_return std::unexpected(result.error());
      co_return result->file.string();
    };
  }
  return deps;
}

void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace lbctl
